"""Sending a code to the beneficiary on a channel the dentist chose, with the seed's rules:
SMS goes to the registered mobile (a first number typed becomes the registered one; another
number is refused: only the SAB changes it); e-mail needs the CPF to match; the channel used
becomes the default; a failed delivery revokes the code.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from token_core import outbox
from token_core.delivery import CodeMessage, CodeSender, DeliveryFailed, GuideSummary
from token_core.errors import (
    ChangeOnlyBySab,
    ChannelUnavailable,
    ContactRequired,
    CpfMismatch,
)
from token_core.identity import Cpf, Mobile, mask_email
from token_core.issuance import IssuedCode, TokenIssuer
from token_core.models import Beneficiary, Channel, ChatLink, Guide
from token_core.registry import parse_email
from token_core.secrets import Keyring

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendRequest:
    numero: str
    channel: Channel
    mobile: str | None = None
    email: str | None = None
    cpf: str | None = None


@dataclass(frozen=True, slots=True)
class SendReceipt:
    channel: Channel
    destination: str  # masked
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Reachability:
    default: Channel | None
    sms: str | None  # masked destinations
    email: str | None
    telegram: bool
    whatsapp: bool


def guide_summary(guide: Guide) -> GuideSummary:
    return GuideSummary(
        numero=guide.numero,
        dentist_name=guide.dentist_name,
        dentist_cro=guide.dentist_cro,
        clinic=guide.clinic,
        procedures=[str(p.get("descricao") or p.get("codigo")) for p in guide.procedures],
    )


class CodeSending:
    def __init__(
        self, issuer: TokenIssuer, senders: Mapping[Channel, CodeSender], keyring: Keyring
    ) -> None:
        self._issuer = issuer
        self._senders = senders
        self._keyring = keyring

    @property
    def channels(self) -> set[Channel]:
        """The channels this deployment can send codes on."""
        return set(self._senders)

    async def send(self, request: SendRequest, actor: str) -> SendReceipt:
        sender = self._senders.get(request.channel)
        if sender is None:
            raise ChannelUnavailable(
                "Canal ainda não disponível. Use SMS, e-mail ou o SAB para enviar o token."
            )
        guide = await Guide.get_or_none(numero=request.numero).select_related("beneficiary")
        beneficiary = guide.beneficiary if guide else None
        destination, new_contact = self._destination(request, beneficiary)
        issued = await self._issuer.for_guide(request.numero, request.channel, actor)
        message = CodeMessage(
            channel=request.channel,
            destination=destination,
            beneficiary_name=issued.beneficiary.name,
            code=issued.code,
            expires_at=issued.expires_at,
            ttl_minutes=max(round((issued.expires_at - _now()).total_seconds() / 60), 1),
            guide=guide_summary(issued.guide) if issued.guide else None,
        )
        try:
            await sender.send(message)
        except DeliveryFailed as exc:
            await self._issuer.record_delivery(issued, request.channel, actor, error=str(exc))
            raise
        except BaseException as exc:
            # Whatever stopped the delivery (a bug, a cancelled request), the code must not
            # stay live unseen: revoke it even while being cancelled.
            failure = self._issuer.record_delivery(
                issued, request.channel, actor, error=f"interrupted: {type(exc).__name__}"
            )
            await asyncio.shield(failure)
            raise
        masked = _mask(request.channel, destination)
        await self._delivered(issued, request.channel, actor, new_contact, masked)
        return SendReceipt(request.channel, masked, issued.expires_at)

    def _destination(
        self, request: SendRequest, beneficiary: Beneficiary | None
    ) -> tuple[str, str | None]:
        """Where the code goes, and the contact to register after a good delivery (if new)."""
        if beneficiary is None:
            return "", None  # the issuer raises GuideNotFound
        if request.channel is Channel.SMS:
            typed = Mobile.parse(request.mobile).e164 if request.mobile else None
            if beneficiary.mobile:
                if typed and typed != beneficiary.mobile:
                    raise ChangeOnlyBySab("do celular")
                return beneficiary.mobile, None
            if typed is None:
                raise ContactRequired("celular", "Informe o celular do beneficiário com DDD.")
            return typed, typed
        if request.channel is Channel.EMAIL:
            if not request.cpf:
                raise ContactRequired(
                    "cpf", "Informe o CPF do beneficiário para enviar por e-mail."
                )
            cpf = Cpf.parse(request.cpf)
            if not hmac.compare_digest(self._keyring.cpf_lookup(cpf.digits), beneficiary.cpf_hash):
                raise CpfMismatch()
            typed = parse_email(request.email) if request.email else None
            if beneficiary.email:
                if typed and typed != beneficiary.email.lower():
                    raise ChangeOnlyBySab("do e-mail")
                return beneficiary.email, None
            if typed is None:
                raise ContactRequired("email", "Informe o e-mail do beneficiário.")
            return typed, typed
        raise ChannelUnavailable()

    async def _delivered(
        self,
        issued: IssuedCode,
        channel: Channel,
        actor: str,
        new_contact: str | None,
        masked: str,
    ) -> None:
        async with in_transaction():
            await self._issuer.record_delivery(issued, channel, actor)
            if new_contact is not None:
                field = "mobile" if channel is Channel.SMS else "email"
                await Beneficiary.filter(id=issued.beneficiary.id).update(**{field: new_contact})
            await outbox.enqueue(
                outbox.EventType.TOKEN_SENT,
                {
                    "numero": issued.scope.guide,
                    "carteirinha": issued.scope.beneficiary,
                    "canal": channel.value,
                    "destino": masked,
                    "expira_em": issued.expires_at.isoformat(),
                },
            )


def _mask(channel: Channel, destination: str) -> str:
    if channel is Channel.SMS:
        return Mobile(destination).masked
    return mask_email(destination)


def _now() -> datetime:
    return datetime.now(UTC)


async def reachability(beneficiary: Beneficiary, available: set[Channel]) -> Reachability:
    """Which channels can reach the beneficiary now, with masked destinations."""
    rows = await ChatLink.filter(beneficiary_id=beneficiary.id, revoked_at=None).values_list(
        "channel", flat=True
    )
    linked = {Channel(str(row)) for row in rows}
    return Reachability(
        default=beneficiary.default_channel,
        sms=Mobile(beneficiary.mobile).masked if beneficiary.mobile else None,
        email=mask_email(beneficiary.email) if beneficiary.email else None,
        telegram=Channel.TELEGRAM in linked and Channel.TELEGRAM in available,
        whatsapp=Channel.WHATSAPP in linked and Channel.WHATSAPP in available,
    )
