"""Named queries behind the supervisors' pages: the overview (Painel) and the audit (Auditoria).

Numbers come from the audit trail, so they count what happened whichever worker did it: codes
issued (`token.issued`) per channel and day (Brasília), validations (`token.validated`) against
refusals (`token.rejected`), and the median time from a code's issue to its validation.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from token_core.persistence.models import AuditEvent, Conversation, FraudReport
from token_core.persistence.sql import connection, param, sql
from token_core.vocabulary import BRASILIA, AuditKind, Channel, ConversationState, utc_now

DAYS = 14
# The median is taken over the latest validations of the window (a page, not a report).
MEDIAN_SAMPLE = 2000
AUDIT_PAGE = 200

_ISSUED_PER_CHANNEL = """
SELECT channel, COUNT(*) AS n FROM audit_event
 WHERE kind = ? AND at >= ? AND at < ?
 GROUP BY channel
"""


@dataclass(frozen=True, slots=True)
class Overview:
    days: list[date]  # oldest first, Brasília calendar days
    issued: dict[date, dict[str, int]]  # day → channel → codes issued
    validated: int
    rejected: int
    median_seconds: float | None  # issue → validation, over `paired` validations
    paired: int
    open_handoffs: int
    open_fraud_reports: int

    @property
    def channels(self) -> list[str]:
        """The channels that issued a code in the window, in the vocabulary's order."""
        used = {c for counts in self.issued.values() for c, n in counts.items() if n}
        return [c.value for c in Channel if c.value in used]

    @property
    def issued_total(self) -> int:
        return sum(sum(counts.values()) for counts in self.issued.values())

    @property
    def success_rate(self) -> float | None:
        attempts = self.validated + self.rejected
        return self.validated / attempts if attempts else None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A Brasília calendar day as a UTC interval [start, end)."""
    start = datetime.combine(day, time(), BRASILIA)
    end = datetime.combine(day + timedelta(days=1), time(), BRASILIA)
    return start.astimezone(UTC), end.astimezone(UTC)


async def overview(now: datetime | None = None, days: int = DAYS) -> Overview:
    """The last `days` Brasília days up to `now` (today included)."""
    now = now or utc_now()
    today = now.astimezone(BRASILIA).date()
    calendar = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    since, _ = day_bounds(calendar[0])
    _, until = day_bounds(today)
    until = min(until, now.astimezone(UTC) + timedelta(microseconds=1))
    window = {"at__gte": since, "at__lt": until}
    issued = {day: await _issued_on(day) for day in calendar}
    validated = await AuditEvent.filter(kind=AuditKind.TOKEN_VALIDATED, **window).count()
    rejected = await AuditEvent.filter(kind=AuditKind.TOKEN_REJECTED, **window).count()
    durations = await _issue_to_validation(since, until)
    return Overview(
        days=calendar,
        issued=issued,
        validated=validated,
        rejected=rejected,
        median_seconds=statistics.median(durations) if durations else None,
        paired=len(durations),
        open_handoffs=await Conversation.filter(state=ConversationState.WAITING.value).count(),
        open_fraud_reports=await FraudReport.filter(resolved_at=None).count(),
    )


async def _issued_on(day: date) -> dict[str, int]:
    start, end = day_bounds(day)
    conn = connection()
    args = [AuditKind.TOKEN_ISSUED.value, param(conn, start), param(conn, end)]
    rows = await conn.execute_query_dict(sql(conn, _ISSUED_PER_CHANNEL), args)
    return {str(r["channel"] or "—"): int(r["n"]) for r in rows}


@dataclass(frozen=True, slots=True)
class Moment:
    """One audit row as the pairing needs it."""

    at: datetime
    guide: str | None
    carteirinha: str | None
    scope: str | None = None  # of a validation: "guide" or "beneficiary"


def issue_to_validation(issued: Iterable[Moment], validated: Iterable[Moment]) -> list[float]:
    """Seconds from each validation's code issue: the guide's last `token.issued` before its
    `token.validated`; for a code issued for "the next guide" (scope beneficiary), the
    beneficiary's last such code. Validations with no issue in sight are left out.
    """
    by_guide: dict[str, list[datetime]] = {}
    open_codes: dict[str, list[datetime]] = {}
    for row in issued:
        if row.guide:
            by_guide.setdefault(row.guide, []).append(row.at)
        elif row.carteirinha:
            open_codes.setdefault(row.carteirinha, []).append(row.at)
    seconds = []
    for v in validated:
        if v.scope == "beneficiary":
            candidates = open_codes.get(v.carteirinha or "", [])
        else:
            candidates = by_guide.get(v.guide or "", [])
        before = [at for at in candidates if at <= v.at]
        if before:
            seconds.append((v.at - max(before)).total_seconds())
    return seconds


async def _issue_to_validation(since: datetime, until: datetime) -> list[float]:
    rows = (
        await AuditEvent.filter(kind=AuditKind.TOKEN_VALIDATED, at__gte=since, at__lt=until)
        .order_by("-id")
        .limit(MEDIAN_SAMPLE)
        .values_list("at", "guide_numero", "carteirinha", "detail")
    )
    validated = [Moment(at, guide, card, _scope(detail)) for at, guide, card, detail in rows]
    if not validated:
        return []
    earliest = min(v.at for v in validated) - timedelta(days=1)
    guides = sorted({v.guide for v in validated if v.guide})
    cards = sorted({v.carteirinha for v in validated if v.carteirinha})
    issued: list[Moment] = []
    for chunk in _chunks(guides):
        issued += await _issued_rows(earliest, until, guide_numero__in=chunk)
    for chunk in _chunks(cards):
        issued += await _issued_rows(earliest, until, carteirinha__in=chunk, guide_numero=None)
    return issue_to_validation(issued, validated)


async def _issued_rows(since: datetime, until: datetime, **match: Any) -> list[Moment]:
    rows = await AuditEvent.filter(
        kind=AuditKind.TOKEN_ISSUED, at__gte=since, at__lt=until, **match
    ).values_list("at", "guide_numero", "carteirinha")
    return [Moment(at, guide, card) for at, guide, card in rows]


def _scope(detail: Any) -> str | None:
    return str(detail.get("scope")) if isinstance(detail, dict) and detail.get("scope") else None


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# — Auditoria ———————————————————————————————————————————————————————————————————————————


async def audit_events(
    *,
    carteirinha: str | None = None,
    guide: str | None = None,
    actor: str | None = None,
    limit: int = AUDIT_PAGE,
) -> list[AuditEvent]:
    """The latest audit events, newest first, narrowed by card, guide and/or actor (a part of
    the actor is enough: "ana" finds "agent:ana").
    """
    rows = AuditEvent.all()
    if carteirinha:
        rows = rows.filter(carteirinha="".join(c for c in carteirinha if c not in " ."))
    if guide:
        rows = rows.filter(guide_numero=guide.strip().upper())
    if actor:
        rows = rows.filter(actor__icontains=actor.strip()[:64])
    return await rows.order_by("-id").limit(limit)


async def resolved_fraud_reports(limit: int = 20) -> list[FraudReport]:
    """The latest resolved fraud reports, for the queue's history."""
    return (
        await FraudReport.filter(resolved_at__not_isnull=True)
        .select_related("beneficiary")
        .order_by("-resolved_at")
        .limit(limit)
    )
