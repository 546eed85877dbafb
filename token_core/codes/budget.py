"""Budgets per API client: wrong answers and codes issued per hour.

The per-guide and per-beneficiary limits bound what anyone can do to one person; these bound
what one API credential (a dentist system, the portal) can do to everyone: a stolen or buggy
credential gets `client_failures_per_hour` wrong codes, CPFs or contacts and
`client_issues_per_hour` codes per hour in all, then 429 for that client only.

A failure is counted *before* the comparison it pays for, in one store call (`hit`), and given
back (`refund`) when the comparison turns out not to be a failure, so concurrent requests can
never compare more than the budget allows.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from token_core import audit
from token_core.codes.policy import TokenPolicy
from token_core.errors import RateLimited
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, format_retry, iso_utc

logger = logging.getLogger(__name__)
BUDGET_WINDOW_SECONDS = 3600.0


class BudgetKind(enum.StrEnum):
    FAILURES = "client_failures"  # wrong codes, CPFs or contacts
    ISSUES = "client_issues"  # codes issued


_WHAT = {
    BudgetKind.FAILURES: "tentativas com dados que não conferem",
    BudgetKind.ISSUES: "códigos pedidos",
}

# Called once per client, kind and window when a client goes over a budget: the hook for the
# metric an operator alerts on (the WARNING log line below is the alert until then).
BudgetObserver = Callable[[str, BudgetKind], None]


class ClientLimited(RateLimited):
    """An API client spent its hourly budget; other clients are not affected."""

    def __init__(self, kind: BudgetKind, retry_at: datetime) -> None:
        super().__init__(
            f"Este sistema atingiu o limite de {_WHAT[kind]} por hora. "
            f"Tente de novo após {format_retry(retry_at)}.",
            retry_at,
        )
        self.kind = kind


class ClientBudget:
    def __init__(
        self,
        store: EphemeralStore,
        policy: TokenPolicy,
        on_exceeded: BudgetObserver | None = None,
    ) -> None:
        self._store = store
        self._limits = {
            BudgetKind.FAILURES: policy.client_failures_per_hour,
            BudgetKind.ISSUES: policy.client_issues_per_hour,
        }
        self._on_exceeded = on_exceeded

    @staticmethod
    def _key(kind: BudgetKind, client: str) -> str:
        return f"budget:{kind.value}:{client}"

    async def charge(self, kind: BudgetKind, client: str, trail: audit.For) -> None:
        """Count one event for `client`; ClientLimited (audited) once the budget is spent."""
        limit = self._limits[kind]
        wait = await self._store.hit(self._key(kind, client), limit, BUDGET_WINDOW_SECONDS)
        if wait is None:
            return
        retry_at = datetime.now(UTC) + timedelta(seconds=wait)
        await trail.record(
            AuditKind.TOKEN_RATE_LIMITED, reason=kind.value, retry_at=iso_utc(retry_at)
        )
        await self._alert(kind, client, limit, retry_at, wait)
        raise ClientLimited(kind, retry_at)

    async def refund(self, kind: BudgetKind, client: str) -> None:
        """Give back one event charged for something that turned out not to count."""
        await self._store.refund(self._key(kind, client))

    async def _alert(
        self, kind: BudgetKind, client: str, limit: int, retry_at: datetime, wait: float
    ) -> None:
        """One WARNING (and one observer call) per client, kind and window, not one per
        refused request: a flood of refusals must not flood the log.
        """
        first = await self._store.set_if_absent(
            f"budget-alerted:{kind.value}:{client}", uuid.uuid4().hex, max(wait, 1.0)
        )
        if not first:
            return
        logger.warning(
            "client budget exceeded: client=%s budget=%s limit=%d/h refused_until=%s",
            client,
            kind.value,
            limit,
            iso_utc(retry_at),
        )
        if self._on_exceeded is not None:
            self._on_exceeded(client, kind)
