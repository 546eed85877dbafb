"""The audit trail: one append-only row per token or guide event."""

from __future__ import annotations

import logging
from typing import Any

from token_core.persistence.models import AuditEvent
from token_core.vocabulary import AuditKind, Channel

logger = logging.getLogger(__name__)


async def record(
    kind: AuditKind,
    *,
    actor: str,
    guide: str | None = None,
    carteirinha: str | None = None,
    channel: Channel | None = None,
    reason: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Write one audit event. Callers pass no code and no CPF; `detail` is for plain facts."""
    event = await AuditEvent.create(
        kind=kind,
        actor=actor,
        guide_numero=guide,
        carteirinha=carteirinha,
        channel=channel,
        reason=reason,
        detail=detail,
    )
    log_event(
        kind, actor=actor, guide=guide, carteirinha=carteirinha, channel=channel, reason=reason
    )
    return event


def log_event(
    kind: AuditKind,
    *,
    actor: str,
    guide: str | None,
    carteirinha: str | None,
    channel: Channel | None,
    reason: str | None,
) -> None:
    """The log line of an audit event (also for rows written by hand-made SQL)."""
    logger.info(
        "audit %s guide=%s carteirinha=%s channel=%s actor=%s reason=%s",
        kind.value,
        guide,
        carteirinha,
        channel,
        actor,
        reason,
    )


async def trail(*, guide: str | None = None, carteirinha: str | None = None) -> list[AuditEvent]:
    """Events of a guide or a beneficiary, oldest first."""
    query = AuditEvent.all()
    if guide is not None:
        query = query.filter(guide_numero=guide)
    if carteirinha is not None:
        query = query.filter(carteirinha=carteirinha)
    return await query.order_by("id")
