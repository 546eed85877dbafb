"""A WhatsApp Cloud API (Graph API) server on 127.0.0.1 with Meta's own checks on
`POST /{version}/{phone_number_id}/messages`: the Bearer token, the phone number id, the shapes
of text, reply buttons (at most 3, titles up to 20), lists, contact requests and the
authentication template (the code as body and copy-button parameter), and the 24-hour window
(free-form messages only to someone who wrote within 24 hours: else error 131047). It records
what it took, and answers an error code on demand (`fail_next`). Webhook notifications to post
to the server come from the `WebhookBuilder` it extends.
"""

from __future__ import annotations

import re
import time
from typing import Any

from aiohttp import web

from tests.peers.base import PeerServer
from tests.peers.whatsapp_webhooks import Params, WebhookBuilder, is_bsuid, wamid

TEST_TOKEN = "EAAG-test-access-token"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "0123456789abcdef0123456789abcdef"
OTP_TEMPLATE = "codigo_odontoken"
WINDOW_SECONDS = 24 * 3600
_VERSION = re.compile(r"v\d+\.\d+")


class GraphError(Exception):
    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def response(self) -> web.Response:
        error = {
            "message": f"({'#' if self.code < 1000 else ''}{self.code}) {self.message}",
            "type": "OAuthException",
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.message},
            "fbtrace_id": "AbCdEfGhIjKlMnOp",
        }
        return web.json_response({"error": error}, status=self.status)


def _check(ok: bool, message: str, code: int = 131009) -> None:
    if not ok:
        raise GraphError(code, message)


def _text(value: Any, limit: int, what: str) -> str:
    _check(isinstance(value, str) and 0 < len(value) <= limit, f"{what}: 1 to {limit} characters")
    return str(value)


def _items(value: Any, most: int, what: str) -> list[Params]:
    if not isinstance(value, list) or not 1 <= len(value) <= most:
        raise GraphError(131009, f"{what}: 1 to {most}")
    _check(all(isinstance(item, dict) for item in value), f"{what}: objects")
    return value


