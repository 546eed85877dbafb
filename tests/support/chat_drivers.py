"""A person on each chat channel, as the shared conversations (tests/support/conversations.py)
and the channel tests drive them: messages posted to our webhooks as the platform would, the
bot's answers read back from the platform's protocol peer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.peers.graph_api import OTP_TEMPLATE, TEST_TOKEN, GraphApi
from tests.peers.telegram_api import TelegramApi
from tests.peers.whatsapp_webhooks import Notice
from tests.support import refs
from tests.support.conversations import Seen
from tests.support.server import RunningServer
from tests.support.waiting import wait_until
from token_core.registry.identity import Mobile

Params = dict[str, Any]
CODE = re.compile(r"código de segurança: (\d{6})")
TG_TOKEN = "123456:TEST-token"
TG_SECRET = "webhook-secret-0123456789"
VERIFY_TOKEN = "verify-token-0123456789"


def telegram_settings(peer: TelegramApi) -> dict[str, Any]:
    return {
        "token": TG_TOKEN,
        "base_url": f"{peer.base_url}/bot",
        "mode": "webhook",
        "webhook_secret": TG_SECRET,
    }


def whatsapp_settings(peer: GraphApi) -> dict[str, Any]:
    return {
        "base_url": peer.base_url,
        "api_version": "v21.0",
        "phone_number_id": peer.phone_number_id,
        "access_token": TEST_TOKEN,
        "app_secret": peer.app_secret,
        "verify_token": VERIFY_TOKEN,
        "otp_template": OTP_TEMPLATE,
        "otp_template_language": "pt_BR",
    }


class WhatsAppUser:
    """A WhatsApp user: their number (`wa_id`, optionally in the legacy form without the 9), or
    only a business-scoped user id when `hidden`."""

    channel_name = "WhatsApp"

    def __init__(
        self,
        server: RunningServer,
        peer: GraphApi,
        mobile: str | None = None,
        *,
        legacy: bool = False,
        hidden: bool = False,
    ) -> None:
        self.server, self.peer = server, peer
        self.mobile = mobile or refs.mobile()
        e164 = Mobile.parse(self.mobile)
        self.wa_id = (e164.legacy_e164 if legacy else e164.e164)[1:]
        self.who = f"BR.{int(refs.suffix(), 16)}" if hidden else self.wa_id

    async def post(self, payload: Params | bytes, signature: str | None = "sign") -> int:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-Hub-Signature-256"] = self.peer.sign(body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        async with self.server.session.post(
            f"{self.server.base_url}/webhooks/whatsapp", data=body, headers=headers
        ) as resp:
            return resp.status

    async def exchange(self, notice: Notice, replies: int = 1) -> list[Params]:
        before = len(self.peer.to(self.who))
        assert await self.post(self.peer.payload(notice)) == 200
        await wait_until(lambda: len(self.peer.to(self.who)) >= before + replies)
        return self.peer.to(self.who)[before:]

    async def start_linking(self) -> None:
        if self.who != self.wa_id:  # no number: WhatsApp's own "share contact info" first
            await self.exchange(self.peer.text(self.who, "oi"))
            await self.exchange(self.peer.contact(self.who, self.wa_id, requested=True))
        else:
            await self.exchange(self.peer.text(self.who, "oi"))

    async def say(self, text: str) -> None:
        assert await self.post(self.peer.payload(self.peer.text(self.who, text))) == 200

    async def press(self, label: str) -> None:
        for message in reversed(self.peer.to(self.who)):
            for kind, reply_id, title in _choices(message):
                if label in title:
                    build = self.peer.button_reply if kind == "button" else self.peer.list_reply
                    notice = build(self.who, reply_id, title)
                    assert await self.post(self.peer.payload(notice)) == 200
                    return
        raise AssertionError(f"no button holds {label!r}")

    def seen(self) -> list[Seen]:
        return [_seen(m) for m in self.peer.to(self.who)]


def _choices(message: Params) -> list[tuple[str, str, str]]:
    if message["type"] != "interactive":
        return []
    item, action = message["interactive"], message["interactive"]["action"]
    if item["type"] == "button":
        return [("button", b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
    if item["type"] == "list":
        rows = [r for section in action["sections"] for r in section["rows"]]
        return [("list", r["id"], r["title"] + " " + r.get("description", "")) for r in rows]
    return []


def _seen(message: Params) -> Seen:
    if message["type"] == "template":
        code = message["template"]["components"][0]["parameters"][0]["text"]
        return Seen("", code=code)
    if message["type"] == "text":
        return Seen(message["text"]["body"])
    return Seen(
        message["interactive"]["body"]["text"],
        tuple(title for _, _, title in _choices(message)),
    )


class TelegramUser:
    """A Telegram user in a private chat with the bot."""

    channel_name = "Telegram"

    def __init__(self, server: RunningServer, peer: TelegramApi, mobile: str | None = None):
        self.server, self.peer = server, peer
        self.mobile = mobile or refs.mobile()
        self.chat_id = int(refs.suffix(), 16) % 10**9
        self.user_id = self.chat_id

    async def post(self, update: Params) -> int:
        async with self.server.session.post(
            f"{self.server.base_url}/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
        ) as resp:
            return resp.status

    async def start_linking(self) -> None:
        assert await self.post(self.peer.text_update(self.chat_id, self.user_id, "/start")) == 200
        await wait_until(lambda: self.peer.sent(self.chat_id))
        phone = Mobile.parse(self.mobile).e164
        before = len(self.peer.sent(self.chat_id))
        update = self.peer.contact_update(self.chat_id, self.user_id, phone, self.user_id)
        assert await self.post(update) == 200
        await wait_until(lambda: len(self.peer.sent(self.chat_id)) > before)

    async def say(self, text: str) -> None:
        assert await self.post(self.peer.text_update(self.chat_id, self.user_id, text)) == 200

    async def press(self, label: str) -> None:
        for message in reversed(self.peer.sent(self.chat_id)):
            for row in _inline(message):
                for button in row:
                    if label in button["text"] and "callback_data" in button:
                        update = self.peer.callback_update(
                            self.chat_id,
                            self.user_id,
                            button["callback_data"],
                            message["message_id"],
                        )
                        assert await self.post(update) == 200
                        return
        raise AssertionError(f"no button holds {label!r}")

    def seen(self) -> list[Seen]:
        seen = []
        for message in self.peer.sent(self.chat_id):
            found = CODE.search(message["text"])
            labels = tuple(b["text"] for row in _inline(message) for b in row)
            seen.append(Seen(message["text"], labels, found.group(1) if found else None))
        return seen


def _inline(message: Params) -> list[list[Params]]:
    markup = message.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    return list((markup or {}).get("inline_keyboard") or [])
