"""Validating a code for a guide: read the guide, one atomic attempt in the store (the rule is
in `single_use.py`), then VALIDADA with its audit and events in one statement.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from token_core import audit
from token_core.codes.budget import BudgetKind, ClientBudget
from token_core.codes.generation import new_validation_code, normalise_code_input
from token_core.codes.policy import TokenPolicy
from token_core.codes.single_use import (
    AttemptOutcome,
    AttemptStatus,
    Candidate,
    Scope,
    spent_marker,
)
from token_core.errors import Unavailable
from token_core.faults import is_outage
from token_core.guides.queries import GuideView, guide_view, record_validation
from token_core.keyring import Keyring
from token_core.metrics import NO_METRICS, Metrics
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, Channel, GuideStatus, utc_now

logger = logging.getLogger(__name__)
SETTLE_SECONDS = 2.0  # how long to ask the database what a failed statement did


class ValidationStatus(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    MALFORMED = "malformed"
    EXPIRED = "expired"
    ALREADY_USED = "already_used"
    GUIDE_LOCKED = "guide_locked"
    NOT_AWAITING = "not_awaiting"
    ALREADY_VALIDATED = "already_validated"
    GUIDE_NOT_FOUND = "guide_not_found"


@dataclass(frozen=True, slots=True)
class ValidationResult:
    status: ValidationStatus
    guide: str
    failures_left: int | None = None
    locked_until: datetime | None = None
    validated_at: datetime | None = None
    validation_code: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is ValidationStatus.VALID


_REFUSED_ATTEMPT = {
    AttemptStatus.INVALID: ValidationStatus.INVALID,
    AttemptStatus.EXPIRED: ValidationStatus.EXPIRED,
    AttemptStatus.USED: ValidationStatus.ALREADY_USED,
    AttemptStatus.GUIDE_LOCKED: ValidationStatus.GUIDE_LOCKED,
    AttemptStatus.BENEFICIARY_LIMIT: ValidationStatus.GUIDE_LOCKED,
}


@dataclass(frozen=True, slots=True)
class Spend:
    """A code the store spent (or handed over, RESUMED) for the guide in this attempt."""

    candidate: Candidate
    outcome: AttemptOutcome
    attempt_id: str


def guide_refusal(numero: str, guide: GuideView | None) -> ValidationResult | None:
    """Why no code can validate this guide now (absent, validated, cancelled), or None."""
    if guide is None:
        return ValidationResult(ValidationStatus.GUIDE_NOT_FOUND, numero)
    if guide.status is GuideStatus.VALIDATED:
        return ValidationResult(
            ValidationStatus.ALREADY_VALIDATED,
            numero,
            validated_at=guide.validated_at,
            validation_code=guide.validation_code,
        )
    if guide.status is not GuideStatus.AWAITING_TOKEN:
        return ValidationResult(ValidationStatus.NOT_AWAITING, numero)
    return None


def attempt_refusal(numero: str, outcome: AttemptOutcome, now: datetime) -> ValidationResult:
    """The answer for an attempt the store did not accept."""
    locked_until = None
    if outcome.retry_after is not None:
        locked_until = now + timedelta(seconds=outcome.retry_after)
    return ValidationResult(
        _REFUSED_ATTEMPT[outcome.status],
        numero,
        failures_left=outcome.failures_left,
        locked_until=locked_until,
    )


def candidate_scopes(guide: GuideView) -> list[Scope]:
    """The scopes a code typed for this guide may belong to: the guide's own code, and the
    beneficiary's open code when this is their oldest guide awaiting a token.
    """
    scopes = [Scope(guide.carteirinha, guide.numero)]
    if guide.first_awaiting:
        scopes.append(Scope(guide.carteirinha, None))
    return scopes


# What the store answers that is not a wrong guess: the client's failure budget is given back.
_NOT_A_FAILURE = {
    AttemptStatus.VALID,
    AttemptStatus.RESUMED,
    AttemptStatus.EXPIRED,
    AttemptStatus.USED,
    AttemptStatus.GUIDE_LOCKED,
    AttemptStatus.BENEFICIARY_LIMIT,
}


class TokenValidator:
    def __init__(
        self,
        store: EphemeralStore,
        keyring: Keyring,
        policy: TokenPolicy,
        budget: ClientBudget | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._store = store
        self._keyring = keyring
        self._policy = policy
        self._budget = budget or ClientBudget(store, policy)
        self._metrics = metrics
        self._shape = re.compile(rf"[0-9]{{{policy.digits}}}")

    @property
    def digits(self) -> int:
        return self._policy.digits

    async def validate(
        self,
        numero: str,
        typed: str,
        channel: Channel | None,
        actor: str,
        *,
        client: str | None = None,
    ) -> ValidationResult:
        """Check the code the beneficiary read out; spend it and validate the guide on a match.

        `client` (an API client's id) pays a wrong code from its hourly failure budget, counted
        before the comparison (ClientLimited once spent), and has its own beneficiary-wide
        failure counter in the store.
        """
        result = await self._validate(numero, typed, channel, actor, client)
        self._metrics.validated(result.status.value)
        return result

    async def _validate(
        self, numero: str, typed: str, channel: Channel | None, actor: str, client: str | None
    ) -> ValidationResult:
        code = normalise_code_input(typed)
        if not self._shape.fullmatch(code):
            return ValidationResult(ValidationStatus.MALFORMED, numero)
        guide = await guide_view(numero)
        trail = audit.For(actor, guide=numero, channel=channel)
        if guide is not None:
            trail = trail.bind(carteirinha=guide.carteirinha)
        refusal = guide_refusal(numero, guide)
        if refusal is not None:
            await trail.record(AuditKind.TOKEN_REJECTED, reason=refusal.status)
            return refusal
        assert guide is not None
        candidates = [
            Candidate(s, self._keyring.code_digest(s.label, code)) for s in candidate_scopes(guide)
        ]
        attempt_id = uuid.uuid4().hex
        if client:
            await self._budget.charge(BudgetKind.FAILURES, client, trail)
        outcome = await self._store.attempt(
            numero, candidates, self._policy.attempt_policy(), attempt_id, client or ""
        )
        if client and outcome.status in _NOT_A_FAILURE and not outcome.locked_now:
            await self._budget.refund(BudgetKind.FAILURES, client)
        if outcome.status in (AttemptStatus.VALID, AttemptStatus.RESUMED):
            spent = next(c for c in candidates if c.scope == outcome.matched)
            return await self._record_spent(guide, Spend(spent, outcome, attempt_id), trail)
        return await self._record_refused(numero, outcome, trail)

    async def _record_spent(
        self, guide: GuideView, spend: Spend, trail: audit.For
    ) -> ValidationResult:
        """The code is spent for this guide: make the guide VALIDADA with one statement.

        When that statement fails (database gone, request cancelled) its outcome is unknown:
        `_settle` asks the database what happened. The code goes back only when the guide is
        confirmed not validated; otherwise it stays spent for this guide, which a retry of the
        same validation finishes (RESUMED).
        """
        now = utc_now()
        validation_code = new_validation_code()
        scope_kind = "guide" if spend.candidate.scope.guide else "beneficiary"
        try:
            recorded = await record_validation(guide, now, validation_code, trail, scope_kind)
        except BaseException as exc:
            done = await asyncio.shield(self._settle(guide, spend, validation_code))
            if isinstance(exc, asyncio.CancelledError):
                raise
            if done is not None:
                return done  # the statement went through; only its answer was lost
            if is_outage(exc):
                raise Unavailable() from exc
            raise
        if recorded:
            return ValidationResult(
                ValidationStatus.VALID,
                guide.numero,
                validated_at=now,
                validation_code=validation_code,
            )
        # The guide changed between the read and the spend (cancelled, or validated by another
        # code): the spent code authorised nothing.
        refusal = guide_refusal(guide.numero, await guide_view(guide.numero))
        assert refusal is not None
        await trail.record(AuditKind.TOKEN_REJECTED, reason=refusal.status)
        return refusal

    async def _settle(
        self, guide: GuideView, spend: Spend, validation_code: str
    ) -> ValidationResult | None:
        """After a failed validation statement: the VALID result if it did commit; otherwise
        give the code back when the database confirms the guide still awaits a token.
        """
        try:
            current = await asyncio.wait_for(guide_view(guide.numero), SETTLE_SECONDS)
        except Exception:
            logger.warning(
                "guide %s: validation outcome unknown; the code stays spent for it", guide.numero
            )
            return None
        if current is None:
            return None
        if current.status is GuideStatus.VALIDATED and current.validation_code == validation_code:
            return ValidationResult(
                ValidationStatus.VALID,
                guide.numero,
                validated_at=current.validated_at,
                validation_code=validation_code,
            )
        if current.status is GuideStatus.AWAITING_TOKEN and spend.outcome.remaining_ttl:
            try:
                await self._store.restore_code(
                    spend.candidate.scope,
                    spend.candidate.digest,
                    spend.outcome.remaining_ttl,
                    self._policy.memory_seconds,
                    spent_marker(guide.numero, spend.attempt_id),
                )
            except Exception:
                logger.warning("guide %s: code not given back; it stays spent", guide.numero)
        return None

    async def _record_refused(
        self, numero: str, outcome: AttemptOutcome, trail: audit.For
    ) -> ValidationResult:
        """Audit a refused attempt (and the lock it may have caused); the answer for it."""
        result = attempt_refusal(numero, outcome, utc_now())
        reason = AttemptStatus.INVALID.value if outcome.locked_now else outcome.status.value
        await trail.record(
            AuditKind.TOKEN_REJECTED, reason=reason, failures_left=outcome.failures_left
        )
        if outcome.locked_now:
            assert result.locked_until is not None
            logger.warning("guide %s locked after too many wrong codes", numero)
            self._metrics.guide_locked()
            await trail.record(AuditKind.GUIDE_LOCKED, locked_until=result.locked_until.isoformat())
        return result