class GraphApi(PeerServer, WebhookBuilder):
    """`async with GraphApi() as graph:` gives `.base_url`, `.sent` (every accepted message with
    its `id`), `.refused` (code, message), `to(who)`, `texts_to(who)`, `codes_to(who)`."""

    def __init__(self, templates: dict[str, tuple[str, str]] | None = None) -> None:
        super().__init__()
        self.token = TEST_TOKEN
        self.app_secret = APP_SECRET
        self.phone_number_id = PHONE_NUMBER_ID
        self.templates = templates or {OTP_TEMPLATE: ("pt_BR", "AUTHENTICATION")}
        self.sent: list[Params] = []
        self.refused: list[tuple[int, Params]] = []
        self._failures: list[int] = []

    def fail_next(self, code: int, count: int = 1) -> None:
        """Answer the next `count` messages with Meta's error `code`."""
        self._failures.extend([code] * count)

    def expire_token(self) -> None:
        """From now on the access token is refused (error 190), as when it expires."""
        self.token = "expired"

    def close_window(self, who: str) -> None:
        """As if `who` last wrote more than 24 hours ago."""
        self.last_inbound[who] = time.time() - WINDOW_SECONDS - 60

    def to(self, who: str) -> list[Params]:
        return [m for m in self.sent if m.get("to", m.get("recipient")) == who]

    def texts_to(self, who: str) -> list[str]:
        """What `who` reads in each free-form message (text or interactive body)."""
        return [
            m["text"]["body"] if m["type"] == "text" else m["interactive"]["body"]["text"]
            for m in self.to(who)
            if m["type"] in ("text", "interactive")
        ]

    def codes_to(self, who: str) -> list[str]:
        """The code of each authentication template `who` got (its body parameter)."""
        return [
            m["template"]["components"][0]["parameters"][0]["text"]
            for m in self.to(who)
            if m["type"] == "template"
        ]

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/{version}/{phone_number_id}/messages", self._messages)

    async def _messages(self, request: web.Request) -> web.Response:
        body: Params = {}
        try:
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                raise GraphError(190, "Error validating access token: Session has expired", 401)
            if not _VERSION.fullmatch(request.match_info["version"]):
                raise GraphError(100, "Unknown path components", 400)
            if request.match_info["phone_number_id"] != self.phone_number_id:
                raise GraphError(100, "Unsupported post request. Object does not exist", 400)
            body = await request.json()
            _check(isinstance(body, dict), "body must be a JSON object", 100)
            if self._failures:
                raise GraphError(self._failures.pop(0), "failure asked for by the test")
            who = self._recipient(body)
            self._content(body, who)
        except GraphError as exc:
            self.refused.append((exc.code, body))
            return exc.response()
        message_id = wamid(who)
        self.sent.append(body | {"id": message_id})
        contact = {"input": who, "user_id": who} if is_bsuid(who) else {"input": who, "wa_id": who}
        answer = {"messaging_product": "whatsapp", "contacts": [contact]}
        return web.json_response(answer | {"messages": [{"id": message_id}]})

    def _recipient(self, body: Params) -> str:
        _check(body.get("messaging_product") == "whatsapp", "messaging_product is required", 100)
        who = body.get("to") or body.get("recipient")
        _check(isinstance(who, str) and bool(who), "The parameter to is required.", 100)
        return str(who)

    def _content(self, body: Params, who: str) -> None:
        kind = body.get("type", "text")
        if kind == "template":
            self._template(body.get("template"), who)
            return
        wrote = self.last_inbound.get(who)
        if wrote is None or time.time() - wrote > WINDOW_SECONDS:
            raise GraphError(131047, "Re-engagement message: more than 24 hours have passed")
        if kind == "text":
            _text((body.get("text") or {}).get("body"), 4096, "text.body")
        elif kind == "interactive":
            self._interactive(body.get("interactive") or {})
        else:
            raise GraphError(100, f"Unsupported message type {kind}", 400)

    def _interactive(self, item: Params) -> None:
        kind, action = item.get("type"), item.get("action") or {}
        _text((item.get("body") or {}).get("text"), 4096 if kind == "list" else 1024, "body")
        if kind == "button":
            buttons = _items(action.get("buttons"), 3, "buttons")
            replies = [b.get("reply") or {} for b in buttons if b.get("type") == "reply"]
            _check(len(replies) == len(buttons), "buttons must be of type reply")
            titles = [_text(r.get("title"), 20, "button title") for r in replies]
            ids = [_text(r.get("id"), 256, "button id") for r in replies]
            _check(len(set(titles)) == len(titles) == len(set(ids)), "buttons must be unique")
        elif kind == "list":
            _text(action.get("button"), 20, "list button")
            sections = _items(action.get("sections"), 10, "sections")
            rows = [row for section in sections for row in section.get("rows") or []]
            _check(1 <= len(rows) <= 10, "1 to 10 rows in all")
            ids = [_text(r.get("id"), 200, "row id") for r in rows]
            for row in rows:
                _text(row.get("title"), 24, "row title")
                if "description" in row:
                    _text(row["description"], 72, "row description")
            _check(len(set(ids)) == len(ids), "row ids must be unique")
        elif kind == "request_contact_info":
            _check(action.get("name") == "request_contact_info", "action.name")
        else:
            raise GraphError(100, f"Unsupported interactive type {kind}", 400)

    def _template(self, template: Any, who: str) -> None:
        _check(isinstance(template, dict), "template is required", 100)
        known = self.templates.get(template.get("name"))
        language = (template.get("language") or {}).get("code")
        if known is None or known[0] != language:
            raise GraphError(132001, "Template name does not exist in the translation")
        if known[1] != "AUTHENTICATION":
            return
        if is_bsuid(who):
            raise GraphError(131062, "Business-scoped User ID recipients are not supported")
        components = template.get("components")
        _check(isinstance(components, list) and len(components) == 2, "body and button", 132000)
        body, button = components
        _check(body.get("type") == "body", "the first component is the body", 132000)
        _check(button.get("type") == "button" and button.get("sub_type") == "url", "url button")
        _check(str(button.get("index")) == "0", "button index 0")
        params = [c.get("parameters") for c in components]
        _check(all(isinstance(p, list) and len(p) == 1 for p in params), "one parameter", 132000)
        texts = [_text(p[0].get("text"), 15, "one-time password") for p in params]
        _check(all(p[0].get("type") == "text" for p in params), "text parameters")
        _check(texts[0] == texts[1], "the code goes in the body and in the copy button")
