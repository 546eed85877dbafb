"""Named queries behind the console's pages: what support reads, masked as stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from token_core.persistence.models import (
    AuditEvent,
    Beneficiary,
    ChatLink,
    Conversation,
    FraudReport,
    Guide,
)
from token_core.registry.identity import Mobile, mask_email
from token_core.vocabulary import CHAT_CHANNELS, AuditKind, GuideStatus, utc_now


@dataclass(frozen=True, slots=True)
class BeneficiaryPanel:
    """A beneficiary as an agent sees it: never a full CPF, phone or e-mail."""

    id: int
    carteirinha: str
    name: str
    cpf: str
    mobile: str | None
    email: str | None
    active: bool
    default_channel: str | None
    chats: list[dict[str, str]] = field(default_factory=list)
    guides: list[Guide] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)


async def conversations(
    state: str | None, query: str | None, limit: int = 100
) -> list[Conversation]:
    """Newest first; `query` is a carteirinha, a guide number or the phone's last 4 digits."""
    rows = Conversation.all().select_related("beneficiary")
    if state:
        rows = rows.filter(state=state)
    if query:
        ids = [b.id for b in await find_beneficiaries(query)]
        rows = rows.filter(beneficiary_id__in=ids or [0])
    return await rows.order_by("-last_at", "-id").limit(limit)


async def find_beneficiaries(query: str, limit: int = 50) -> list[Beneficiary]:
    """By carteirinha (dots and spaces ignored), a guide number, or the last 4 phone digits."""
    text = query.strip()[:40]
    if not text:
        return []
    digits = "".join(c for c in text if c.isdigit())
    found: dict[int, Beneficiary] = {}
    if len(digits) == 4 and len(text) <= 6:
        for b in await Beneficiary.filter(mobile__endswith=digits).order_by("id").limit(limit):
            found[b.id] = b
    cards = {
        text,
        "".join(c for c in text if c not in " ."),
        "".join(c for c in text if c not in " .-"),
    }
    for b in await Beneficiary.filter(carteirinha__in=sorted(cards)):
        found[b.id] = b
    numeros = sorted({text, text.upper()})
    for guide in await Guide.filter(numero__in=numeros).select_related("beneficiary"):
        found[guide.beneficiary.id] = guide.beneficiary
    return sorted(found.values(), key=lambda b: b.carteirinha)[:limit]


async def beneficiary_panel(beneficiary_id: int | None) -> BeneficiaryPanel | None:
    if beneficiary_id is None:
        return None
    ben = await Beneficiary.get_or_none(id=beneficiary_id)
    if ben is None:
        return None
    chats = [
        {
            "canal": str(link.channel.value),
            "nome": CHAT_CHANNELS.get(link.channel, "chat"),
            "chat": link.chat_id,
        }
        for link in await ChatLink.filter(beneficiary_id=ben.id, revoked_at=None).order_by("id")
    ]
    guides = await Guide.filter(beneficiary_id=ben.id).order_by("-created_at").limit(20)
    events = (
        await AuditEvent.filter(carteirinha=ben.carteirinha)
        .exclude(kind=AuditKind.SAB_LOOKUP)
        .order_by("-id")
        .limit(30)
    )
    return BeneficiaryPanel(
        id=ben.id,
        carteirinha=ben.carteirinha,
        name=ben.name,
        cpf=ben.cpf_masked,
        mobile=Mobile(ben.mobile).masked if ben.mobile else None,
        email=mask_email(ben.email) if ben.email else None,
        active=ben.active,
        default_channel=ben.default_channel.value if ben.default_channel else None,
        chats=chats,
        guides=guides,
        events=list(events),
    )


async def open_fraud_reports(limit: int = 200) -> list[dict[str, Any]]:
    """Fraud reports not yet resolved, oldest first, with the guide and its dentist."""
    reports = (
        await FraudReport.filter(resolved_at=None)
        .select_related("beneficiary")
        .order_by("at")
        .limit(limit)
    )
    numeros = [r.guide_numero for r in reports if r.guide_numero]
    guides = {g.numero: g for g in await Guide.filter(numero__in=numeros)}
    return [
        {
            "relato": r,
            "guia": guides.get(r.guide_numero or ""),
            "carteirinha": r.beneficiary.carteirinha,
        }
        for r in reports
    ]


async def awaiting_guides(beneficiary_id: int) -> list[Guide]:
    return await Guide.filter(
        beneficiary_id=beneficiary_id, status=GuideStatus.AWAITING_TOKEN
    ).order_by("created_at", "id")


async def guide_locks(numeros: list[str]) -> dict[str, datetime]:
    """Guides still locked by wrong codes, with the time the lock ends (from the audit trail:
    the latest lock or unlock of each guide).
    """
    if not numeros:
        return {}
    rows = await AuditEvent.filter(
        guide_numero__in=numeros, kind__in=[AuditKind.GUIDE_LOCKED, AuditKind.GUIDE_UNLOCKED]
    ).order_by("id")
    latest = {row.guide_numero: row for row in rows if row.guide_numero}
    now = utc_now()
    locks: dict[str, datetime] = {}
    for numero, row in latest.items():
        until = row.detail.get("locked_until") if row.kind is AuditKind.GUIDE_LOCKED else None
        if until and datetime.fromisoformat(until) > now:
            locks[numero] = datetime.fromisoformat(until)
    return locks


async def linking_candidates(beneficiary_id: int, limit: int = 30) -> list[Conversation]:
    """Recent chats that may be locked out of linking: this person's and unlinked ones."""
    unlinked = (
        await Conversation.filter(beneficiary_id__isnull=True)
        .order_by("-last_at", "-id")
        .limit(limit)
    )
    own = await Conversation.filter(beneficiary_id=beneficiary_id).order_by("-last_at", "-id")
    return [*own, *unlinked]
