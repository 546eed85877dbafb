"""The audit trail: one append-only row per token, guide, chat or support event.

Bind once who acted and on what, then record each event by its kind:

    trail = audit.For(actor, guide=numero, carteirinha=card, channel=channel)
    await trail.record(AuditKind.TOKEN_REJECTED, reason="invalid", failures_left=3)

Callers pass no code and no CPF; `detail` is for plain facts.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from token_core.persistence.models import AuditEvent
from token_core.vocabulary import AuditKind, Channel

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class For:
    """An audit recorder bound to an actor and, where known, a guide, a card and a channel."""

    actor: str
    guide: str | None = None
    carteirinha: str | None = None
    channel: Channel | None = None

    def bind(self, **changes: Any) -> For:
        """The same recorder with some bindings changed (e.g. the card once it is known)."""
        return dataclasses.replace(self, **changes)

    async def record(self, kind: AuditKind, reason: str | None = None, **detail: Any) -> AuditEvent:
        """Write one event and its log line."""
        event = await AuditEvent.create(
            kind=kind,
            actor=self.actor,
            guide_numero=self.guide,
            carteirinha=self.carteirinha,
            channel=self.channel,
            reason=reason,
            detail=detail,
        )
        self.log(kind, reason)
        return event

    def log(self, kind: AuditKind, reason: str | None = None) -> None:
        """Only the log line (for a row written by hand-made SQL)."""
        logger.info(
            "audit %s guide=%s carteirinha=%s channel=%s actor=%s reason=%s",
            kind.value,
            self.guide,
            self.carteirinha,
            self.channel,
            self.actor,
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
