"""The audit trail: one append-only row per token, guide, chat or support event.

Bind once who acted and on what, then record each event by its kind:

    trail = audit.For(actor, guide=numero, carteirinha=card, channel=channel)
    await trail.record(AuditKind.TOKEN_REJECTED, reason="invalid", failures_left=3)

Callers pass no code and no CPF; `detail` is for plain facts. Every text in `reason` and
`detail` is masked all the same (token_core/chat/redaction.py) before it is stored.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from token_core.chat.redaction import mask_sensitive
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
            reason=mask_sensitive(reason)[:64] if reason else reason,
            detail=_masked(detail),
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


# Detail keys whose values are identifiers, kept as they are (like the actor "chat:…:<id>").
_IDENTIFIER_KEYS = frozenset({"chat", "login"})


def _masked(value: Any) -> Any:
    """`value` with every string in it masked (dicts and lists walked), but identifiers."""
    if isinstance(value, str):
        return mask_sensitive(value)
    if isinstance(value, dict):
        return {
            key: item if key in _IDENTIFIER_KEYS else _masked(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


async def trail(*, guide: str | None = None, carteirinha: str | None = None) -> list[AuditEvent]:
    """Events of a guide or a beneficiary, oldest first."""
    query = AuditEvent.all()
    if guide is not None:
        query = query.filter(guide_numero=guide)
    if carteirinha is not None:
        query = query.filter(carteirinha=carteirinha)
    return await query.order_by("id")
