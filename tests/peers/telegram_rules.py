"""How the Bot API reads a call: parameters from the query, a JSON, form or multipart body, typed
as Telegram types them; the checks it makes on text and keyboards; its error answers.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

Params = dict[str, Any]
_JSON_FIELDS = {"reply_markup", "entities", "allowed_updates", "link_preview_options"}
_FLAGS = {"protect_content", "disable_notification", "drop_pending_updates", "show_alert"}
_INTS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "cache_time"}
_INLINE_ACTIONS = {"url", "callback_data", "web_app", "login_url", "copy_text", "pay"}
_INLINE_ACTIONS |= {"switch_inline_query", "switch_inline_query_current_chat", "callback_game"}


class ApiError(Exception):
    """An answer `{"ok": false, "error_code", "description"[, "parameters"]}`."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def response(self) -> web.Response:
        body: Params = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return web.json_response(body, status=self.code)


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def message_text(p: Params) -> str:
    """The `text` of a sendMessage or editMessageText, checked as Telegram does."""
    text = p.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad("message text is empty")
    if len(text) > 4096:
        raise bad("message is too long")
    if p.get("parse_mode") not in (None, "HTML", "MarkdownV2", "Markdown"):
        raise bad(f"unsupported parse_mode {p['parse_mode']}")
    return text


def inline_keyboard(markup: Any) -> Params | None:
    """Check a reply_markup as Telegram does; the inline keyboard a message keeps, if any."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "keyboard" in markup:
        for button in (b for row in markup["keyboard"] for b in row):
            if not (isinstance(button, str) or (isinstance(button, dict) and button.get("text"))):
                raise bad("can't parse keyboard button: Text must be non-empty")
        return None
    if "inline_keyboard" not in markup:
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return None
        raise bad("can't parse reply keyboard markup JSON object")
    for button in (b for row in markup["inline_keyboard"] for b in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise bad("can't parse inline keyboard button: Text buttons are unallowed")
        if len(_INLINE_ACTIONS & button.keys()) != 1:
            raise bad("can't parse inline keyboard button: exactly one action is required")
        if "callback_data" in button and not 1 <= len(str(button["callback_data"]).encode()) <= 64:
            raise bad("BUTTON_DATA_INVALID")
        copy = button.get("copy_text", {"text": "-"})
        if not isinstance(copy, dict) or not 1 <= len(str(copy.get("text", ""))) <= 256:
            raise bad("COPY_TEXT_INVALID")
    return dict(markup)


async def read_params(request: web.Request) -> Params:
    """Query string and body (JSON, form or multipart), with values typed as Telegram reads them."""
    raw: Params = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise bad("request body must be a JSON object")
        raw |= body
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            raw[name] = {"filename": value.filename} if isinstance(value, web.FileField) else value
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
            raise bad(f"can't parse {name} JSON object") from None
    return value
