"""The Telegram channel: python-telegram-bot inside our aiohttp server (no Updater). Our webhook
route (or a development polling loop) pushes each update into the durable inbound queue; the
queue's consumer hands it back to `process`, which runs PTB's handlers for it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp
from telegram import Bot, Message, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

from integrations.telegram.processor import PerChatUpdateProcessor
from integrations.telegram.render import reply_markup
from integrations.telegram.request import AiohttpRequest
from token_core import audit
from token_core.chat.inbound import InboundQueue, InboundUpdate, Pushed
from token_core.chat.messages import ChatHandler, Incoming, Outgoing, Reply
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, Channel

logger = logging.getLogger(__name__)
DELETIONS = "telegram-delete"  # the schedule of code messages to delete at expiry
ALLOWED_UPDATES = ["message", "callback_query"]
_TEXT = (str, type(None))
TG = Channel.TELEGRAM


def incoming(update: Update) -> Incoming | None:
    """The dialogue's view of an update from a private chat; None for anything else."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != "private":
        return None
    base: dict[str, Any] = {"channel": TG, "chat_id": str(chat.id), "user_id": str(user.id)}
    if update.callback_query is not None:
        query = update.callback_query
        message_id = str(query.message.message_id) if query.message else None
        return Incoming(**base, callback_data=query.data, message_id=message_id)
    message = update.message
    if message is None:
        return None
    if message.contact is not None:
        own = message.contact.user_id is not None and message.contact.user_id == user.id
        return Incoming(
            **base,
            contact_phone=message.contact.phone_number,
            contact_is_own=own,
            message_id=str(message.message_id),
        )
    return Incoming(**base, text=message.text or "", message_id=str(message.message_id))


def _malformed(update: Update) -> str | None:
    """What, among the fields `incoming` and the update processor read, is not as Telegram
    sends it (PTB builds objects without checking scalar types, and a callback query without
    its sender); None when all is right.
    """
    chat, user = update.effective_chat, update.effective_user
    query, message = update.callback_query, update.message
    checks: list[tuple[str, object, type | tuple[type, ...]]] = []
    if chat is not None:
        checks += [("chat.id", chat.id, int), ("chat.type", chat.type, str)]
    if user is not None:
        checks.append(("from.id", user.id, int))
    if query is not None:
        checks += [("callback_query.id", query.id, str), ("callback_query.data", query.data, _TEXT)]
        if query.message is not None:
            checks.append(("callback_query.message.message_id", query.message.message_id, int))
    if message is not None:
        checks += [
            ("message.message_id", message.message_id, int),
            ("message.text", message.text, _TEXT),
        ]
        if message.contact is not None:
            contact = message.contact
            checks += [
                ("contact.phone_number", contact.phone_number, str),
                ("contact.user_id", contact.user_id, (int, type(None))),
            ]
    for name, value, expected in checks:
        if not isinstance(value, expected) or isinstance(value, bool):
            return f"{name} of the wrong type"
    if query is not None and user is None:
        return "callback_query.from missing"
    return None


