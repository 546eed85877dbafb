"""Code generation: a plaintext code lives only inside `SecretCode`."""

from __future__ import annotations

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


def new_code(digits: int) -> SecretCode:
    """A uniformly random numeric code from the OS CSPRNG, leading zeros included."""
    return SecretCode(f"{secrets.randbelow(10**digits):0{digits}d}")


def new_validation_code() -> str:
    """The value for TISS `codValidacao` (at most 10 characters)."""
    return "".join(secrets.choice(_VALIDATION_ALPHABET) for _ in range(VALIDATION_CODE_LENGTH))


def normalise_code_input(raw: str) -> str:
    """What a person typed, as digits: "123 456" and "123-456" are the same code."""
    return "".join(ch for ch in raw if not ch.isspace() and ch not in "-.")
