"""Who a WhatsApp message comes from or goes to, and chat ids that hold no phone number.

WhatsApp names a person by their number (`wa_id`, digits as WhatsApp reports them, possibly the
legacy Brazilian form without the leading 9) or, for a person who hides it behind a username,
by a business-scoped user id (BSUID, "BR.1502576394655843"). A phone number must not be kept
in clear (database, store, logs), yet the chat id is kept everywhere (links, transcripts,
audit, store keys) and must give the number back to reply. So a phone's chat id is the number
sealed with AES-SIV (deterministic: the same number is always the same chat) under a key
derived from the server pepper; a BSUID is opaque already and is its own chat id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV

PHONE_PREFIX = "p-"
_WA_ID = re.compile(r"[1-9][0-9]{6,14}", re.ASCII)
# A BSUID kept as a chat id (50 characters at most) leaves room for "chat:whatsapp:" in a
# 64-character audit actor.
_BSUID = re.compile(r"[A-Z]{2}\.[A-Za-z0-9.]{1,47}", re.ASCII)
_PAYLOAD_AD = b"odontoken/whatsapp/inbound"


class UnknownChat(ValueError):
    """A chat id that is neither a sealed number of this server nor a BSUID."""


def is_wa_id(value: object) -> bool:
    return isinstance(value, str) and _WA_ID.fullmatch(value) is not None


def is_bsuid(value: object) -> bool:
    return isinstance(value, str) and _BSUID.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Address:
    """A WhatsApp user: their number (`wa_id`) when WhatsApp gives it, else their BSUID."""

    wa_id: str | None = None
    user_id: str | None = None

    @property
    def recipient(self) -> dict[str, str]:
        """The Graph API's addressing fields: `to` a number, else `recipient` a BSUID."""
        if self.wa_id:
            return {"to": self.wa_id}
        return {"recipient": self.user_id or ""}

    @property
    def proven_phone(self) -> str | None:
        """The number WhatsApp proves for this sender, in international form."""
        return f"+{self.wa_id}" if self.wa_id else None


class Sealer:
    """Chat ids, queued payloads and message-id digests under keys derived from one secret."""

    def __init__(self, secret: bytes) -> None:
        self._siv = AESSIV(_derive(secret, b"chat-id", 64))
        self._gcm = AESGCM(_derive(secret, b"payload", 32))
        self._digest_key = _derive(secret, b"message-id", 32)

    def chat_id(self, address: Address) -> str | None:
        """The chat id of a sender; None for a BSUID too long to keep as one."""
        if address.wa_id:
            sealed = self._siv.encrypt(address.wa_id.encode(), None)
            return PHONE_PREFIX + _b64(sealed)
        if address.user_id and is_bsuid(address.user_id):
            return address.user_id
        return None

    def address(self, chat_id: str) -> Address:
        """Whom to write to for a chat id; UnknownChat for anything this server did not make."""
        if chat_id.startswith(PHONE_PREFIX):
            try:
                wa_id = self._siv.decrypt(_unb64(chat_id[len(PHONE_PREFIX) :]), None).decode()
            except (InvalidTag, ValueError):
                raise UnknownChat("not a WhatsApp chat of this server") from None
            return Address(wa_id=wa_id)
        if is_bsuid(chat_id):
            return Address(user_id=chat_id)
        raise UnknownChat("not a WhatsApp chat id")

    def seal(self, data: bytes) -> str:
        """Encrypt a queued payload (it holds the number and what the person typed)."""
        nonce = os.urandom(12)
        return _b64(nonce + self._gcm.encrypt(nonce, data, _PAYLOAD_AD))

    def unseal(self, text: str) -> bytes:
        raw = _unb64(text)
        return self._gcm.decrypt(raw[:12], raw[12:], _PAYLOAD_AD)

    def digest(self, message_id: str) -> str:
        """A keyed hash of Meta's message id (a wamid encodes the sender's number)."""
        return hmac.new(self._digest_key, message_id.encode(), hashlib.sha256).hexdigest()[:40]


def _derive(secret: bytes, label: bytes, size: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < size:
        counter += 1
        out += hmac.new(secret, label + bytes([counter]), hashlib.sha256).digest()
    return out[:size]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
