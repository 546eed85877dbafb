"""Keyed hashes under the server pepper: code digests, CPF look-ups, request fingerprints.
Each use has its own derived key, so one leak does not serve another use.
"""

from __future__ import annotations

import hashlib
import hmac


class Keyring:
    """Purpose-bound keys derived from the server pepper, so one leak does not serve another use."""

    def __init__(self, pepper: bytes) -> None:
        self._code_key = _derive(pepper, b"odontoken/code-digest/v1")
        self._cpf_key = _derive(pepper, b"odontoken/cpf-lookup/v1")
        self._fingerprint_key = _derive(pepper, b"odontoken/request-fingerprint/v1")

    def code_digest(self, scope: str, code: str) -> str:
        """HMAC of the code bound to what it authorises: the same digits elsewhere differ."""
        message = f"{scope}\x00{code}".encode()
        return hmac.new(self._code_key, message, hashlib.sha256).hexdigest()

    def fingerprint(self, data: bytes) -> str:
        """Keyed hash of request content kept for a while (idempotency), never reversible."""
        return hmac.new(self._fingerprint_key, data, hashlib.sha256).hexdigest()

    def cpf_lookup(self, cpf_digits: str) -> str:
        """Keyed hash of a CPF: lets us find a beneficiary without keeping the CPF."""
        return hmac.new(self._cpf_key, cpf_digits.encode(), hashlib.sha256).hexdigest()


def _derive(pepper: bytes, label: bytes) -> bytes:
    return hmac.new(pepper, label, hashlib.sha256).digest()
