"""Issuing codes: one live code per scope, rate-limited per beneficiary, audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from token_core import audit
from token_core.codes.budget import BudgetKind, ClientBudget
from token_core.codes.generation import SecretCode, new_code
from token_core.codes.policy import TokenPolicy
from token_core.codes.single_use import Scope
from token_core.errors import GuideAlreadyValidated, GuideConflict, RateLimited
from token_core.guides.service import GuideService
from token_core.keyring import Keyring
from token_core.metrics import NO_METRICS, Metrics
from token_core.persistence.models import Beneficiary, Guide
from token_core.registry import beneficiaries
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, Channel, GuideStatus, format_retry

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A fresh code: `code` goes into the delivery message and nowhere else."""

    code: SecretCode
    scope: Scope
    expires_at: datetime
    beneficiary: Beneficiary
    guide: Guide | None
    digest: str = field(repr=False, default="")  # the HMAC at rest, to revoke this code only
    live: bool = True  # False until `activate`: issued for a delivery not yet confirmed


class TokenIssuer:
    def __init__(
        self,
        store: EphemeralStore,
        keyring: Keyring,
        policy: TokenPolicy,
        guides: GuideService,
        budget: ClientBudget | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._store = store
        self._keyring = keyring
        self._policy = policy
        self._guides = guides
        self._budget = budget or ClientBudget(store, policy)
        self._metrics = metrics

    async def for_guide(
        self,
        numero: str,
        channel: Channel,
        actor: str,
        *,
        live: bool = True,
        client: str | None = None,
    ) -> IssuedCode:
        """A code that validates this guide only. Replaces the guide's previous code at once,
        or (live=False) only when `activate` is called after its delivery succeeded. An API
        `client` pays it from its hourly issue budget.
        """
        guide = await self._guides.get(numero)
        if guide.status is GuideStatus.VALIDATED:
            raise GuideAlreadyValidated(guide.validated_at)
        if guide.status is not GuideStatus.AWAITING_TOKEN:
            raise GuideConflict("Esta guia não está aguardando token.")
        beneficiary = await beneficiaries.active(guide.beneficiary.carteirinha)
        return await self._issue(beneficiary, guide, channel, actor, live, client)

    async def for_beneficiary(
        self, carteirinha: str, channel: Channel, actor: str, *, client: str | None = None
    ) -> IssuedCode:
        """A code for the beneficiary's first guide awaiting a token, registered now or later."""
        beneficiary = await beneficiaries.active(carteirinha)
        return await self._issue(beneficiary, None, channel, actor, True, client)

    async def _issue(
        self,
        beneficiary: Beneficiary,
        guide: Guide | None,
        channel: Channel,
        actor: str,
        live: bool,
        client: str | None,
    ) -> IssuedCode:
        carteirinha = beneficiary.carteirinha
        numero = guide.numero if guide else None
        trail = audit.For(actor, guide=numero, carteirinha=carteirinha, channel=channel)
        if client:
            await self._budget.charge(BudgetKind.ISSUES, client, trail)
        wait = await self._store.hit(
            f"issue:{carteirinha}",
            self._policy.issue_max_per_beneficiary,
            self._policy.issue_window_seconds,
        )
        if wait is not None:
            if client:  # nothing was issued
                await self._budget.refund(BudgetKind.ISSUES, client)
            retry_at = datetime.now(UTC) + timedelta(seconds=wait)
            await trail.record(AuditKind.TOKEN_RATE_LIMITED, retry_at=retry_at.isoformat())
            raise RateLimited(
                "Muitos códigos pedidos em pouco tempo. "
                f"Tente de novo após {format_retry(retry_at)}.",
                retry_at,
            )
        scope = Scope(carteirinha, numero)
        code = new_code(self._policy.digits)
        digest = self._keyring.code_digest(scope.label, code.reveal())
        if live:
            await self._store.put_code(
                scope, digest, self._policy.ttl_seconds, self._policy.memory_seconds
            )
        expires_at = datetime.now(UTC) + timedelta(seconds=self._policy.ttl_seconds)
        await trail.record(AuditKind.TOKEN_ISSUED, expires_at=expires_at.isoformat(), live=live)
        self._metrics.code_issued(channel)
        return IssuedCode(code, scope, expires_at, beneficiary, guide, digest, live)

    async def activate(self, issued: IssuedCode) -> IssuedCode:
        """Make a code issued with live=False the scope's live code (its delivery succeeded),
        replacing the one delivered before.
        """
        ttl = (issued.expires_at - datetime.now(UTC)).total_seconds()
        await self._store.put_code(
            issued.scope, issued.digest, max(ttl, 1.0), self._policy.memory_seconds
        )
        return replace(issued, live=True)

    async def revoke(
        self, scope: Scope, reason: str, actor: str, digest: str | None = None
    ) -> bool:
        """Stop a live code from working (delivery failed, fraud reported, guide cancelled).

        With `digest`, only that code: a newer one issued meanwhile stays live.
        """
        revoked = await self._store.revoke_code(scope, digest)
        await audit.For(actor, guide=scope.guide, carteirinha=scope.beneficiary).record(
            AuditKind.TOKEN_REVOKED, reason=reason, had_live_code=revoked
        )
        return revoked

    async def record_delivery(
        self, issued: IssuedCode, channel: Channel, actor: str, error: str | None = None
    ) -> None:
        """Audit a delivery. A failed one revokes the code; a good one sets the default channel."""
        scope = issued.scope
        trail = audit.For(actor, guide=scope.guide, carteirinha=scope.beneficiary, channel=channel)
        self._metrics.delivered(channel, "ok" if error is None else "failed")
        if error is not None:
            if not issued.live:  # never went live: the code delivered before keeps working
                await trail.record(
                    AuditKind.TOKEN_DELIVERY_FAILED, reason=error[:64], previous_code_kept=True
                )
                return
            await trail.record(AuditKind.TOKEN_DELIVERY_FAILED, reason=error[:64])
            await self.revoke(scope, "delivery_failed", actor, issued.digest)
            return
        await trail.record(AuditKind.TOKEN_DELIVERED)
        if issued.beneficiary.default_channel != channel:
            await beneficiaries.set_default_channel(issued.beneficiary.id, channel)
