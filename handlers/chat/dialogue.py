"""The chat dialogue, written once for every channel: `Incoming` in, `Reply` out.

Thin: it recognises what was asked and calls the core. State lives in the ephemeral store, so
any worker can take the next message of a chat.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from handlers.chat import texts
from handlers.chat.intents import Intent, intent_of
from handlers.chat.linking_flow import LinkingFlow, ask_contact
from handlers.chat.state import StateStore
from handlers.chat.token_flow import FRAUD_PREFIX, GUIDE_PREFIX, TokenFlow
from token_core import audit
from token_core.chat import links
from token_core.chat.conversations import ChatRef
from token_core.chat.messages import Incoming, Outgoing, Reply
from token_core.chat.redaction import looks_like_cpf
from token_core.guides import queries as guide_queries
from token_core.persistence.models import Beneficiary
from token_core.services import Services
from token_core.vocabulary import (
    BRASILIA,
    CHAT_CHANNELS,
    AuditKind,
    Channel,
    ConversationState,
    Direction,
)

logger = logging.getLogger(__name__)
LOCK_SECONDS = 15.0  # longest a message may hold its chat (a dead worker's lock expires then)
LOCK_POLL_SECONDS = 0.05


class Dialogue:
    def __init__(
        self, services: Services, ttl_minutes: int, busy_wait_seconds: float = LOCK_SECONDS + 1
    ) -> None:
        self._services = services
        self._busy_wait = busy_wait_seconds
        self._conversations = services.transcripts.conversations
        self._states = StateStore(services.store)
        self._linking = LinkingFlow(services.linking, self._states)
        self._tokens = TokenFlow(services.issuer, services.fraud, ttl_minutes)

    async def handle(self, msg: Incoming) -> Reply:
        """One message at a time per chat, across workers (a lock in the shared store).

        The rule on a busy chat: wait as long as a lock can live; if the chat is still busy
        then (its holder is alive and stuck), refuse the message with a "try again" reply.
        A message never runs without the lock.
        """
        lock = f"chat-lock:{msg.channel.value}:{msg.chat_id}"
        owner = uuid.uuid4().hex
        if not await self._acquire(lock, owner, wait_seconds=self._busy_wait):
            logger.warning("chat %s:%s still busy; message refused", msg.channel, msg.chat_id)
            return Reply((Outgoing(texts.BUSY),))
        try:
            return await self._handle(msg)
        finally:
            await self._services.store.delete_if(lock, owner)

    async def _acquire(self, lock: str, owner: str, wait_seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while not await self._services.store.set_if_absent(lock, owner, LOCK_SECONDS):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(LOCK_POLL_SECONDS)
        return True

    async def _handle(self, msg: Incoming) -> Reply:
        link = await links.active_for(msg.channel, msg.chat_id)
        beneficiary = link.beneficiary if link else None
        await self._transcribe_in(msg, beneficiary)
        chat = ChatRef(msg.channel, msg.chat_id)
        if await self._conversations.state(chat) is ConversationState.WITH_AGENT:
            return await self._quiet(msg, beneficiary)
        if beneficiary is None:
            reply = await self._linking.handle(
                msg, await self._states.load(msg.channel, msg.chat_id)
            )
        else:
            reply = await self._linked(msg, beneficiary)
        for out in reply.messages:
            await self._services.transcripts.record(
                msg.channel,
                msg.chat_id,
                Direction.OUT,
                out.text,
                beneficiary_id=beneficiary.id if beneficiary else None,
                codes=[out.code.reveal()] if out.code else (),
            )
        return reply

    async def _quiet(self, msg: Incoming, beneficiary: Beneficiary | None) -> Reply:
        """An agent answers this chat: the bot says nothing. A "não reconheço" pressed meanwhile
        still stops the code and files the report (the agent sees the fraud flag); the button
        gets only its toast.
        """
        data = msg.callback_data or ""
        if beneficiary is not None and data.startswith(FRAUD_PREFIX):
            reported = await self._tokens.not_mine(msg, beneficiary, data[len(FRAUD_PREFIX) :])
            return Reply(notice=reported.notice)
        return Reply()

    async def delivered(self, out: Outgoing, channel: Channel, error: str | None = None) -> None:
        """The transport tells whether a code message reached the chat (else it is revoked)."""
        if out.issued is not None:
            await self._services.issuer.record_delivery(
                out.issued, channel, actor=f"chat:{channel.value}", error=error
            )

    async def _transcribe_in(self, msg: Incoming, beneficiary: Beneficiary | None) -> None:
        text = msg.text or ("[contato compartilhado]" if msg.contact_phone else None)
        if msg.callback_data:
            text = f"[botão {msg.callback_data}]"
        if text:
            await self._services.transcripts.record(
                msg.channel,
                msg.chat_id,
                Direction.IN,
                text,
                beneficiary_id=beneficiary.id if beneficiary else None,
            )

    async def _linked(self, msg: Incoming, beneficiary: Beneficiary) -> Reply:
        data = msg.callback_data or ""
        if data.startswith(GUIDE_PREFIX):
            return await self._tokens.chosen(msg, beneficiary, data[len(GUIDE_PREFIX) :])
        if data.startswith(FRAUD_PREFIX):
            return await self._tokens.not_mine(msg, beneficiary, data[len(FRAUD_PREFIX) :])
        if msg.text and looks_like_cpf(msg.text):
            erase = Outgoing(texts.CPF_DELETED, delete_message_id=msg.message_id)
            return Reply((erase, Outgoing(texts.HELP, menu=texts.MENU)))
        match intent_of(msg.text or ""):
            case Intent.TOKEN:
                return await self._tokens.generate(msg, beneficiary)
            case Intent.GUIDES:
                return Reply((await self._guides(beneficiary),))
            case Intent.HUMAN:
                return Reply((await self._human(msg, beneficiary),))
            case Intent.UNLINK:
                await self._services.linking.unlink(msg.channel, msg.chat_id)
                canal = CHAT_CHANNELS.get(msg.channel, "chat")
                return Reply((ask_contact(texts.UNLINKED.format(canal=canal)),))
        return Reply((Outgoing(texts.HELP, menu=texts.MENU),))

    async def _guides(self, beneficiary: Beneficiary) -> Outgoing:
        waiting = await guide_queries.awaiting(beneficiary.id)
        if not waiting:
            return Outgoing(texts.NO_GUIDES, menu=texts.MENU)
        lines = [
            texts.GUIDE_ITEM.format(
                numero=g.numero,
                dentista=g.dentist_name,
                data=f"{g.created_at.astimezone(BRASILIA):%d/%m %H:%M}",
            )
            for g in waiting
        ]
        return Outgoing("\n".join([texts.GUIDES_HEADER, *lines]), menu=texts.MENU)

    async def _human(self, msg: Incoming, beneficiary: Beneficiary) -> Outgoing:
        await audit.For(
            f"chat:{msg.channel.value}:{msg.chat_id}",
            carteirinha=beneficiary.carteirinha,
            channel=msg.channel,
        ).record(AuditKind.HUMAN_REQUESTED)
        chat = ChatRef(msg.channel, msg.chat_id)
        await self._conversations.request_human(chat, beneficiary.id)
        return Outgoing(texts.HUMAN)
