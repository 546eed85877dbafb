"""Unique references per test, so tests never collide in a shared database."""

from __future__ import annotations

import random
import uuid

from token_core.registry.identity import cpf_with_check_digits


def suffix() -> str:
    return uuid.uuid4().hex[:8]


def carteirinha() -> str:
    return f"T{uuid.uuid4().int % 10**15:015d}"


def guide_number() -> str:
    return f"GTO-T-{uuid.uuid4().hex[:12].upper()}"


# Not the global generator: pytest-randomly reseeds that one before every test, which would hand
# each test the same "random" CPF and mobile as the others.
_random = random.SystemRandom()


def cpf() -> str:
    """A random valid CPF, bare digits."""
    while True:
        nine = f"{_random.randrange(10**9):09d}"
        if len(set(nine)) > 1:
            return cpf_with_check_digits(nine)


def mobile() -> str:
    """A random valid mobile in Curitiba (DDD 41), national form."""
    return f"41 9{_random.randrange(8000, 10000):04d}-{_random.randrange(10**4):04d}"
