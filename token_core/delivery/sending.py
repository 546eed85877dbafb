"""Sending a code to the beneficiary on the channel the dentist chose: the destination follows
`contacts.ContactRules`; the channel used becomes the default; a failed delivery revokes the
code it issued (and only that one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from token_core import outbox
from token_core.chat import links
from token_core.codes.issuance import IssuedCode, TokenIssuer
from token_core.delivery.contacts import ContactRules
from token_core.delivery.port import CodeMessage, CodeSender, DeliveryFailed, GuideSummary
from token_core.errors import ChannelUnavailable, GuideNotFound
from token_core.guides import queries as guide_queries
from token_core.persistence.models import Beneficiary, Guide
from token_core.persistence.transactions import atomic
from token_core.registry.identity import Mobile, mask_email
from token_core.vocabulary import CHAT_CHANNELS, Channel, EventType, iso_utc

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
        registered_at=guide.created_at,
    )


class CodeSending:
    def __init__(
        self,
        issuer: TokenIssuer,
        senders: Mapping[Channel, CodeSender],
        rules: ContactRules,
    ) -> None:
        self._issuer = issuer
        self._senders = senders
        self._rules = rules

    @property
    def channels(self) -> set[Channel]:
        """The channels this deployment can send codes on."""
        return set(self._senders)

    async def send(
        self, request: SendRequest, actor: str, *, client: str | None = None
    ) -> SendReceipt:
        """Send a code for the guide; an API `client` pays the checks and the code from its
        hourly budgets (token_core/codes/budget.py).
        """
        sender = self._senders.get(request.channel)
        if sender is None:
            raise ChannelUnavailable(
                "Canal ainda não disponível. Use SMS, e-mail ou o SAB para enviar o token."
            )
        guide = await guide_queries.with_beneficiary(request.numero)
        if guide is None:
            raise GuideNotFound()
        beneficiary = guide.beneficiary
        destination, new_contact = await self._rules.destination(
            request.channel,
            beneficiary,
            mobile=request.mobile,
            email=request.email,
            cpf=request.cpf,
            actor=actor,
            client=client,
        )
        if new_contact is not None:
            await self._rules.claim(beneficiary, request.channel, new_contact)
        try:
            # Not live until delivered: a failed re-send leaves the code sent before working.
            issued = await self._issuer.for_guide(
                request.numero, request.channel, actor, live=False, client=client
            )
            await self._deliver(sender, issued, request.channel, destination, actor)
            issued = await self._issuer.activate(issued)
        except BaseException:
            if new_contact is not None:
                await asyncio.shield(self._rules.release(beneficiary, request.channel, new_contact))
            raise
        masked = _mask(request.channel, destination)
        await self._delivered(issued, request.channel, actor, masked)
        return SendReceipt(request.channel, masked, issued.expires_at)

    async def _deliver(
        self,
        sender: CodeSender,
        issued: IssuedCode,
        channel: Channel,
        destination: str,
        actor: str,
    ) -> None:
        message = CodeMessage(
            channel=channel,
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
            await self._issuer.record_delivery(issued, channel, actor, error=str(exc))
            raise
        except BaseException as exc:
            # Whatever stopped the delivery (a bug, a cancelled request), the code must not
            # stay live unseen: revoke it even while being cancelled.
            failure = self._issuer.record_delivery(
                issued, channel, actor, error=f"interrupted: {type(exc).__name__}"
            )
            await asyncio.shield(failure)
            raise

    async def _delivered(
        self, issued: IssuedCode, channel: Channel, actor: str, masked: str
    ) -> None:
        async with atomic():
            await self._issuer.record_delivery(issued, channel, actor)
            await outbox.enqueue(
                EventType.TOKEN_SENT,
                {
                    "numero": issued.scope.guide,
                    "carteirinha": issued.scope.beneficiary,
                    "canal": channel.value,
                    "destino": masked,
                    "expira_em": iso_utc(issued.expires_at),
                },
            )


def _mask(channel: Channel, destination: str) -> str:
    if channel in CHAT_CHANNELS:
        return CHAT_CHANNELS[channel]
    if channel is Channel.SMS:
        return Mobile(destination).masked
    return mask_email(destination)


def _now() -> datetime:
    return datetime.now(UTC)


async def reachability(beneficiary: Beneficiary, available: set[Channel]) -> Reachability:
    """Which channels can reach the beneficiary now, with masked destinations."""
    linked = await links.channels_of(beneficiary.id)
    return Reachability(
        default=beneficiary.default_channel,
        sms=Mobile(beneficiary.mobile).masked if beneficiary.mobile else None,
        email=mask_email(beneficiary.email) if beneficiary.email else None,
        telegram=Channel.TELEGRAM in linked and Channel.TELEGRAM in available,
        whatsapp=Channel.WHATSAPP in linked and Channel.WHATSAPP in available,
    )
