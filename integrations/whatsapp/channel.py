"""The WhatsApp channel: the webhook pushes each message into the durable inbound queue
(`accept`); the queue's consumer hands it back (`process`) in its chat's order; replies,
agents' messages and pushed code cards go out through `send`.
"""

from __future__ import annotations

import asyncio
import logging

from integrations.whatsapp import render
from integrations.whatsapp.addresses import Address, Sealer, UnknownChat
from integrations.whatsapp.graph import GraphClient, GraphError, OutsideWindow
from integrations.whatsapp.parse import WaMessage, incoming
from integrations.whatsapp.render import OtpTemplate, WhatsAppTexts
from integrations.whatsapp.window import ServiceWindow
from token_core import audit
from token_core.chat.inbound import InboundQueue, InboundUpdate, Pushed
from token_core.chat.messages import ChatHandler, Outgoing, Reply
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, Channel

logger = logging.getLogger(__name__)
WA = Channel.WHATSAPP


class WhatsAppChannel:
    def __init__(
        self,
        graph: GraphClient,
        chat: ChatHandler,
        store: EphemeralStore,
        sealer: Sealer,
        texts: WhatsAppTexts,
        template: OtpTemplate,
        inbound: InboundQueue,
    ) -> None:
        self.graph = graph
        self.sealer = sealer
        self.window = ServiceWindow(store)
        self._chat = chat
        self._texts = texts
        self._template = template
        self._inbound = inbound

    async def accept(self, message: WaMessage) -> Pushed | None:
        """Queue one message (None: a sender we cannot answer). Returns once it is stored."""
        chat_id = self.sealer.chat_id(message.sender)
        if chat_id is None:
            logger.warning("whatsapp message dropped: a sender id too long to keep")
            return None
        await self.window.opened(chat_id, message.timestamp)
        update_id = self.sealer.digest(message.message_id)
        payload = self.sealer.seal(message.to_json())
        pushed = await self._inbound.push(InboundUpdate(WA, chat_id, update_id, payload))
        if pushed in (Pushed.OVER_CAP, Pushed.OVER_CAP_FIRST):
            await audit.For(f"chat:{WA.value}:{chat_id}", channel=WA).record(
                AuditKind.CHAT_UPDATE_DROPPED, reason="backlog_cap", update=update_id
            )
            if pushed is Pushed.OVER_CAP_FIRST and self._texts.flood:
                await self._tell(chat_id, self._texts.flood)
        return pushed

    async def process(self, item: InboundUpdate) -> None:
        """Handle one queued message (its chat's turn has come)."""
        message = WaMessage.from_json(self.sealer.unseal(item.payload))
        msg = incoming(message, item.chat_id)
        if msg is None:
            await self._tell(item.chat_id, self._texts.unsupported)
            return
        try:
            reply = await self._chat.handle(msg)
        except Exception:
            logger.exception("whatsapp message failed in the dialogue")
            await self._tell(item.chat_id, self._texts.error)
            return
        try:
            await self.render(item.chat_id, reply)
        except GraphError as exc:
            logger.warning("whatsapp reply not sent (Graph error %s)", exc.code)

    async def render(self, chat_id: str, reply: Reply) -> None:
        """Send a reply's messages in order. WhatsApp has no toast: a reply that is only a
        notice (a button pressed while an agent answers) is sent as a message."""
        pending = list(reply.messages) or ([Outgoing(reply.notice)] if reply.notice else [])
        try:
            while pending:
                await self.send(chat_id, pending[0])
                pending.pop(0)
        finally:
            for out in pending[1:]:
                # A code that will never be shown must not stay live (the first one was
                # already reported by send()).
                await asyncio.shield(self._chat.delivered(out, WA, error="not sent"))

    async def send(self, chat_id: str, out: Outgoing) -> str:
        """Send one message (Meta's message id). A code card goes in the authentication
        template, which reaches the person outside the 24-hour window too; anything else only
        within it (`OutsideWindow` otherwise, before Meta is even asked)."""
        address = self.sealer.address(chat_id)
        if out.code is not None:
            return await self._card(chat_id, address, out)
        if not await self.window.is_open(chat_id):
            raise OutsideWindow(None, "outside the 24-hour customer-service window")
        return await self.graph.send(
            address.recipient | render.free_form(out, address, self._texts)
        )

    async def _card(self, chat_id: str, address: Address, out: Outgoing) -> str:
        assert out.code is not None
        try:
            if address.wa_id:
                body = render.code_template(out.code, self._template)
            elif await self.window.is_open(chat_id):
                # Meta sends authentication templates to phone numbers only; a user who hides
                # theirs gets the card as a message, which needs the window.
                body = render.free_form(out, address, self._texts)
            else:
                raise OutsideWindow(None, "no number and outside the 24-hour window")
            sent = await self.graph.send(address.recipient | body)
        except BaseException as exc:  # failed, timed out or cancelled: the code is revoked
            code = exc.code if isinstance(exc, GraphError) else type(exc).__name__
            await asyncio.shield(self._chat.delivered(out, WA, error=f"whatsapp: {code}"))
            raise
        await self._chat.delivered(out, WA)
        if address.wa_id and await self.window.is_open(chat_id):
            details = render.card_details(out)
            try:  # the guide it is for and "não reconheço"; the code is delivered already
                await self.graph.send(
                    address.recipient | render.free_form(details, address, self._texts)
                )
            except GraphError as exc:
                logger.info("whatsapp card details not sent (Graph error %s)", exc.code)
        return sent

    async def _tell(self, chat_id: str, text: str) -> None:
        """A short notice, if it can go; never raises."""
        if not text:
            return
        try:
            await self.send(chat_id, Outgoing(text))
        except (GraphError, UnknownChat) as exc:
            logger.info("whatsapp notice not sent (%s)", type(exc).__name__)