class TelegramChannel:
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat: ChatHandler,
        store: EphemeralStore,
        error_text: str,
        inbound: InboundQueue | None = None,
        flood_text: str = "",
    ) -> None:
        self.application = application
        self._chat = chat
        self._store = store
        self._error_text = error_text
        self._inbound = inbound or store.inbound(50, 30)
        self._flood_text = flood_text
        application.add_handler(TypeHandler(Update, self._on_update))
        application.add_error_handler(self._on_error)

    @classmethod
    def build(
        cls,
        token: str,
        base_url: str,
        session: aiohttp.ClientSession,
        chat: ChatHandler,
        store: EphemeralStore,
        error_text: str,
        max_messages_per_second: float = 30,
        inbound: InboundQueue | None = None,
        flood_text: str = "",
    ) -> TelegramChannel:
        application = (
            Application.builder()
            .token(token)
            .base_url(base_url)
            .request(AiohttpRequest(session))
            .get_updates_request(AiohttpRequest(session, read_timeout=35))
            .rate_limiter(
                AIORateLimiter(
                    overall_max_rate=max_messages_per_second,
                    overall_time_period=1 if max_messages_per_second else 0,
                    max_retries=3,
                )
            )
            .concurrent_updates(PerChatUpdateProcessor())
            .updater(None)
            .build()
        )
        return cls(application, chat, store, error_text, inbound, flood_text)

    @property
    def bot(self) -> Bot:
        bot: Bot = self.application.bot
        return bot

    async def start(self, webhook_url: str | None, secret: str) -> None:
        await self.application.initialize()
        await self.application.start()
        if webhook_url:
            await self.bot.set_webhook(
                webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )

    async def stop(self) -> None:
        await self.application.stop()
        await self.application.shutdown()

    async def accept(self, data: dict[str, Any]) -> bool:
        """Queue one update from Telegram; False when it is dropped: a repeated update_id, or an
        update not shaped as Telegram sends them (logged by update_id only, as it may hold a
        phone or a CPF). A malformed one leaves no dedupe key: nothing was done with it, and
        dropping it needs no store, so Telegram gets its 200 and stops resending it even while
        the store is down.
        """
        try:
            update = Update.de_json(data, self.bot)
            problem = _malformed(update)
        except Exception as exc:  # whatever PTB raises on a shape it cannot build
            problem = type(exc).__name__
        if problem is not None:
            logger.warning(
                "telegram update %s dropped: malformed (%s)", data.get("update_id"), problem
            )
            return False
        chat = update.effective_chat
        if chat is None:
            return False  # not a chat's update: nothing for the dialogue
        chat_id = str(chat.id)
        pushed = await self._inbound.push(
            InboundUpdate(TG, chat_id, str(update.update_id), json.dumps(data))
        )
        if pushed in (Pushed.OVER_CAP, Pushed.OVER_CAP_FIRST):
            await audit.For(f"chat:{TG.value}:{chat_id}", channel=TG).record(
                AuditKind.CHAT_UPDATE_DROPPED, reason="backlog_cap", update=update.update_id
            )
            if pushed is Pushed.OVER_CAP_FIRST and self._flood_text:
                try:
                    await self.bot.send_message(chat_id, self._flood_text)
                except TelegramError:
                    logger.info("could not tell chat %s to wait", chat_id)
        return pushed is Pushed.QUEUED

    async def process(self, item: InboundUpdate) -> None:
        """Handle one update taken from the inbound queue (its chat's turn has come)."""
        update = Update.de_json(json.loads(item.payload), self.bot)
        await self.application.process_update(update)

    async def poll(self, stop: asyncio.Event) -> None:
        """Development only: long-poll getUpdates and queue what arrives."""
        await self.bot.delete_webhook()
        offset = 0
        while not stop.is_set():
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=25, allowed_updates=ALLOWED_UPDATES
                )
            except TelegramError:
                logger.warning("getUpdates failed; retrying", exc_info=True)
                await asyncio.sleep(2)
                continue
            for update in updates:
                offset = update.update_id + 1
                await self.accept(update.to_dict())

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = incoming(update)
        if msg is None:
            return
        reply = await self._chat.handle(msg)
        await self.render(msg.chat_id, reply, update)

    async def render(self, chat_id: str, reply: Reply, update: Update | None = None) -> None:
        if update is not None and update.callback_query is not None:
            try:  # only a toast: an old query must not stop the reply
                await update.callback_query.answer(reply.notice)
            except TelegramError:
                logger.info("could not answer a callback query in chat %s", chat_id)
        pending = list(reply.messages)
        try:
            while pending:
                out = pending[0]
                if out.delete_message_id:
                    await self._delete(chat_id, out.delete_message_id)
                await self.send(chat_id, out)
                pending.pop(0)
        finally:
            for out in pending[1:] if pending else ():
                # A code that will never be shown must not stay live (the first one was
                # already reported by send()).
                await asyncio.shield(self._chat.delivered(out, TG, error="not sent"))

    async def send(self, chat_id: str, out: Outgoing) -> Message | None:
        """Send one message; a message with a code is protected and deleted when it expires."""
        try:
            sent = await self.bot.send_message(
                chat_id,
                out.text,
                reply_markup=reply_markup(out),
                protect_content=out.code is not None,
            )
        except BaseException as exc:  # failed, timed out or cancelled: the code is revoked
            failure = self._chat.delivered(out, TG, error=f"telegram: {type(exc).__name__}")
            await asyncio.shield(failure)
            raise
        await self._chat.delivered(out, TG)
        if out.expires_at is not None:
            # Deleted when the code expires by whichever worker is up then (a stored schedule).
            await self._store.schedule(
                DELETIONS,
                json.dumps({"chat": chat_id, "message": str(sent.message_id)}),
                out.expires_at.timestamp(),
            )
        return sent

    async def run_deletions(self, stop: asyncio.Event, every: float = 0.5) -> None:
        """Delete the code messages whose time has come (any worker; each is taken once)."""
        while not stop.is_set():
            try:
                for member in await self._store.take_due(DELETIONS, time.time()):
                    item = json.loads(member)
                    await self._delete(str(item["chat"]), str(item["message"]))
            except Exception:
                logger.warning("code message deletion pass failed", exc_info=True)
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass

    async def _delete(self, chat_id: str, message_id: str) -> None:
        try:
            await self.bot.delete_message(chat_id, int(message_id))
        except TelegramError:
            logger.info("could not delete message %s in chat %s", message_id, chat_id)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        logger.error("telegram update failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                await self.bot.send_message(update.effective_chat.id, self._error_text)
            except TelegramError:
                logger.warning("could not tell the chat about the error", exc_info=True)
