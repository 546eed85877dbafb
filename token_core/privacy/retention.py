"""Retention: personal data older than its period goes, the records that must stay stay.

| what | after | how |
|---|---|---|
| chat transcripts | `transcripts_days` | rows deleted |
| console summaries of chats idle as long | `transcripts_days` | rows deleted |
| agents' notes on fraud reports | `fraud_notes_days` (from resolution) | note set to null |
| audit details | `audit_details_days` | detail set to {} (the event stays) |
| callback events delivered | `delivered_events_days` | rows deleted |

Idempotent (each step only touches what is still there) and safe on several workers at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from token_core import audit
from token_core.persistence.models import Conversation, FraudReport, OutboxEvent, TranscriptEntry
from token_core.persistence.sql import Connection, connection, param, sql
from token_core.persistence.transactions import atomic
from token_core.vocabulary import AuditKind, utc_now

# Empty details read '{}' as text on both databases (JSONB on PostgreSQL, JSON text on SQLite).
_COUNT_DETAILS = (
    "SELECT COUNT(*) AS n FROM audit_event WHERE at < ? AND CAST(detail AS TEXT) <> '{}'"
)
_CLEAR_DETAILS = (
    "UPDATE audit_event SET detail = '{}' WHERE at < ? AND CAST(detail AS TEXT) <> '{}'"
)


@dataclass(frozen=True, slots=True)
class RetentionPeriods:
    transcripts_days: int = 180
    fraud_notes_days: int = 1825
    audit_details_days: int = 1825
    delivered_events_days: int = 90


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    """What a purge removed (or, on a dry run, would remove)."""

    transcripts: int = 0
    conversations: int = 0
    fraud_notes: int = 0
    audit_details: int = 0
    delivered_events: int = 0

    @property
    def total(self) -> int:
        return sum(asdict(self).values())

    def as_detail(self) -> dict[str, int]:
        return asdict(self)

    def lines(self, periods: RetentionPeriods) -> list[str]:
        """One line per table, as `odontoken purge` prints them."""
        p = periods
        return [
            f"transcript_entry: {self.transcripts} rows (older than {p.transcripts_days} days)",
            f"conversation: {self.conversations} rows (idle for {p.transcripts_days} days)",
            f"fraud_report: {self.fraud_notes} notes (resolved {p.fraud_notes_days} days ago)",
            f"audit_event: {self.audit_details} details (older than {p.audit_details_days} days)",
            f"outbox_event: {self.delivered_events} delivered events "
            f"(older than {p.delivered_events_days} days)",
        ]


async def purge(
    periods: RetentionPeriods, *, dry_run: bool = False, now: datetime | None = None
) -> PurgeCounts:
    """Remove what is past its period (all or nothing); with `dry_run`, only count it."""
    now = now or utc_now()
    if dry_run:
        return await _count(periods, now)
    async with atomic() as conn:
        return await _remove(conn, periods, now)


async def purge_and_record(
    periods: RetentionPeriods,
    actor: str,
    *,
    now: datetime | None = None,
    record_nothing: bool = True,
) -> PurgeCounts:
    """Purge and write one `privacy.purged` event with the counts, in one transaction (a pass
    that removed nothing is recorded only with `record_nothing`).
    """
    now = now or utc_now()
    async with atomic() as conn:
        counts = await _remove(conn, periods, now)
        if counts.total or record_nothing:
            detail: dict[str, Any] = {**counts.as_detail(), "periods": asdict(periods)}
            await audit.For(actor).record(AuditKind.PRIVACY_PURGED, **detail)
    return counts


def _cutoffs(periods: RetentionPeriods, now: datetime) -> dict[str, datetime]:
    return {
        name: now - timedelta(days=days)
        for name, days in (
            ("transcripts", periods.transcripts_days),
            ("fraud_notes", periods.fraud_notes_days),
            ("audit_details", periods.audit_details_days),
            ("delivered_events", periods.delivered_events_days),
        )
    }


async def _count(periods: RetentionPeriods, now: datetime) -> PurgeCounts:
    cut = _cutoffs(periods, now)
    conn = connection()
    rows = await conn.execute_query_dict(
        sql(conn, _COUNT_DETAILS),
        [param(conn, cut["audit_details"])],
    )
    return PurgeCounts(
        transcripts=await TranscriptEntry.filter(at__lt=cut["transcripts"]).count(),
        conversations=await Conversation.filter(last_at__lt=cut["transcripts"]).count(),
        fraud_notes=await FraudReport.filter(
            note__isnull=False, resolved_at__lt=cut["fraud_notes"]
        ).count(),
        audit_details=int(rows[0]["n"]),
        delivered_events=await OutboxEvent.filter(delivered_at__lt=cut["delivered_events"]).count(),
    )


async def _remove(conn: Connection, periods: RetentionPeriods, now: datetime) -> PurgeCounts:
    cut = _cutoffs(periods, now)
    details, _ = await conn.execute_query(
        sql(conn, _CLEAR_DETAILS), [param(conn, cut["audit_details"])]
    )
    return PurgeCounts(
        transcripts=await TranscriptEntry.filter(at__lt=cut["transcripts"]).delete(),
        conversations=await Conversation.filter(last_at__lt=cut["transcripts"]).delete(),
        fraud_notes=await FraudReport.filter(
            note__isnull=False, resolved_at__lt=cut["fraud_notes"]
        ).update(note=None),
        audit_details=int(details),
        delivered_events=await OutboxEvent.filter(
            delivered_at__lt=cut["delivered_events"]
        ).delete(),
    )
