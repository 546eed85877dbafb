"""A Telegram Bot API server on 127.0.0.1 that python-telegram-bot reaches through
`base_url=f"{peer.base_url}/bot"`: it answers as Telegram does, records every call, and can be
told to throttle (429 retry_after) or refuse the next calls of a method.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.peers.base import PeerServer
from tests.peers.telegram_rules import (
    ApiError,
    Params,
    bad,
    inline_keyboard,
    message_text,
    read_params,
)
from tests.peers.telegram_updates import UpdateBuilder

TEST_TOKEN = "123456:TEST-token"
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_METHODS = {
    name.lower(): name
    for name in (
        *("getMe", "sendMessage", "deleteMessage", "answerCallbackQuery", "editMessageText"),
        *("editMessageReplyMarkup", "setWebhook", "deleteWebhook", "getWebhookInfo", "getUpdates"),
    )
}  # Telegram matches method names without regard to case


class TelegramApi(PeerServer, UpdateBuilder):
    """`async with TelegramApi(token) as api:` gives `.base_url`, `.calls` (method, parameters),
    `.sent(chat_id)`, `.deleted` and `.webhook`; `text_update` & co. build updates to post.
    A bot may only write to chats that have written to it (built an update here).
    """

    def __init__(self, token: str = TEST_TOKEN, first_name: str = "Odontoken") -> None:
        super().__init__()
        self.token = token
        self.me: Params = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": "odontoken_test_bot",
        }
        self.calls: list[tuple[str, Params]] = []
        self._sent: list[Params] = []
        self.deleted: list[tuple[int, int]] = []
        self.webhook: Params = {"url": ""}
        self.pending: list[Params] = []
        self._failures: dict[str, list[ApiError]] = {}
        self._arrived = asyncio.Event()
        self._closing = False

    def sent(self, chat_id: int | str) -> list[Params]:
        """The parameters of each sendMessage that succeeded for this chat, in order, plus the
        `message_id` it got."""
        return [p for p in self._sent if str(p["chat_id"]) == str(chat_id)]

    def fail_next(
        self,
        method: str,
        count: int = 1,
        *,
        retry_after: int | None = None,
        status: int = 400,
        description: str = "Bad Request: chat not found",
    ) -> None:
        """Answer the next `count` calls of `method` with 429 `retry_after` when given, else
        with `status` and `description`."""
        error = (
            ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
            if retry_after is not None
            else ApiError(status, description)
        )
        self._failures.setdefault(method.lower(), []).extend([error] * count)

    def queue_update(self, update: Params) -> None:
        """Hold an update for getUpdates (polling mode)."""
        self.pending.append(update)
        self._wake()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)

    async def stop(self) -> None:
        """Answer the long polls still waiting, then close."""
        self._closing = True
        self._wake()
        await super().stop()

    def _wake(self) -> None:
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        method = request.match_info["method"]
        if method.lower() not in _METHODS:
            return ApiError(404, "Not Found").response()
        answer: Callable[[Params], Awaitable[Any]] = getattr(self, f"_{_METHODS[method.lower()]}")
        try:
            params = await read_params(request)
            self.calls.append((method, params))
            if failures := self._failures.get(method.lower()):
                raise failures.pop(0)
            return web.json_response({"ok": True, "result": await answer(params)})
        except ApiError as exc:
            return exc.response()

    async def _getMe(self, p: Params) -> Params:
        return self.me | {"can_join_groups": False, "supports_inline_queries": False}

    async def _sendMessage(self, p: Params) -> Params:
        chat = self._chat(p)
        inline = inline_keyboard(p.get("reply_markup"))
        message_id = self.next_message_id(chat["id"])
        message: Params = {"message_id": message_id, "from": self.me, "chat": chat}
        message |= {"date": int(time.time()), "text": message_text(p)}
        if "entities" in p:
            message["entities"] = p["entities"]
        if inline is not None:
            message["reply_markup"] = inline
        if p.get("protect_content"):
            message["has_protected_content"] = True
        self.messages[(chat["id"], message_id)] = message
        self._sent.append(p | {"message_id": message_id})
        return message

    async def _deleteMessage(self, p: Params) -> bool:
        key = self._key(p)
        if self.messages.pop(key, None) is None:
            raise bad("message to delete not found")
        self.deleted.append(key)
        return True

    async def _answerCallbackQuery(self, p: Params) -> bool:
        if p.get("callback_query_id") not in self.open_queries:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        self.open_queries.discard(p["callback_query_id"])
        return True

    async def _editMessageText(self, p: Params) -> Params:
        return self._edit(p, {"text": message_text(p)}, inline_keyboard(p.get("reply_markup")))

    async def _editMessageReplyMarkup(self, p: Params) -> Params:
        return self._edit(p, {}, inline_keyboard(p.get("reply_markup")))

    def _edit(self, p: Params, change: Params, inline: Params | None) -> Params:
        message = self.messages.get(self._key(p))
        if message is None:
            raise bad("message to edit not found")
        if message["from"]["id"] != self.me["id"]:
            raise bad("message can't be edited")
        if p.get("reply_markup") is not None and inline is None:
            raise bad("inline keyboard expected")
        edited = {k: v for k, v in message.items() if k not in ("reply_markup", "edit_date")}
        edited |= change | ({"reply_markup": inline} if inline else {})
        if edited == {k: v for k, v in message.items() if k != "edit_date"}:
            raise bad("message is not modified: specified new message content and reply markup")
        message.clear()
        message.update(edited, edit_date=int(time.time()))
        return message

    async def _setWebhook(self, p: Params) -> bool:
        url = p.get("url", "")
        if url and not url.startswith("https://"):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        if "secret_token" in p and not _SECRET.fullmatch(str(p["secret_token"])):
            raise bad("secret token contains unallowed characters")
        if p.get("drop_pending_updates"):
            self.pending.clear()
        kept = ("secret_token", "allowed_updates", "drop_pending_updates", "certificate")
        self.webhook = {"url": url} | {k: p[k] for k in kept if k in p}
        return True

    async def _deleteWebhook(self, p: Params) -> bool:
        if p.get("drop_pending_updates"):
            self.pending.clear()
        self.webhook = {"url": ""}
        return True

    async def _getWebhookInfo(self, p: Params) -> Params:
        info = {"url": self.webhook["url"], "pending_update_count": len(self.pending)}
        info["has_custom_certificate"] = "certificate" in self.webhook
        if "allowed_updates" in self.webhook:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _getUpdates(self, p: Params) -> list[Params]:
        if self.webhook["url"]:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset, limit = int(p.get("offset", 0)), int(p.get("limit", 100))
        if offset > 0:  # confirms every update before `offset`
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        elif offset < 0:  # keeps only the last -offset updates
            self.pending = self.pending[offset:]
        if not self.pending and not self._closing and int(p.get("timeout", 0)) > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(int(p["timeout"])):
                    await self._arrived.wait()
        return self.pending[:limit]

    def _chat(self, p: Params) -> Params:
        if "chat_id" not in p:
            raise bad("chat_id is empty")
        chat = self.chats.get(p["chat_id"])
        if chat is None:
            raise bad("chat not found")
        return chat

    def _key(self, p: Params) -> tuple[int, int]:
        if not isinstance(p.get("message_id"), int):
            raise bad("message identifier is not specified")
        return self._chat(p)["id"], p["message_id"]
