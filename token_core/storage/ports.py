"""The port of the ephemeral store: live code digests, attempt counters, locks, rate limits,
dialogue state, replay nonces, live topics. The single-use rule it carries out is stated in
`token_core/codes/single_use.py`.

Two adapters implement it: `RedisStore` (production, shared by every worker) and
`InProcessStore` (embedded default, one process only). `tests/integration/test_store_contract.py`
holds both to the same behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from token_core.chat.inbound import InboundQueue
from token_core.codes.single_use import AttemptOutcome, AttemptPolicy, Candidate, Scope


class EphemeralStore(Protocol):
    """Short-lived shared state with expiry. Every method is atomic on its own."""

    async def put_code(self, scope: Scope, digest: str, ttl: float, memory: float) -> None:
        """Make `digest` the live code of `scope`, replacing (and forgetting) any earlier one."""

    async def revoke_code(self, scope: Scope, digest: str | None = None) -> bool:
        """Drop the live code of `scope` (only if it is still `digest`, when given); it then
        reads as invalid. False if there was nothing to drop.
        """

    async def restore_code(
        self, scope: Scope, digest: str, ttl: float, memory: float, spent_by: str
    ) -> bool:
        """Undo a spend the database confirms had no effect: the code is live again for `ttl`,
        only while it is still spent as `spent_by` (`spent_marker(guide, attempt)`: no later
        attempt took it over) and no newer code was issued. False if it was not restored.
        """

    async def attempt(
        self,
        guide: str,
        candidates: list[Candidate],
        policy: AttemptPolicy,
        attempt_id: str = "",
        client: str = "",
    ) -> AttemptOutcome:
        """One atomic validation step: refuse while locked, else compare and spend on a match,
        else tell a used or expired code apart, else count the failure (and lock at the limit).

        `candidates` all belong to one beneficiary; `guide` is the guide being validated. The
        guide's failures and lock are shared by every caller; the beneficiary-wide failure
        limit is counted per `client` (an API client's id; "" for every other caller).
        """

    async def unlock_guide(self, beneficiary: str, guide: str) -> bool:
        """Lift a guide's lock and clear its failure count. False if it was not locked."""

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        """Count one event in a fixed window; None when allowed, else seconds until allowed."""

    async def refund(self, key: str) -> None:
        """Take back one event counted by `hit` (what it let through turned out not to count):
        never below zero, the window's end unchanged, nothing when the window is over.
        """

    async def blocked(self, key: str, limit: int) -> float | None:
        """Whether `hit(key, …)` has reached `limit` in its window, without counting: seconds
        until allowed, or None.
        """

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        """Store `value` only if `key` is free (replay nonces, idempotency keys, locks). True
        also when `key` already holds this very `value` (a call sent again after a lost
        connection), so callers use a value unique to themselves.
        """

    async def publish(self, topic: str, message: str) -> None:
        """Send a live event to every current subscriber of `topic` (fire and forget)."""

    def subscribe(self, topic: str) -> AsyncIterator[str]:
        """The events published on `topic` from now on, until the caller stops iterating."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: float) -> None: ...

    async def delete(self, key: str) -> bool: ...

    async def delete_if(self, key: str, value: str) -> bool:
        """Delete `key` only while it still holds `value` (releasing a lock one owns)."""

    async def schedule(self, kind: str, member: str, due: float) -> None:
        """Keep `member` until `due` (Unix seconds) in the schedule `kind` (e.g. a message to
        delete when its code expires), shared by every worker.
        """

    async def take_due(self, kind: str, now: float, limit: int = 100) -> list[str]:
        """Remove and return the members of `kind` due by `now`; each is taken by one caller."""

    async def forget(self, *names: str) -> int:
        """Drop every key about these beneficiaries (carteirinhas) or chats (chat ids): live
        codes, known and used digests, counters, locks, rate limits, dialogue state (an erased
        person's ephemeral traces). How many keys went.
        """

    def inbound(self, backlog_cap: int, claim_after_seconds: float) -> InboundQueue:
        """The durable queue of inbound chat updates kept in this store."""

    async def close(self) -> None: ...
