"""The transactional outbox: events for the dentist system, written beside the change they
describe (same transaction) and delivered later by `integrations.callbacks`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from token_core.persistence.models import OutboxEvent, bump
from token_core.vocabulary import EventType

logger = logging.getLogger(__name__)


async def enqueue(event_type: EventType, data: dict[str, Any]) -> OutboxEvent:
    """Record an event to deliver. Call it inside the transaction of the change it reports.
    Its log line carries the request id, so the event's later delivery line (by event id) ties
    back to the request that caused it.
    """
    event = await OutboxEvent.create(
        event_id=uuid.uuid4(),
        event_type=event_type.value,
        payload=data,
        available_at=datetime.now(UTC),
    )
    logger.info("event %s (%s) enqueued", event.event_id, event_type.value)
    return event


async def due(
    limit: int, *, only: Collection[str] | None = None, skip: Collection[str] = ()
) -> list[OutboxEvent]:
    """Undelivered events whose time has come, oldest first (of the `only` types, not `skip`)."""
    query = OutboxEvent.filter(delivered_at__isnull=True, available_at__lte=datetime.now(UTC))
    if only is not None:
        query = query.filter(event_type__in=list(only))
    if skip:
        query = query.exclude(event_type__in=list(skip))
    return await query.order_by("id").limit(limit)


async def claim(event: OutboxEvent, lease_until: datetime) -> bool:
    """Take the event until `lease_until`; False when another worker changed it first."""
    taken = await OutboxEvent.filter(
        id=event.id, available_at=event.available_at, delivered_at__isnull=True
    ).update(available_at=lease_until)
    return bool(taken)


async def mark_delivered(event: OutboxEvent, at: datetime) -> None:
    await OutboxEvent.filter(id=event.id, delivered_at__isnull=True).update(
        delivered_at=at, attempts=bump("attempts")
    )


async def retry_later(
    event: OutboxEvent, lease_until: datetime, attempts: int, error: str, at: datetime
) -> bool:
    """Record a failed attempt and when to try again; False when the lease was lost."""
    kept = await OutboxEvent.filter(
        id=event.id, available_at=lease_until, delivered_at__isnull=True
    ).update(attempts=attempts, last_error=error[:200], available_at=at)
    return bool(kept)
