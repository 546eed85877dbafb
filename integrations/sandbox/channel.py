"""The sandbox channel: a web chat on this server (handlers/sandbox draws it) standing in for a
chat platform, so the dialogue can be tried with no Telegram or WhatsApp account.

The page posts what the person typed or pressed (`accept`): it goes into the durable inbound
queue like a webhook's update, and the queue's consumer hands it back (`process`) in its chat's
order. The chat stands for the chosen demo beneficiary's registered mobile, as WhatsApp's sender
number does: every message carries it as the proven phone. Replies, receipts and agents'
messages go out (`send`) as events on the chat's live topic, which the page listens to; nothing
of a message is kept but the masked transcript.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping

from integrations.sandbox import render
from integrations.sandbox.addresses import PayloadSealer, carteirinha_of, chat_id
from token_core import audit
from token_core.chat.inbound import InboundQueue, InboundUpdate, Pushed
from token_core.chat.messages import ChatHandler, Incoming, Outgoing, Reply
from token_core.registry import beneficiaries
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, Channel

logger = logging.getLogger(__name__)
SB = Channel.SANDBOX
TOPIC_PREFIX = "sandbox:"


def topic(chat_id: str) -> str:
    """The live topic a chat's page listens to."""
    return TOPIC_PREFIX + chat_id


class SandboxChannel:
    def __init__(
        self,
        chat: ChatHandler,
        store: EphemeralStore,
        inbound: InboundQueue,
        sealer: PayloadSealer,
        *,
        replaced: Mapping[str, str] | None = None,
        error_text: str = "",
        flood_text: str = "",
    ) -> None:
        self._chat = chat
        self._store = store
        self._inbound = inbound
        self._sealer = sealer
        self._replaced = dict(replaced or {})
        self._error_text = error_text
        self._flood_text = flood_text

    def topic(self, chat_id: str) -> str:
        return topic(chat_id)

    def chat_id(self, carteirinha: str, session: str) -> str | None:
        return chat_id(carteirinha, session)

    async def accept(
        self, chat_id: str, *, text: str | None = None, button: str | None = None, contact: bool
    ) -> str | None:
        """Queue what the page sent; its message id, or None when it was dropped (the chat has
        too many unhandled messages). Returns once it is stored."""
        message_id = uuid.uuid4().hex
        payload = {"id": message_id, "texto": text, "botao": button, "contato": contact}
        sealed = self._sealer.seal(json.dumps(payload, ensure_ascii=False).encode())
        pushed = await self._inbound.push(InboundUpdate(SB, chat_id, message_id, sealed))
        if pushed in (Pushed.OVER_CAP, Pushed.OVER_CAP_FIRST):
            await audit.For(f"chat:{SB.value}:{chat_id}", channel=SB).record(
                AuditKind.CHAT_UPDATE_DROPPED, reason="backlog_cap", update=message_id
            )
            if pushed is Pushed.OVER_CAP_FIRST:
                await self._tell(chat_id, self._flood_text)
            return None
        return message_id

    async def process(self, item: InboundUpdate) -> None:
        """Handle one queued message (its chat's turn has come)."""
        sent = json.loads(self._sealer.unseal(item.payload))
        carteirinha = carteirinha_of(item.chat_id)
        person = await beneficiaries.by_carteirinha(carteirinha) if carteirinha else None
        phone = person.mobile if person is not None else None
        msg = Incoming(
            channel=SB,
            chat_id=item.chat_id,
            user_id=item.chat_id,
            text=sent.get("texto"),
            proven_phone=phone,
            contact_phone=phone if sent.get("contato") else None,
            contact_is_own=bool(sent.get("contato")),
            callback_data=sent.get("botao"),
            message_id=str(sent["id"]),
        )
        try:
            reply = await self._chat.handle(msg)
        except Exception:
            logger.exception("sandbox message failed in the dialogue")
            await self._tell(item.chat_id, self._error_text)
            return
        await self.render(item.chat_id, reply)

    async def render(self, chat_id: str, reply: Reply) -> None:
        """Send a reply's messages in order; a reply that is only a notice (a button pressed
        while an agent answers) is sent as a message."""
        pending = list(reply.messages) or ([Outgoing(reply.notice)] if reply.notice else [])
        try:
            while pending:
                out = pending[0]
                if out.delete_message_id:
                    await self._publish(chat_id, render.deleted_event(out.delete_message_id))
                await self.send(chat_id, out)
                pending.pop(0)
        finally:
            for out in pending[1:]:
                # A code that will never be shown must not stay live.
                await asyncio.shield(self._chat.delivered(out, SB, error="not sent"))

    async def send(self, chat_id: str, out: Outgoing) -> str:
        """Put one message on the chat's topic (its event id)."""
        event = render.message_event(out, self._replaced)
        try:
            await self._publish(chat_id, event)
        except BaseException as exc:  # failed or cancelled: the code is revoked
            failure = self._chat.delivered(out, SB, error=f"sandbox: {type(exc).__name__}")
            await asyncio.shield(failure)
            raise
        await self._chat.delivered(out, SB)
        return str(event["id"])

    async def _publish(self, chat_id: str, event: dict[str, object]) -> None:
        await self._store.publish(topic(chat_id), render.encode(event))

    async def _tell(self, chat_id: str, text: str) -> None:
        """A short notice, if it can go; never raises."""
        if not text:
            return
        try:
            await self._publish(chat_id, render.message_event(Outgoing(text), {}))
        except Exception as exc:
            logger.info("sandbox notice not sent (%s)", type(exc).__name__)
