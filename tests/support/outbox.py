"""The outbox is shared by every test of a run: a test that dispatches parks the others' events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from token_core.persistence.models import OutboxEvent

PARKED_UNTIL = datetime(2999, 1, 1, tzinfo=UTC)


@asynccontextmanager
async def other_events_parked() -> AsyncIterator[None]:
    """Events pending now (left by other tests) are not due inside the block, then are put back:
    a dispatcher sees only the events made inside, and a receiver that is down cannot keep it busy
    retrying older ones.
    """
    pending = await OutboxEvent.filter(delivered_at__isnull=True).values_list("id", "available_at")
    await OutboxEvent.filter(id__in=[id_ for id_, _ in pending]).update(available_at=PARKED_UNTIL)
    try:
        yield
    finally:
        for id_, available_at in pending:
            await OutboxEvent.filter(id=id_).update(available_at=available_at)
