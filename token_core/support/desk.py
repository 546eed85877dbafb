"""What only the SAB does, each with a required reason, audited with the agent: a code given
by phone, a new mobile or e-mail, unlocking a guide or a chat's linking, unlinking a chat,
resolving a fraud report, and answering a chat in place of the bot.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import MutableMapping
from dataclasses import dataclass

from token_core import audit, outbox
from token_core.chat import links
from token_core.chat.conversations import ChatRef, Conversations
from token_core.chat.linking import ChatLinking
from token_core.chat.messages import ChatOutbound, Outgoing
from token_core.chat.redaction import mask_sensitive
from token_core.chat.transcripts import Transcripts
from token_core.codes.issuance import IssuedCode, TokenIssuer
from token_core.codes.single_use import Scope
from token_core.delivery.contacts import ContactRules
from token_core.errors import (
    ChannelUnavailable,
    DomainError,
    GuideConflict,
    GuideNotFound,
)
from token_core.guides import queries as guide_queries
from token_core.guides.service import GuideService
from token_core.persistence.models import Beneficiary, FraudReport
from token_core.persistence.transactions import atomic
from token_core.registry import beneficiaries
from token_core.registry.identity import Mobile
from token_core.registry.importer import parse_email
from token_core.support.agents import SignedIn
from token_core.vocabulary import (
    AuditKind,
    Channel,
    Direction,
    EventType,
    iso_utc,
    utc_now,
)

logger = logging.getLogger(__name__)
MIN_REASON = 5
NOT_DELIVERED = "A mensagem não chegou ao chat agora. Tente de novo em instantes."
FRAUD_OUTCOMES = ("procedente", "improcedente")


class ReasonRequired(DomainError):
    def __init__(self) -> None:
        super().__init__("Informe o motivo (ao menos 5 caracteres).")


class GuideOfAnother(DomainError):
    def __init__(self) -> None:
        super().__init__("Esta guia não é deste beneficiário.")


class ChatNotHeld(DomainError):
    def __init__(self) -> None:
        super().__init__("Esta conversa não está com você. Assuma a conversa antes de escrever.")


def reason_of(text: str) -> str:
    """The typed reason, masked (an agent may paste a CPF into it); refused when too short."""
    reason = " ".join(text.split())
    if len(reason) < MIN_REASON:
        raise ReasonRequired()
    return mask_sensitive(reason)[:500]


@dataclass(frozen=True, slots=True)
class PhoneCode:
    """A code the agent reads to the caller: shown once, never stored."""

    issued: IssuedCode


class SabDesk:
    def __init__(
        self,
        issuer: TokenIssuer,
        guides: GuideService,
        contacts: ContactRules,
        linking: ChatLinking,
        transcripts: Transcripts,
        outbound: MutableMapping[Channel, ChatOutbound],
    ) -> None:
        self._issuer = issuer
        self._guides = guides
        self._contacts = contacts
        self._linking = linking
        self._transcripts = transcripts
        self.conversations: Conversations = transcripts.conversations
        self.outbound = outbound  # filled by each chat channel as it starts

    # — codes and contacts ————————————————————————————————————————————————————————————

    async def phone_code(
        self, agent: SignedIn, carteirinha: str, cpf: str, numero: str | None, reason: str
    ) -> PhoneCode:
        """A code for a caller who confirmed the CPF: for a waiting guide, or (numero None)
        the next one, through the same issuer (limits, audit) on channel SAB.
        """
        why = reason_of(reason)
        beneficiary = await beneficiaries.active(carteirinha)
        await self._contacts.check_cpf(beneficiary, cpf, agent.actor, Channel.SAB)
        if numero:
            if await guide_queries.guide_of(numero, beneficiary.id) is None:
                raise GuideOfAnother()
            issued = await self._issuer.for_guide(numero, Channel.SAB, agent.actor)
        else:
            issued = await self._issuer.for_beneficiary(carteirinha, Channel.SAB, agent.actor)
        await audit.For(
            agent.actor, guide=numero or None, carteirinha=carteirinha, channel=Channel.SAB
        ).record(AuditKind.TOKEN_DELIVERED, motivo=why, por="telefone")
        if beneficiary.default_channel is not Channel.SAB:  # the channel used becomes the default
            await beneficiaries.set_default_channel(beneficiary.id, Channel.SAB)
        return PhoneCode(issued)

    async def change_mobile(
        self, agent: SignedIn, carteirinha: str, new_mobile: str, reason: str
    ) -> Mobile:
        why = reason_of(reason)
        mobile = Mobile.parse(new_mobile)
        beneficiary = await beneficiaries.active(carteirinha)
        if beneficiary.mobile == mobile.e164:
            raise DomainError("Este já é o celular cadastrado.")
        await self._change_contact(agent, beneficiary, "mobile", mobile.e164, why)
        return mobile

    async def change_email(
        self, agent: SignedIn, carteirinha: str, new_email: str, reason: str
    ) -> str:
        why = reason_of(reason)
        email = parse_email(new_email)
        beneficiary = await beneficiaries.active(carteirinha)
        if (beneficiary.email or "").lower() == email:
            raise DomainError("Este já é o e-mail cadastrado.")
        await self._change_contact(agent, beneficiary, "email", email, why)
        return email

    async def _change_contact(
        self, agent: SignedIn, beneficiary: Beneficiary, field: str, value: str, why: str
    ) -> None:
        """New contact; live codes (possibly sent to the old one) revoked; for a mobile, the
        chat links it proved are revoked; a default channel that pointed at it is cleared.
        """
        now = utc_now()
        carteirinha = beneficiary.carteirinha
        changes: dict[str, object] = {field: value, f"{field}_source": beneficiaries.SOURCE_SAB}
        revoked_links = 0
        async with atomic():
            if field == "mobile":
                revoked_links = await links.revoke_of_carteirinhas([carteirinha], now)
                if beneficiary.default_channel in (Channel.SMS, Channel.TELEGRAM, Channel.WHATSAPP):
                    changes["default_channel"] = None
            elif beneficiary.default_channel is Channel.EMAIL:
                changes["default_channel"] = None
            await Beneficiary.filter(id=beneficiary.id).update(**changes)
            await audit.For(agent.actor, carteirinha=carteirinha, channel=Channel.SAB).record(
                AuditKind.CONTACT_CHANGED,
                motivo=why,
                campo="celular" if field == "mobile" else "email",
                vinculos_revogados=revoked_links,
            )
            await outbox.enqueue(
                EventType.CONTACT_CHANGED,
                {
                    "carteirinha": carteirinha,
                    "campo": "celular" if field == "mobile" else "email",
                    "alterado_em": iso_utc(now),
                },
            )
        for numero in [None, *[g.numero for g in await guide_queries.awaiting(beneficiary.id)]]:
            await self._issuer.revoke(Scope(carteirinha, numero), "contact_changed", agent.actor)

    # — locks and links ———————————————————————————————————————————————————————————————

    async def unlock_guide(
        self, agent: SignedIn, numero: str, reason: str, carteirinha: str | None = None
    ) -> bool:
        """Desbloquear guia; False (audited too) when it was not locked."""
        why = reason_of(reason)
        guide = await guide_queries.with_beneficiary(numero)
        if guide is None:
            raise GuideNotFound()
        if carteirinha is not None and guide.beneficiary.carteirinha != carteirinha:
            raise GuideOfAnother()
        unlocked = await self._guides.unlock(numero, agent.actor, why)
        if not unlocked:
            await audit.For(
                agent.actor, guide=numero, carteirinha=guide.beneficiary.carteirinha
            ).record(AuditKind.GUIDE_UNLOCKED, motivo=why, estava_bloqueada=False)
        return unlocked

    async def unlock_linking(
        self, agent: SignedIn, chat: ChatRef, reason: str, carteirinha: str | None = None
    ) -> bool:
        """Lift a chat's linking lock (after wrong CPFs); False when it was not locked."""
        why = reason_of(reason)
        unlocked = await self._linking.unlock(chat.channel, chat.chat_id)
        await audit.For(agent.actor, carteirinha=carteirinha, channel=chat.channel).record(
            AuditKind.CHAT_LINK_UNLOCKED, motivo=why, chat=chat.chat_id, estava_bloqueado=unlocked
        )
        return unlocked

    async def unlink_chat(
        self, agent: SignedIn, chat: ChatRef, reason: str, carteirinha: str | None = None
    ) -> bool:
        """Desvincular chat (and close its conversation); False when it was not linked."""
        why = reason_of(reason)
        if carteirinha is not None:
            link = await links.active_for(chat.channel, chat.chat_id)
            if link is not None and link.beneficiary.carteirinha != carteirinha:
                raise DomainError("Este chat está vinculado a outro beneficiário.")
        done = await self._linking.unlink(chat.channel, chat.chat_id, agent.actor, why)
        if done:
            await self.conversations.close(chat)
        return done

    # — fraud reports ——————————————————————————————————————————————————————————————————

    async def resolve_fraud(
        self, agent: SignedIn, report_id: int, outcome: str, note: str, reason: str
    ) -> FraudReport:
        """Resolver: the outcome, a note (masked) and the agent, once per report (a second
        agent gets GuideConflict); audited with the reason and told to the dentist system as
        `fraude.resolvida`, in one transaction. Nothing is written when the reason is missing.
        """
        why = reason_of(reason)
        if outcome not in FRAUD_OUTCOMES:
            raise DomainError("Escolha o resultado: procedente ou improcedente.")
        now = utc_now()
        async with atomic():
            done = await FraudReport.filter(id=report_id, resolved_at=None).update(
                resolved_at=now,
                outcome=outcome,
                note=mask_sensitive(note.strip()[:2000]),
                resolved_by=agent.login,
            )
            if not done:
                raise GuideConflict("Este relato já foi resolvido ou não existe.")
            report = await FraudReport.get(id=report_id).select_related("beneficiary")
            carteirinha = report.beneficiary.carteirinha
            await audit.For(
                agent.actor, guide=report.guide_numero, carteirinha=carteirinha, channel=Channel.SAB
            ).record(AuditKind.FRAUD_RESOLVED, motivo=why, resultado=outcome, relato=report.id)
            await outbox.enqueue(
                EventType.FRAUD_RESOLVED,
                {
                    "numero": report.guide_numero,
                    "carteirinha": carteirinha,
                    "resultado": outcome,
                    "relatado_em": iso_utc(report.at),
                    "resolvido_em": iso_utc(now),
                },
            )
        return report

    # — hand-off ——————————————————————————————————————————————————————————————————————

    async def take(self, agent: SignedIn, chat: ChatRef) -> bool:
        """Assumir: the bot stops for this chat; False when another agent holds it (pressing
        again on a chat one already holds is fine).
        """
        if await self.conversations.take(chat, agent.login):
            await audit.For(agent.actor, channel=chat.channel).record(
                AuditKind.HANDOFF_TAKEN, chat=chat.chat_id
            )
            return True
        return await self.conversations.held_by(chat) == agent.login

    async def say(self, agent: SignedIn, chat: ChatRef, text: str) -> None:
        """The agent's message, through the chat's own channel, into the transcript."""
        text = text.strip()
        if not text:
            raise DomainError("Escreva a mensagem.")
        if await self.conversations.held_by(chat) != agent.login:
            raise ChatNotHeld()
        await self.notify(chat, text[:4000], agent=agent)

    async def give_back(self, agent: SignedIn, chat: ChatRef, farewell: str) -> bool:
        """Devolver ao bot: the beneficiary is told; a supervisor may hand back anyone's chat.
        False when the chat was not the agent's to hand back.
        """
        back = await self.conversations.give_back(chat, None if agent.supervisor else agent.login)
        if back:
            await audit.For(agent.actor, channel=chat.channel).record(
                AuditKind.HANDOFF_RETURNED, chat=chat.chat_id
            )
            with contextlib.suppress(ChannelUnavailable):  # handed back all the same
                await self.notify(chat, farewell)
        return back

    async def notify(self, chat: ChatRef, text: str, agent: SignedIn | None = None) -> None:
        """Write to a chat outside a reply (an agent's message, a notice), transcribed once it
        went out. ChannelUnavailable when the chat's channel is not running here or refused it.
        """
        channel = self.outbound.get(chat.channel)
        if channel is None:
            raise ChannelUnavailable("Este canal de chat não está ativo neste servidor.")
        try:
            await channel.send(chat.chat_id, Outgoing(text))
        except Exception as exc:  # the platform refused it or was unreachable
            logger.warning("message to chat %s not delivered: %s", chat.key, type(exc).__name__)
            raise ChannelUnavailable(NOT_DELIVERED) from exc
        await self._transcripts.record(chat.channel, chat.chat_id, Direction.OUT, text)
        if agent is not None:
            await audit.For(agent.actor, channel=chat.channel).record(
                AuditKind.AGENT_MESSAGE, chat=chat.chat_id
            )
