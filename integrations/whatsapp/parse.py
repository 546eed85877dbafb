"""Meta's webhook payloads read into plain records, and a queued message into the dialogue's
`Incoming`. A payload is a batch: every `entry[].changes[].value` may carry several
`messages[]` and `statuses[]`; whatever is not shaped as Meta sends it is counted and skipped.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from integrations.whatsapp.addresses import Address, is_bsuid, is_wa_id
from token_core.chat.messages import Incoming
from token_core.vocabulary import Channel

TEXT_PREFIX = "t:"  # a reply id that stands for typed text (a menu shortcut)
STATUSES = ("sent", "delivered", "read", "failed")
IGNORED_TYPES = ("reaction", "system", "request_welcome")  # nothing for the person to read back
MAX_TEXT = 4096


@dataclass(frozen=True, slots=True)
class WaMessage:
    """One user message as the adapter queues it."""

    message_id: str  # Meta's wamid
    sender: Address
    timestamp: float
    kind: str  # text | reply | contact | other
    text: str | None = None
    data: str | None = None  # the id of a reply button or list row
    contact_phone: str | None = None
    contact_is_own: bool = False

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> WaMessage:
        data = json.loads(raw)
        return cls(**{**data, "sender": Address(**data["sender"])})


@dataclass(frozen=True, slots=True)
class WaStatus:
    """What became of a message we sent: sent, delivered, read or failed (with Meta's code)."""

    recipient: Address
    status: str
    error_code: int | None = None


@dataclass(slots=True)
class Batch:
    messages: list[WaMessage] = field(default_factory=list)
    statuses: list[WaStatus] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each malformed item was skipped


def read_batch(body: object, phone_number_id: str) -> Batch:
    """Every message and status of a webhook body addressed to our phone number id."""
    batch = Batch()
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        batch.skipped.append("not a WhatsApp Business Account notification")
        return batch
    for entry in _list(body.get("entry"), batch, "entry"):
        for change in _list(entry.get("changes"), batch, "changes"):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                batch.skipped.append("a change that is not a messages value")
                continue
            metadata = value.get("metadata")
            if not isinstance(metadata, dict) or metadata.get("phone_number_id") != phone_number_id:
                batch.skipped.append("a value for another phone number id")
                continue
            contacts = _list(value.get("contacts", []), batch, "contacts")
            for item in _list(value.get("messages", []), batch, "messages"):
                _add(batch, _message, item, contacts, batch.messages)
            for item in _list(value.get("statuses", []), batch, "statuses"):
                _add(batch, _status, item, contacts, batch.statuses)
    return batch


def _add(
    batch: Batch, read: Any, item: dict[str, Any], contacts: list[Any], into: list[Any]
) -> None:
    try:
        record = read(item, contacts)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        batch.skipped.append(f"{read.__name__.strip('_')}: {exc.__class__.__name__}")
        return
    if record is not None:
        into.append(record)


def _list(value: object, batch: Batch, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        batch.skipped.append(f"{name} is not a list")
        return []
    good = [item for item in value if isinstance(item, dict)]
    if len(good) != len(value):
        batch.skipped.append(f"{name} holds a non-object")
    return good


def _sender(item: dict[str, Any], contacts: list[dict[str, Any]]) -> Address:
    sent_from, user_id = item.get("from"), item.get("from_user_id")
    wa_id = sent_from if is_wa_id(sent_from) else None
    if user_id is None and is_bsuid(sent_from):
        user_id = sent_from
    if user_id is None and wa_id is not None:
        user_id = next((c.get("user_id") for c in contacts if c.get("wa_id") == wa_id), None)
    if wa_id is None and not is_bsuid(user_id):
        raise ValueError("no sender")
    return Address(wa_id=wa_id, user_id=user_id if is_bsuid(user_id) else None)


def _message(item: dict[str, Any], contacts: list[dict[str, Any]]) -> WaMessage | None:
    message_id = item["id"]
    if not isinstance(message_id, str) or not 0 < len(message_id) <= 256:
        raise ValueError("message id")
    sender = _sender(item, contacts)
    stamp = item.get("timestamp")
    timestamp = float(stamp) if isinstance(stamp, (str, int)) else time.time()
    base: dict[str, Any] = {"message_id": message_id, "sender": sender, "timestamp": timestamp}
    kind = item.get("type")
    if kind in IGNORED_TYPES:
        return None
    if kind == "text":
        body = item["text"]["body"]
        if not isinstance(body, str):
            raise TypeError("text body")
        return WaMessage(**base, kind="text", text=body[:MAX_TEXT])
    if kind == "interactive":
        interactive = item["interactive"]
        reply = interactive.get(interactive.get("type"))
        if interactive.get("type") in ("button_reply", "list_reply"):
            if not isinstance(reply.get("id"), str):
                raise TypeError("reply id")
            return WaMessage(**base, kind="reply", data=reply["id"][:256])
    if kind == "contacts":
        return _contact(base, sender, item["contacts"])
    return WaMessage(**base, kind="other")


def _contact(base: dict[str, Any], sender: Address, cards: list[Any]) -> WaMessage:
    """A shared contact card: the sender's own when its WhatsApp number is the sender's, or when
    it came from WhatsApp's "share contact info" button (origin contact_request: WhatsApp fills
    in the user's own number)."""
    for card in cards:
        requested = card.get("origin") == "contact_request"
        for phone in card.get("phones") or []:
            wa_id = phone.get("wa_id")
            number = f"+{wa_id}" if is_wa_id(wa_id) else phone.get("phone")
            if not isinstance(number, str) or not number:
                continue
            own = is_wa_id(wa_id) and (wa_id == sender.wa_id or requested)
            return WaMessage(**base, kind="contact", contact_phone=number, contact_is_own=own)
    return WaMessage(**base, kind="other")


def _status(item: dict[str, Any], _contacts: list[dict[str, Any]]) -> WaStatus:
    status = item["status"]
    if status not in STATUSES:
        raise ValueError("status")
    wa_id, user_id = item.get("recipient_id"), item.get("recipient_user_id")
    if not is_wa_id(wa_id) and is_bsuid(wa_id):
        wa_id, user_id = None, wa_id
    if not is_wa_id(wa_id) and not is_bsuid(user_id):
        raise ValueError("recipient")
    code = None
    errors = item.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        raw = errors[0].get("code")
        code = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    address = Address(wa_id=wa_id if is_wa_id(wa_id) else None, user_id=user_id)
    return WaStatus(address, status, code)


def incoming(message: WaMessage, chat_id: str) -> Incoming | None:
    """The dialogue's view of a queued message; None for a kind it cannot read."""
    base: dict[str, Any] = {
        "channel": Channel.WHATSAPP,
        "chat_id": chat_id,
        "user_id": chat_id,
        "proven_phone": message.sender.proven_phone,
    }
    match message.kind:
        case "text":
            return Incoming(**base, text=message.text)
        case "reply" if message.data and message.data.startswith(TEXT_PREFIX):
            return Incoming(**base, text=message.data[len(TEXT_PREFIX) :])
        case "reply":
            return Incoming(**base, callback_data=message.data)
        case "contact" if message.contact_is_own or message.sender.wa_id is None:
            return Incoming(
                **base, contact_phone=message.contact_phone, contact_is_own=message.contact_is_own
            )
        case "contact":
            # Someone else's card from a sender whose number WhatsApp proves already: nothing
            # to take from it; the dialogue answers as to an empty message.
            return Incoming(**base, text="")
    return None
