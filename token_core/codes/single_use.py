"""The rule that a code works once, for what it was issued for. Both stores implement it as one
atomic step (`storage/memory.py` `InProcessStore.attempt`, `storage/redis_store.py` `_ATTEMPT`),
held to the same behaviour by `tests/integration/test_store_contract.py`.

A code is issued for a `Scope`: one guide, or "the beneficiary's next guide" (guide=None). At
rest there is only its HMAC bound to the scope, so the same digits for another scope differ.
One attempt to validate guide G with a typed code, in one atomic step:

1. G locked (too many wrong codes), or the beneficiary over the failure limit → refused, nothing
   counted.
2. The digest equals the live code of one candidate scope (G's own, then the beneficiary's open
   code when G is their oldest guide awaiting a token) → the code is spent: deleted, remembered
   as used for `memory_seconds`. VALID.
3. A used or an expired (known, no longer live) code → USED / EXPIRED, not counted as a failure:
   the person read out a real code too late, not a guess.
4. Anything else is a failure, counted per guide and per beneficiary; at the guide's limit the
   guide is locked for `guide_lock_seconds` (lifted only by time or by the SAB).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    """What a code authorises: one guide, or the next guide of a beneficiary (guide=None)."""

    beneficiary: str
    guide: str | None = None

    @property
    def label(self) -> str:
        """The text bound into the code's HMAC; the same digits for another scope differ."""
        return f"{self.beneficiary}/{self.guide or '*'}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scope the typed code may belong to, with the code's digest for that scope."""

    scope: Scope
    digest: str


@dataclass(frozen=True, slots=True)
class AttemptPolicy:
    guide_max_failures: int
    guide_lock_seconds: float
    beneficiary_max_failures: int
    beneficiary_window_seconds: float
    memory_seconds: float


class AttemptStatus(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"
    GUIDE_LOCKED = "guide_locked"
    BENEFICIARY_LIMIT = "beneficiary_limit"


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    status: AttemptStatus
    matched: Scope | None = None
    failures_left: int | None = None
    retry_after: float | None = None
    locked_now: bool = False
    remaining_ttl: float | None = None  # lifetime the spent code still had (VALID only)
