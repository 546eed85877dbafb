"""Sandbox chat ids and queued payloads.

A sandbox chat is one browser session talking as one demo beneficiary: its id names both
(`sb-<8 hex>-<carteirinha>`), so the channel knows whose registered mobile the chat stands for.
Queued payloads hold what the person typed (a CPF, say) and are sealed with a key derived from
the server pepper while they wait in the inbound queue.
"""

from __future__ import annotations

import base64
import os
import re

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_CHAT_ID = re.compile(r"sb-([0-9a-f]{8})-([0-9A-Za-z.-]{1,20})", re.ASCII)
_SESSION = re.compile(r"[0-9a-f]{8}", re.ASCII)
_PAYLOAD_AD = b"odontoken/sandbox/inbound"


def chat_id(carteirinha: str, session: str) -> str | None:
    """The chat of a browser session as a beneficiary; None for a malformed session id."""
    made = f"sb-{session}-{carteirinha}"
    return made if _SESSION.fullmatch(session) and _CHAT_ID.fullmatch(made) else None


def carteirinha_of(chat: str) -> str | None:
    """Whose chat this is; None for anything that is not a sandbox chat id."""
    found = _CHAT_ID.fullmatch(chat)
    return found[2] if found else None


class PayloadSealer:
    """AES-GCM over queued payloads (a fresh nonce each)."""

    def __init__(self, key: bytes) -> None:
        self._gcm = AESGCM(key)

    def seal(self, data: bytes) -> str:
        nonce = os.urandom(12)
        sealed = nonce + self._gcm.encrypt(nonce, data, _PAYLOAD_AD)
        return base64.urlsafe_b64encode(sealed).decode()

    def unseal(self, text: str) -> bytes:
        raw = base64.urlsafe_b64decode(text)
        return self._gcm.decrypt(raw[:12], raw[12:], _PAYLOAD_AD)
