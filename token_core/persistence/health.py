"""Cheap questions for probes and metrics: does the database answer, how far behind is the
outbox. One statement each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from token_core.persistence.sql import as_datetime, connection


@dataclass(frozen=True, slots=True)
class Backlog:
    """Undelivered outbox events of one type, and the age of the oldest in seconds."""

    event_type: str
    count: int
    oldest_age_seconds: float


async def ping() -> None:
    """Raise unless the database answers a trivial statement."""
    await connection().execute_query("SELECT 1")


async def outbox_backlog() -> list[Backlog]:
    """Undelivered events by type (one grouped statement over the delivered_at index)."""
    _count, rows = await connection().execute_query(
        "SELECT event_type, COUNT(*), MIN(created_at) FROM outbox_event "
        "WHERE delivered_at IS NULL GROUP BY event_type"
    )
    now = datetime.now(UTC)
    backlog = []
    for row in rows:
        event_type, count, oldest = tuple(row)
        at = as_datetime(oldest)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        age = max((now - at).total_seconds(), 0.0) if at is not None else 0.0
        backlog.append(Backlog(str(event_type), int(count), age))
    return backlog
