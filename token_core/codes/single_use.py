"""The rule that a code works once, for what it was issued for. Both stores implement it as one
atomic step (`storage/memory.py` `InProcessStore.attempt`, `storage/redis_store.py` `_ATTEMPT`),
held to the same behaviour by `tests/integration/test_store_contract.py`.

A code is issued for a `Scope`: one guide, or "the beneficiary's next guide" (guide=None). At
rest there is only its HMAC bound to the scope, so the same digits for another scope differ.
One attempt to validate guide G with a typed code, in one atomic step:

1. G locked (too many wrong codes), or the beneficiary over the failure limit → refused, nothing
   counted.
2. The digest equals the live code of one candidate scope (G's own, then the beneficiary's open
   code when G is their oldest guide awaiting a token) → the code is spent: deleted, and
   remembered for `memory_seconds` as *spent for G by this attempt*. VALID.
3. A code already spent for G (an earlier attempt spent it, then lost the database or its
   client) → RESUMED: this attempt takes it over and may finish G's validation. A code spent
   for another guide → USED. An expired (known, no longer live) code → EXPIRED. None of these
   counts as a failure: the person read out a real code, not a guess.
4. Anything else is a failure, counted per guide and per beneficiary; at the guide's limit the
   guide is locked for `guide_lock_seconds` (lifted only by time or by the SAB).

A spent code is given back (`restore_code`) only by the attempt that holds it, and only when
the database confirms that attempt did not validate the guide. When that can't be known (the
database is unreachable) it stays spent for G: safe, and recoverable by retrying G.
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
    RESUMED = "resumed"  # spent for this very guide by an earlier attempt
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


def spent_marker(guide: str, attempt_id: str) -> str:
    """What the store keeps for a spent code: the guide it was spent on and by which attempt."""
    return f"{guide}\n{attempt_id}"


def spent_guide(marker: str) -> str:
    """The guide a spent code was spent on (markers written before 2026-12 hold "1": none)."""
    return marker.split("\n", 1)[0] if "\n" in marker else ""
