"""WhatsApp Cloud API webhook notifications as Meta posts them: messages and statuses inside
`entry[].changes[].value`, batched, signed with `X-Hub-Signature-256` over the raw body. The
builder remembers when each user last wrote (the 24-hour window the Graph API peer enforces).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
from dataclasses import dataclass
from typing import Any

Params = dict[str, Any]
_random = random.SystemRandom()  # not the global one, which pytest-randomly reseeds


@dataclass(frozen=True)
class Notice:
    """One user message: its entry in `value.contacts` and in `value.messages`."""

    contact: Params
    message: Params

    @property
    def id(self) -> str:
        return str(self.message["id"])


def wamid(number: str) -> str:
    """A message id shaped like Meta's (which encodes the user's number)."""
    raw = b"\x15\x02\x00\x11\x18\x12" + number.encode() + _random.randbytes(10)
    return "wamid." + base64.b64encode(raw).decode()


def is_bsuid(who: str) -> bool:
    return "." in who


class WebhookBuilder:
    """Builds notifications from users (`who`: a wa_id, or a BSUID for a user who hides their
    number) to the business phone `phone_number_id`, signed with `app_secret`."""

    app_secret = ""
    phone_number_id = ""
    display_phone_number = "554130000000"

    def __init__(self) -> None:
        super().__init__()
        self.last_inbound: dict[str, float] = {}

    def sign(self, body: bytes, secret: str | None = None) -> str:
        key = (self.app_secret if secret is None else secret).encode()
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    def text(self, who: str, body: str, *, at: float | None = None) -> Notice:
        return self._notice(who, "text", {"text": {"body": body}}, at)

    def button_reply(self, who: str, reply_id: str, title: str) -> Notice:
        reply = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
        return self._notice(who, "interactive", {"interactive": reply}, None)

    def list_reply(self, who: str, row_id: str, title: str) -> Notice:
        reply = {"type": "list_reply", "list_reply": {"id": row_id, "title": title}}
        return self._notice(who, "interactive", {"interactive": reply}, None)

    def contact(self, who: str, number: str, *, requested: bool = False) -> Notice:
        """A contact card of `number` (digits); `requested`: sent with WhatsApp's "share
        contact info" button, which fills in the user's own number."""
        card: Params = {
            "name": {"formatted_name": "Maria Teste", "first_name": "Maria"},
            "phones": [{"phone": f"+{number}", "wa_id": number, "type": "CELL"}],
        }
        if requested:
            card["origin"] = "contact_request"
        return self._notice(who, "contacts", {"contacts": [card]}, None)

    def image(self, who: str) -> Notice:
        media = {"mime_type": "image/jpeg", "sha256": "x" * 44, "id": str(_random.getrandbits(50))}
        return self._notice(who, "image", {"image": media}, None)

    def status(self, who: str, message_id: str, status: str, error: int | None = None) -> Params:
        item: Params = {"id": message_id, "status": status, "timestamp": str(int(time.time()))}
        item |= {"recipient_user_id": who} if is_bsuid(who) else {"recipient_id": who}
        if error is not None:
            item["errors"] = [{"code": error, "title": "Message undeliverable"}]
        return item

    def payload(self, *notices: Notice, statuses: tuple[Params, ...] = ()) -> Params:
        """One entry, one change: every notice and status in the same `value`."""
        return self.batched(list(notices), statuses=statuses)

    def batched(self, *values: list[Notice], statuses: tuple[Params, ...] = ()) -> Params:
        """One entry per group of notices (each group one change value), as Meta batches; the
        statuses ride in the last value."""
        groups = list(values) or [[]]
        entries = [
            self._entry(group, statuses if n == len(groups) else ())
            for n, group in enumerate(groups, 1)
        ]
        return {"object": "whatsapp_business_account", "entry": entries}

    def signed(self, payload: Params) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payload).encode()
        return body, {"X-Hub-Signature-256": self.sign(body), "Content-Type": "application/json"}

    def _entry(self, notices: list[Notice], statuses: tuple[Params, ...]) -> Params:
        value: Params = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": self.display_phone_number,
                "phone_number_id": self.phone_number_id,
            },
        }
        contacts = {json.dumps(n.contact, sort_keys=True): n.contact for n in notices}
        if notices:
            value |= {"contacts": list(contacts.values()), "messages": [n.message for n in notices]}
        if statuses:
            value["statuses"] = list(statuses)
        change = {"value": value, "field": "messages"}
        return {"id": "102290129340398", "changes": [change]}

    def _notice(self, who: str, kind: str, body: Params, at: float | None) -> Notice:
        at = time.time() if at is None else at
        self.last_inbound[who] = max(self.last_inbound.get(who, 0.0), at)
        bsuid = "BR." + hashlib.sha256(who.encode()).hexdigest()[:16]
        contact: Params = {"profile": {"name": "Maria Teste"}}
        message: Params = {"id": wamid(who), "timestamp": str(int(at)), "type": kind, **body}
        if is_bsuid(who):
            contact["user_id"] = message["from_user_id"] = who
        else:
            contact |= {"wa_id": who, "user_id": bsuid}
            message |= {"from": who, "from_user_id": bsuid}
        return Notice(contact, message)
