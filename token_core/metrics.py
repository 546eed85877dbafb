"""The metrics port: what the core counts (codes issued, validations, locks, deliveries, chat
messages out, outages), without knowing how. `bot/composition.py` gives the services the
Prometheus implementation (`handlers/ops/metrics.py`); tests and tools get `NO_METRICS`.

A port rather than counting at the edges: a validation, a lock or a delivery happens in the
core whichever edge asked (API, chat, SAB, portal), so one call site each counts it once.
"""

from __future__ import annotations

from typing import Protocol

from redis.exceptions import RedisError

from token_core.faults import is_outage
from token_core.vocabulary import Channel


class Metrics(Protocol):
    def code_issued(self, channel: Channel) -> None: ...

    def validated(self, result: str) -> None:
        """One validation answered, by result (`ValidationStatus` value)."""

    def guide_locked(self) -> None: ...

    def delivered(self, channel: Channel, outcome: str) -> None:
        """One code delivery attempt ended: outcome "ok" or "failed"."""

    def chat_update_in(self, channel: Channel, outcome: str) -> None:
        """One chat update taken by a webhook: "queued", "duplicate" or "dropped"."""

    def chat_message_out(self, channel: Channel) -> None: ...

    def outage(self, backend: str) -> None:
        """A request met an outage of the "store", the "database" (or "other")."""


class NoMetrics:
    """Counts nothing (tests, command-line tools)."""

    def code_issued(self, channel: Channel) -> None:
        pass

    def validated(self, result: str) -> None:
        pass

    def guide_locked(self) -> None:
        pass

    def delivered(self, channel: Channel, outcome: str) -> None:
        pass

    def chat_update_in(self, channel: Channel, outcome: str) -> None:
        pass

    def chat_message_out(self, channel: Channel) -> None:
        pass

    def outage(self, backend: str) -> None:
        pass


NO_METRICS: Metrics = NoMetrics()


def outage_backend(exc: BaseException) -> str | None:
    """Which backend an outage came from: "store" (Redis) or "database"; None if `exc` is not
    an outage (`token_core.faults.is_outage`).
    """
    if not is_outage(exc):
        return None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, RedisError):
            return "store"
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return "database"
