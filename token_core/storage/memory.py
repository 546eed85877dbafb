"""In-process ephemeral store: the embedded default. One process only; lost on restart."""

from __future__ import annotations

import asyncio
import fnmatch
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable

from token_core.codes.single_use import (
    AttemptOutcome,
    AttemptPolicy,
    AttemptStatus,
    Candidate,
    Scope,
    spent_guide,
    spent_marker,
)
from token_core.storage.keys import Keys
from token_core.storage.memory_inbound import InProcessInbound

logger = logging.getLogger(__name__)


class InProcessStore:
    """Dict with expiry times. Methods never await while mutating, so each is atomic in asyncio."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, prefix: str = "") -> None:
        self._clock = clock
        self._data: dict[str, tuple[str, float]] = {}
        self._keys = Keys(prefix)
        self._topics: dict[str, set[asyncio.Queue[str]]] = {}
        self._schedules: dict[str, dict[str, float]] = {}
        logger.warning(
            "In-process store: codes, counters and locks live in this process only. "
            "Run a single worker, or set redis.url to share them."
        )

    def _get(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] <= self._clock():
            del self._data[key]
            return None
        return item[0]

    def _ttl(self, key: str) -> float:
        item = self._data.get(key)
        return max(item[1] - self._clock(), 0.0) if item else 0.0

    def _set(self, key: str, value: str, ttl: float) -> None:
        self._data[key] = (value, self._clock() + ttl)

    def _incr(self, key: str, ttl: float) -> int:
        current = self._get(key)
        if current is None:
            self._set(key, "1", ttl)
            return 1
        count = int(current) + 1
        self._data[key] = (str(count), self._data[key][1])
        return count

    def _delete(self, *keys: str) -> int:
        return sum(self._data.pop(key, None) is not None for key in keys)

    def _purge(self) -> None:
        now = self._clock()
        for key in [k for k, (_, exp) in self._data.items() if exp <= now]:
            del self._data[key]

    async def put_code(self, scope: Scope, digest: str, ttl: float, memory: float) -> None:
        self._purge()
        code_key = self._keys.code(scope)
        previous = self._get(code_key)
        if previous is not None:
            self._delete(self._keys.known(scope.beneficiary, previous))
        self._set(code_key, digest, ttl)
        self._set(self._keys.known(scope.beneficiary, digest), "1", memory)

    async def revoke_code(self, scope: Scope, digest: str | None = None) -> bool:
        code_key = self._keys.code(scope)
        previous = self._get(code_key)
        if previous is None or (digest is not None and previous != digest):
            return False
        self._delete(code_key, self._keys.known(scope.beneficiary, previous))
        return True

    async def restore_code(
        self, scope: Scope, digest: str, ttl: float, memory: float, spent_by: str
    ) -> bool:
        code_key = self._keys.code(scope)
        used_key = self._keys.used(scope.beneficiary, digest)
        if self._get(code_key) is not None or self._get(used_key) != spent_by:
            return False
        self._set(code_key, digest, ttl)
        self._set(self._keys.known(scope.beneficiary, digest), "1", memory)
        self._delete(used_key)
        return True

    async def attempt(
        self,
        guide: str,
        candidates: list[Candidate],
        policy: AttemptPolicy,
        attempt_id: str = "",
        client: str = "",
    ) -> AttemptOutcome:
        beneficiary = candidates[0].scope.beneficiary
        lock_key = self._keys.guide_lock(beneficiary, guide)
        if self._get(lock_key) is not None:
            return AttemptOutcome(AttemptStatus.GUIDE_LOCKED, retry_after=self._ttl(lock_key))
        ben_key = self._keys.beneficiary_failures(beneficiary, client)
        if int(self._get(ben_key) or 0) >= policy.beneficiary_max_failures:
            return AttemptOutcome(AttemptStatus.BENEFICIARY_LIMIT, retry_after=self._ttl(ben_key))
        for cand in candidates:
            live = self._get(self._keys.code(cand.scope))
            if live is not None and hmac.compare_digest(live, cand.digest):
                remaining = self._ttl(self._keys.code(cand.scope))
                self._delete(self._keys.code(cand.scope), self._keys.known(beneficiary, live))
                spent_by = spent_marker(guide, attempt_id)
                self._set(
                    self._keys.used(beneficiary, cand.digest), spent_by, policy.memory_seconds
                )
                return AttemptOutcome(
                    AttemptStatus.VALID, matched=cand.scope, remaining_ttl=remaining
                )
        for cand in candidates:
            used_key = self._keys.used(beneficiary, cand.digest)
            marker = self._get(used_key)
            if marker is None:
                continue
            if spent_guide(marker) != guide:
                return AttemptOutcome(AttemptStatus.USED, matched=cand.scope)
            self._data[used_key] = (spent_marker(guide, attempt_id), self._data[used_key][1])
            return AttemptOutcome(AttemptStatus.RESUMED, matched=cand.scope)
        for cand in candidates:
            if self._get(self._keys.known(beneficiary, cand.digest)) is not None:
                return AttemptOutcome(AttemptStatus.EXPIRED, matched=cand.scope)
        failures = self._incr(
            self._keys.guide_failures(beneficiary, guide), policy.guide_lock_seconds
        )
        self._incr(ben_key, policy.beneficiary_window_seconds)
        if failures >= policy.guide_max_failures:
            self._set(lock_key, "1", policy.guide_lock_seconds)
            self._delete(self._keys.guide_failures(beneficiary, guide))
            return AttemptOutcome(
                AttemptStatus.GUIDE_LOCKED,
                failures_left=0,
                retry_after=policy.guide_lock_seconds,
                locked_now=True,
            )
        return AttemptOutcome(
            AttemptStatus.INVALID, failures_left=policy.guide_max_failures - failures
        )

    async def unlock_guide(self, beneficiary: str, guide: str) -> bool:
        failures = self._keys.guide_failures(beneficiary, guide)
        was_locked = self._get(self._keys.guide_lock(beneficiary, guide)) is not None
        self._delete(self._keys.guide_lock(beneficiary, guide), failures)
        return was_locked

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        full = self._keys.plain(f"rate:{key}")
        if self._incr(full, window) > limit:
            return self._ttl(full)
        return None

    async def refund(self, key: str) -> None:
        full = self._keys.plain(f"rate:{key}")
        count = int(self._get(full) or 0)
        if count > 0:
            self._data[full] = (str(count - 1), self._data[full][1])

    async def blocked(self, key: str, limit: int) -> float | None:
        full = self._keys.plain(f"rate:{key}")
        if int(self._get(full) or 0) >= limit:
            return self._ttl(full)
        return None

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        full = self._keys.plain(key)
        current = self._get(full)
        if current is not None:
            return current == value
        self._set(full, value, ttl)
        return True

    async def publish(self, topic: str, message: str) -> None:
        for queue in self._topics.get(topic, ()):
            queue.put_nowait(message)

    async def subscribe(self, topic: str) -> AsyncIterator[str]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._topics.setdefault(topic, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._topics[topic].discard(queue)

    async def get(self, key: str) -> str | None:
        return self._get(self._keys.plain(key))

    async def set(self, key: str, value: str, ttl: float) -> None:
        self._set(self._keys.plain(key), value, ttl)

    async def delete_if(self, key: str, value: str) -> bool:
        full = self._keys.plain(key)
        return self._get(full) == value and self._delete(full) > 0

    async def delete(self, key: str) -> bool:
        return self._delete(self._keys.plain(key)) > 0

    async def schedule(self, kind: str, member: str, due: float) -> None:
        self._schedules.setdefault(kind, {})[member] = due

    async def take_due(self, kind: str, now: float, limit: int = 100) -> list[str]:
        plan = self._schedules.get(kind, {})
        due = sorted((at, m) for m, at in plan.items() if at <= now)[:limit]
        for _at, member in due:
            del plan[member]
        return [member for _at, member in due]

    async def forget(self, *names: str) -> int:
        globs = [glob for name in names if name for glob in self._keys.about(name)]
        gone = [key for key in self._data if any(fnmatch.fnmatchcase(key, g) for g in globs)]
        return self._delete(*gone)

    def inbound(self, backlog_cap: int, claim_after_seconds: float) -> InProcessInbound:
        del claim_after_seconds  # one process: nothing to claim from another worker
        return InProcessInbound(backlog_cap)

    async def close(self) -> None:
        self._data.clear()

    def snapshot(self) -> dict[str, str]:
        """Every live key and value, for tests that look for leaks."""
        self._purge()
        return {key: value for key, (value, _) in self._data.items()}
