"""Guides: registration by the dentist system, cancellation, the beneficiary's waiting list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from token_core import audit, outbox
from token_core.codes.single_use import Scope
from token_core.errors import GuideAlreadyValidated, GuideConflict, GuideNotFound
from token_core.guides import queries
from token_core.persistence.models import Beneficiary, Guide
from token_core.persistence.transactions import DuplicateKey, atomic
from token_core.registry import beneficiaries
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, EventType, GuideStatus, iso_utc


@dataclass(frozen=True, slots=True)
class GuideDraft:
    """What the dentist system sends to register a guide."""

    numero: str
    carteirinha: str
    dentist_name: str
    dentist_cro: str
    clinic: str = ""
    procedures: list[dict[str, Any]] = field(default_factory=list)


def _same_content(guide: Guide, draft: GuideDraft, beneficiary_id: int) -> bool:
    return (
        guide.beneficiary_id == beneficiary_id  # type: ignore[attr-defined]
        and guide.dentist_name == draft.dentist_name
        and guide.dentist_cro == draft.dentist_cro
        and guide.clinic == draft.clinic
        and guide.procedures == draft.procedures
    )


class GuideService:
    def __init__(self, store: EphemeralStore) -> None:
        self._store = store

    async def register(self, draft: GuideDraft, actor: str) -> tuple[Guide, bool]:
        """Create a guide awaiting a token; the same content again returns it unchanged.

        Returns the guide and whether it was created now. A known number with other content
        raises GuideConflict.
        """
        beneficiary = await beneficiaries.active(draft.carteirinha)
        existing = await Guide.get_or_none(numero=draft.numero)
        if existing is None:
            try:
                return await self._create(draft, beneficiary, actor), True
            except DuplicateKey:
                # The same number registered by a concurrent request a moment ago.
                existing = await Guide.get(numero=draft.numero)
        if _same_content(existing, draft, beneficiary.id):
            return existing, False
        raise GuideConflict("Já existe uma guia com este número e outro conteúdo.")

    async def _create(self, draft: GuideDraft, beneficiary: Beneficiary, actor: str) -> Guide:
        async with atomic():
            guide = await Guide.create(
                numero=draft.numero,
                beneficiary=beneficiary,
                dentist_name=draft.dentist_name,
                dentist_cro=draft.dentist_cro,
                clinic=draft.clinic,
                procedures=draft.procedures,
            )
            await audit.For(actor, guide=draft.numero, carteirinha=draft.carteirinha).record(
                AuditKind.GUIDE_REGISTERED
            )
        return guide

    async def get(self, numero: str) -> Guide:
        guide = await queries.with_beneficiary(numero)
        if guide is None:
            raise GuideNotFound()
        return guide

    async def cancel(self, numero: str, actor: str, reason: str | None = None) -> Guide:
        """Cancel a guide awaiting a token, revoke the code bound to it and tell the dentist
        system (`guia.cancelada`, in the same transaction). A validated guide cannot be.
        """
        guide = await self.get(numero)
        now = datetime.now(UTC)
        carteirinha = guide.beneficiary.carteirinha
        async with atomic():
            changed = await Guide.filter(id=guide.id, status=GuideStatus.AWAITING_TOKEN).update(
                status=GuideStatus.CANCELLED, cancelled_at=now, updated_at=now
            )
            if changed:
                await audit.For(actor, guide=numero, carteirinha=carteirinha).record(
                    AuditKind.GUIDE_CANCELLED, motivo=reason
                )
                await outbox.enqueue(
                    EventType.GUIDE_CANCELLED,
                    {
                        "numero": numero,
                        "carteirinha": carteirinha,
                        "status": GuideStatus.CANCELLED.value,
                        "cancelada_em": iso_utc(now),
                        "motivo": reason,
                    },
                )
        if not changed:
            current = await self.get(numero)
            if current.status is GuideStatus.VALIDATED:
                raise GuideAlreadyValidated(current.validated_at)
            raise GuideConflict("Só uma guia aguardando token pode ser cancelada.")
        await self._store.revoke_code(Scope(carteirinha, numero))
        return await self.get(numero)

    async def unlock(self, numero: str, actor: str, reason: str | None = None) -> bool:
        """Lift the lock put on a guide after too many wrong codes (support only)."""
        guide = await self.get(numero)
        carteirinha = guide.beneficiary.carteirinha
        unlocked = await self._store.unlock_guide(carteirinha, numero)
        if unlocked:
            await audit.For(actor, guide=numero, carteirinha=carteirinha).record(
                AuditKind.GUIDE_UNLOCKED, motivo=reason
            )
        return unlocked
