"""The transactional outbox: events for the dentist system, written beside the change they
describe (same transaction) and delivered later by `integrations.callbacks`.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from token_core.persistence.models import OutboxEvent


class EventType(enum.StrEnum):
    GUIDE_VALIDATED = "guia.validada"
    TOKEN_SENT = "token.enviado"
    FRAUD_REPORTED = "fraude.reportada"
    CHAT_RECEIPT = "recibo.chat"  # internal: our chat channels tell the beneficiary


# Events for our own workers, never posted to the dentist system.
INTERNAL_EVENTS = frozenset({EventType.CHAT_RECEIPT.value})


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with "Z", as the API writes datetimes."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def enqueue(event_type: EventType, data: dict[str, Any]) -> OutboxEvent:
    """Record an event to deliver. Call it inside the transaction of the change it reports."""
    return await OutboxEvent.create(
        event_id=uuid.uuid4(),
        event_type=event_type.value,
        payload=data,
        available_at=datetime.now(UTC),
    )
