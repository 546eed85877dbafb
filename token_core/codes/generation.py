"""Code generation and keyed hashing. A plaintext code lives only inside `SecretCode`."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

# Crockford-like alphabet without look-alikes (0/O, 1/I/L): easy to read out and type.
_VALIDATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
VALIDATION_CODE_LENGTH = 10


@dataclass(frozen=True, slots=True)
class SecretCode:
    """A plaintext code. Its repr is masked; `reveal()` is for the delivery message only."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "*" * len(self._value)

    def __repr__(self) -> str:
        return f"SecretCode({'*' * len(self._value)})"


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


def new_code(digits: int) -> SecretCode:
    """A uniformly random numeric code from the OS CSPRNG, leading zeros included."""
    return SecretCode(f"{secrets.randbelow(10**digits):0{digits}d}")


def new_validation_code() -> str:
    """The value for TISS `codValidacao` (at most 10 characters)."""
    return "".join(secrets.choice(_VALIDATION_ALPHABET) for _ in range(VALIDATION_CODE_LENGTH))


def normalise_code_input(raw: str) -> str:
    """What a person typed, as digits: "123 456" and "123-456" are the same code."""
    return "".join(ch for ch in raw if not ch.isspace() and ch not in "-.")
