"""A Telegram Bot API server on 127.0.0.1 that python-telegram-bot reaches through
`base_url=f"{peer.base_url}/bot"`: it answers as Telegram does, records every call, and can be
told to throttle (429 retry_after) or refuse the next calls of a method.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.peers.telegram_updates import UpdateBuilder

TEST_TOKEN = "123456:TEST-token"
_JSON_FIELDS = {"reply_markup", "entities", "allowed_updates", "link_preview_options"}
_FLAGS = {"protect_content", "disable_notification", "drop_pending_updates", "show_alert"}
_INTS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "cache_time"}
_INLINE_ACTIONS = {"url", "callback_data", "web_app", "login_url", "copy_text", "pay"}
_INLINE_ACTIONS |= {"switch_inline_query", "switch_inline_query_current_chat", "callback_game"}
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
Params = dict[str, Any]


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def response(self) -> web.Response:
        body: Params = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return web.json_response(body, status=self.code)


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


class TelegramApi(UpdateBuilder):
    """`async with TelegramApi(token) as api:` gives `.base_url`, `.calls` (method, parameters),
    `.sent(chat_id)`, `.deleted` and `.webhook`; `text_update` & co. build updates to post.
    A bot may only write to chats that have written to it (built an update here).
    """

    def __init__(self, token: str = TEST_TOKEN, first_name: str = "Odontoken") -> None:
        super().__init__()
        self.token = token
        self.me: Params = {"id": int(token.split(":")[0]), "is_bot": True}
        self.me |= {"first_name": first_name, "username": "odontoken_test_bot"}
        self.calls: list[tuple[str, Params]] = []
        self.deleted: list[tuple[int, int]] = []
        self.webhook: Params = {"url": ""}
        self.pending: list[Params] = []
        self._failures: dict[str, list[ApiError]] = {}
        self._arrived = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._methods: dict[str, Callable[[Params], Awaitable[Any]]] = {
            name.lower(): getattr(self, f"_{name}")
            for name in ("getMe", "sendMessage", "deleteMessage", "answerCallbackQuery")
            + ("editMessageText", "editMessageReplyMarkup", "setWebhook", "deleteWebhook")
            + ("getWebhookInfo", "getUpdates")
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def sent(self, chat_id: int | str) -> list[Params]:
        """The sendMessage parameters that succeeded for this chat, in order, with `message_id`."""
        return [
            {**p, "message_id": p["_message_id"]} | {"_message_id": None}
            for m, p in self.calls
            if m == "sendMessage" and "_message_id" in p and str(p["chat_id"]) == str(chat_id)
        ]

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

    async def __aenter__(self) -> TelegramApi:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()

    def _wake(self) -> None:
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        method = request.match_info["method"]
        answer = self._methods.get(method.lower())
        if answer is None:
            return ApiError(404, "Not Found").response()
        try:
            params = await _params(request)
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
        inline = _markup(p.get("reply_markup"))
        message_id = self.next_message_id(chat["id"])
        message: Params = {"message_id": message_id, "from": self.me, "chat": chat}
        message |= {"date": int(time.time()), "text": _text(p)}
        if "entities" in p:
            message["entities"] = p["entities"]
        if inline is not None:
            message["reply_markup"] = inline
        if p.get("protect_content"):
            message["has_protected_content"] = True
        self.messages[(chat["id"], message_id)] = message
        p["_message_id"] = message_id
        return message

    async def _deleteMessage(self, p: Params) -> bool:
        key = (self._chat(p)["id"], p.get("message_id"))
        if self.messages.pop(key, None) is None:  # type: ignore[arg-type]
            raise _bad("message to delete not found")
        self.deleted.append(key)  # type: ignore[arg-type]
        return True

    async def _answerCallbackQuery(self, p: Params) -> bool:
        if p.get("callback_query_id") not in self.open_queries:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        self.open_queries.discard(p["callback_query_id"])
        return True

    async def _editMessageText(self, p: Params) -> Params:
        return self._edit(p, {"text": _text(p)}, _markup(p.get("reply_markup")))

    async def _editMessageReplyMarkup(self, p: Params) -> Params:
        return self._edit(p, {}, _markup(p.get("reply_markup")))

    def _edit(self, p: Params, change: Params, inline: Params | None) -> Params:
        message = self.messages.get((self._chat(p)["id"], p.get("message_id")))  # type: ignore[arg-type]
        if message is None:
            raise _bad("message to edit not found")
        if message["from"]["id"] != self.me["id"]:
            raise _bad("message can't be edited")
        edited = {k: v for k, v in message.items() if k not in ("reply_markup", "edit_date")}
        edited |= change | ({"reply_markup": inline} if inline else {})
        if {**edited, "edit_date": None} == {**message, "edit_date": None}:
            raise _bad("message is not modified: specified new message content and reply markup")
        message.clear()
        message.update(edited, edit_date=int(time.time()))
        return message

    async def _setWebhook(self, p: Params) -> bool:
        url = p.get("url", "")
        if url and not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if "secret_token" in p and not _SECRET.fullmatch(str(p["secret_token"])):
            raise _bad("secret token contains unallowed characters")
        if p.get("drop_pending_updates"):
            self.pending.clear()
        kept = ("secret_token", "allowed_updates", "max_connections", "drop_pending_updates")
        self.webhook = {"url": url} | {k: p[k] for k in kept if k in p}
        return True

    async def _deleteWebhook(self, p: Params) -> bool:
        if p.get("drop_pending_updates"):
            self.pending.clear()
        self.webhook = {"url": ""}
        return True

    async def _getWebhookInfo(self, p: Params) -> Params:
        info = {"url": self.webhook["url"], "has_custom_certificate": False}
        info["pending_update_count"] = len(self.pending)
        if "allowed_updates" in self.webhook:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _getUpdates(self, p: Params) -> list[Params]:
        if self.webhook["url"]:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset, limit = int(p.get("offset", 0)), int(p.get("limit", 100))
        if offset > 0:  # confirms every update before `offset`
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        if not self.pending and not self._closing and int(p.get("timeout", 0)) > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(int(p["timeout"])):
                    await self._arrived.wait()
        return self.pending[offset:] if offset < 0 else self.pending[:limit]

    def _chat(self, p: Params) -> Params:
        if "chat_id" not in p:
            raise _bad("chat_id is empty")
        chat = self.chats.get(p["chat_id"])
        if chat is None:
            raise _bad("chat not found")
        return chat


def _text(p: Params) -> str:
    text = p.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _bad("message text is empty")
    if len(text) > 4096:
        raise _bad("message is too long")
    if p.get("parse_mode") not in (None, "HTML", "MarkdownV2", "Markdown"):
        raise _bad(f"unsupported parse_mode {p['parse_mode']}")
    return text


def _markup(markup: Any) -> Params | None:
    """Check a reply_markup as Telegram does; the inline keyboard a message keeps, if any."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "keyboard" in markup:
        for button in (b for row in markup["keyboard"] for b in row):
            if not isinstance(button, str) and not (isinstance(button, dict) and button["text"]):
                raise _bad("can't parse keyboard button: Text must be non-empty")
        return None
    if "inline_keyboard" not in markup:
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return None
        raise _bad("can't parse reply keyboard markup JSON object")
    for button in (b for row in markup["inline_keyboard"] for b in row):
        if not button.get("text") or len(_INLINE_ACTIONS & button.keys()) != 1:
            raise _bad("can't parse inline keyboard button: exactly one action is required")
        if "callback_data" in button and not 1 <= len(button["callback_data"].encode()) <= 64:
            raise _bad("BUTTON_DATA_INVALID")
        if "copy_text" in button and not 1 <= len(button["copy_text"].get("text", "")) <= 256:
            raise _bad("COPY_TEXT_INVALID")
    return dict(markup)


async def _params(request: web.Request) -> Params:
    """Query string and body (JSON, form or multipart), with values typed as Telegram reads them."""
    raw: Params = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise _bad("request body must be a JSON object")
        raw |= body
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            raw[name] = value if isinstance(value, str) else {"filename": value.filename}
    return {name: _typed(name, value) for name, value in raw.items()}


def _typed(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _FLAGS:
        return value.lower() in ("true", "1")
    if name in _INTS and value.lstrip("-").isdigit():
        return int(value)
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {name} JSON object") from None
    return value
