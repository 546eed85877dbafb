"""Validating a code for a guide: one atomic store step, then the guide becomes VALIDADA."""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from token_core import audit
from token_core.codes.generation import new_validation_code, normalise_code_input
from token_core.codes.policy import TokenPolicy
from token_core.guides.queries import GuideView, guide_view, record_validation
from token_core.keyring import Keyring
from token_core.storage.ports import AttemptStatus, Candidate, EphemeralStore, Scope
from token_core.vocabulary import AuditKind, Channel, GuideStatus

logger = logging.getLogger(__name__)


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


_STORE_TO_RESULT = {
    AttemptStatus.INVALID: ValidationStatus.INVALID,
    AttemptStatus.EXPIRED: ValidationStatus.EXPIRED,
    AttemptStatus.USED: ValidationStatus.ALREADY_USED,
    AttemptStatus.GUIDE_LOCKED: ValidationStatus.GUIDE_LOCKED,
    AttemptStatus.BENEFICIARY_LIMIT: ValidationStatus.GUIDE_LOCKED,
}


class TokenValidator:
    def __init__(self, store: EphemeralStore, keyring: Keyring, policy: TokenPolicy) -> None:
        self._store = store
        self._keyring = keyring
        self._policy = policy
        self._shape = re.compile(rf"[0-9]{{{policy.digits}}}")

    async def validate(
        self, numero: str, typed: str, channel: Channel | None, actor: str
    ) -> ValidationResult:
        """Check the code the beneficiary read out; spend it and validate the guide on a match."""
        code = normalise_code_input(typed)
        if not self._shape.fullmatch(code):
            return ValidationResult(ValidationStatus.MALFORMED, numero)
        guide = await guide_view(numero)
        if guide is None:
            await audit.record(
                AuditKind.TOKEN_REJECTED,
                actor=actor,
                guide=numero,
                channel=channel,
                reason=ValidationStatus.GUIDE_NOT_FOUND,
            )
            return ValidationResult(ValidationStatus.GUIDE_NOT_FOUND, numero)
        carteirinha = guide.carteirinha
        early = self._status_refusal(guide)
        if early is not None:
            await audit.record(
                AuditKind.TOKEN_REJECTED,
                actor=actor,
                guide=numero,
                carteirinha=carteirinha,
                channel=channel,
                reason=early.status,
            )
            return early
        candidates = [self._candidate(Scope(carteirinha, numero), code)]
        if guide.first_awaiting:
            candidates.append(self._candidate(Scope(carteirinha, None), code))
        outcome = await self._store.attempt(numero, candidates, self._policy.attempt_policy())
        if outcome.status is AttemptStatus.VALID:
            spent = next(c for c in candidates if c.scope == outcome.matched)
            try:
                return await self._mark_validated(guide, channel, actor, spent.scope)
            except BaseException:
                # The code was spent but the guide was not validated (database down, request
                # cancelled): give the code back so the beneficiary can read it out again.
                restore = self._store.restore_code(
                    spent.scope,
                    spent.digest,
                    outcome.remaining_ttl or 1.0,
                    self._policy.memory_seconds,
                )
                await asyncio.shield(restore)
                raise
        status = _STORE_TO_RESULT[outcome.status]
        locked_until = None
        if outcome.retry_after is not None:
            locked_until = datetime.now(UTC) + timedelta(seconds=outcome.retry_after)
        reason = outcome.status.value
        if outcome.locked_now:
            reason = AttemptStatus.INVALID.value
        await audit.record(
            AuditKind.TOKEN_REJECTED,
            actor=actor,
            guide=numero,
            carteirinha=carteirinha,
            channel=channel,
            reason=reason,
            failures_left=outcome.failures_left,
        )
        if outcome.locked_now:
            assert locked_until is not None
            logger.warning("guide %s locked after too many wrong codes", numero)
            await audit.record(
                AuditKind.GUIDE_LOCKED,
                actor=actor,
                guide=numero,
                carteirinha=carteirinha,
                channel=channel,
                locked_until=locked_until.isoformat(),
            )
        return ValidationResult(
            status, numero, failures_left=outcome.failures_left, locked_until=locked_until
        )

    def _candidate(self, scope: Scope, code: str) -> Candidate:
        return Candidate(scope, self._keyring.code_digest(scope.label, code))

    @staticmethod
    def _status_refusal(guide: GuideView) -> ValidationResult | None:
        if guide.status is GuideStatus.VALIDATED:
            return ValidationResult(
                ValidationStatus.ALREADY_VALIDATED,
                guide.numero,
                validated_at=guide.validated_at,
                validation_code=guide.validation_code,
            )
        if guide.status is not GuideStatus.AWAITING_TOKEN:
            return ValidationResult(ValidationStatus.NOT_AWAITING, guide.numero)
        return None

    async def _mark_validated(
        self, guide: GuideView, channel: Channel | None, actor: str, matched: Scope
    ) -> ValidationResult:
        now = datetime.now(UTC)
        validation_code = new_validation_code()
        scope_kind = "guide" if matched.guide else "beneficiary"
        if not await record_validation(guide, now, validation_code, channel, actor, scope_kind):
            # The guide changed between the read and the spend (cancelled, or validated by
            # another code): the spent code authorised nothing.
            current = await guide_view(guide.numero)
            refusal = self._status_refusal(current) if current else None
            assert refusal is not None
            await audit.record(
                AuditKind.TOKEN_REJECTED,
                actor=actor,
                guide=guide.numero,
                carteirinha=guide.carteirinha,
                channel=channel,
                reason=refusal.status,
            )
            return refusal
        return ValidationResult(
            ValidationStatus.VALID, guide.numero, validated_at=now, validation_code=validation_code
        )
