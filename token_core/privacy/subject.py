"""A data subject's request (LGPD art. 18): everything held about one person, found by card.

`holdings` gathers it: the registry row, chat links, guides, audit events (by card, by guide, by
chat), transcripts and conversations (by beneficiary and by the person's chats, before linking
too), fraud reports and callback events naming the card. `export` turns it into JSON, as stored
(transcripts and the CPF are stored masked); contacts are masked unless `full_contacts`.
"""

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
    OutboxEvent,
    TranscriptEntry,
)
from token_core.persistence.sql import connection, sql
from token_core.registry.identity import Mobile, mask_email
from token_core.vocabulary import iso_utc

_EVENTS_NAMING = "SELECT id FROM outbox_event WHERE CAST(payload AS TEXT) LIKE ?"
_AUDIT_NAMING = "SELECT id FROM audit_event WHERE CAST(detail AS TEXT) LIKE ?"


@dataclass
class Holdings:
    beneficiary: Beneficiary
    links: list[ChatLink]
    guides: list[Guide]
    audit: list[AuditEvent]
    transcripts: list[TranscriptEntry]
    conversations: list[Conversation]
    fraud_reports: list[FraudReport]
    events: list[OutboxEvent]
    chats: set[tuple[str, str]] = field(default_factory=set)

    @property
    def chat_actors(self) -> list[str]:
        return [f"chat:{channel}:{chat_id}" for channel, chat_id in sorted(self.chats)]


async def holdings(carteirinha: str) -> Holdings | None:
    """Everything held about the beneficiary with this card; None if there is none."""
    ben = await Beneficiary.get_or_none(carteirinha=carteirinha)
    if ben is None:
        return None
    links = await ChatLink.filter(beneficiary_id=ben.id).order_by("id")
    chats = {(str(link.channel), link.chat_id) for link in links}
    guides = await Guide.filter(beneficiary_id=ben.id).order_by("id")
    numeros = [g.numero for g in guides]
    found = Holdings(ben, links, guides, [], [], [], [], [], chats)
    found.audit = _by_id(
        await AuditEvent.filter(carteirinha=carteirinha),
        await AuditEvent.filter(guide_numero__in=numeros) if numeros else [],
        await AuditEvent.filter(actor__in=found.chat_actors) if chats else [],
        *[await _naming(AuditEvent, _AUDIT_NAMING, chat_id) for _c, chat_id in sorted(chats)],
    )
    found.transcripts = _by_id(
        await TranscriptEntry.filter(beneficiary_id=ben.id),
        *[await TranscriptEntry.filter(channel=c, chat_id=i) for c, i in sorted(chats)],
    )
    found.conversations = _by_id(
        await Conversation.filter(beneficiary_id=ben.id),
        *[await Conversation.filter(channel=c, chat_id=i) for c, i in sorted(chats)],
    )
    found.fraud_reports = await FraudReport.filter(beneficiary_id=ben.id).order_by("id")
    found.events = await events_naming(carteirinha)
    return found


async def events_naming(carteirinha: str) -> list[OutboxEvent]:
    """Callback events whose payload holds the card (as a JSON string value)."""
    events: list[OutboxEvent] = await _naming(OutboxEvent, _EVENTS_NAMING, carteirinha)
    return events


async def _naming(model: Any, query: str, name: str) -> list[Any]:
    """Rows whose JSON column holds `name` as a string value (e.g. a hand-off's chat id)."""
    conn = connection()
    rows = await conn.execute_query_dict(sql(conn, query), [f'%"{name}"%'])
    ids = [row["id"] for row in rows]
    return list(await model.filter(id__in=ids).order_by("id")) if ids else []


def _by_id(*batches: list[Any]) -> list[Any]:
    """The rows of several queries, each once, oldest first."""
    return sorted({row.id: row for batch in batches for row in batch}.values(), key=_id)


def _id(row: Any) -> int:
    return int(row.id)


async def export(carteirinha: str, *, full_contacts: bool = False) -> dict[str, Any] | None:
    """Everything held about the person, as JSON-ready data; None for an unknown card."""
    found = await holdings(carteirinha)
    if found is None:
        return None
    b = found.beneficiary
    mobile = b.mobile and (b.mobile if full_contacts else Mobile(b.mobile).masked)
    email = b.email and (b.email if full_contacts else mask_email(b.email))
    return {
        "carteirinha": b.carteirinha,
        "contatos_completos": full_contacts,
        "cadastro": {
            "nome": b.name,
            "cpf": b.cpf_masked,
            "celular": mobile,
            "celular_origem": b.mobile_source,
            "email": email,
            "email_origem": b.email_source,
            "ativo": b.active,
            "canal_padrao": b.default_channel.value if b.default_channel else None,
            "criado_em": _when(b.created_at),
            "atualizado_em": _when(b.updated_at),
        },
        "vinculos_chat": [
            {
                "canal": str(link.channel),
                "chat": link.chat_id,
                "vinculado_em": _when(link.linked_at),
                "revogado_em": _when(link.revoked_at),
            }
            for link in found.links
        ],
        "guias": [_guide(g) for g in found.guides],
        "auditoria": [_event(e) for e in found.audit],
        "transcricoes": [
            {
                "em": _when(t.at),
                "canal": str(t.channel),
                "chat": t.chat_id,
                "direcao": str(t.direction),
                "texto": t.text,
            }
            for t in found.transcripts
        ],
        "conversas": [
            {
                "canal": str(c.channel),
                "chat": c.chat_id,
                "estado": c.state,
                "ultima_mensagem": c.last_text,
                "ultima_em": _when(c.last_at),
            }
            for c in found.conversations
        ],
        "relatos_fraude": [
            {
                "em": _when(r.at),
                "guia": r.guide_numero,
                "canal": str(r.channel),
                "chat": r.chat_id,
                "resultado": r.outcome,
                "nota": r.note,
                "resolvido_em": _when(r.resolved_at),
            }
            for r in found.fraud_reports
        ],
        "eventos_enviados": [
            {"tipo": e.event_type, "criado_em": _when(e.created_at), "dados": e.payload}
            for e in found.events
        ],
    }


def _guide(g: Guide) -> dict[str, Any]:
    return {
        "numero": g.numero,
        "status": str(g.status),
        "dentista": g.dentist_name,
        "cro": g.dentist_cro,
        "clinica": g.clinic,
        "procedimentos": g.procedures,
        "criada_em": _when(g.created_at),
        "validada_em": _when(g.validated_at),
        "cancelada_em": _when(g.cancelled_at),
    }


def _event(e: AuditEvent) -> dict[str, Any]:
    return {
        "em": _when(e.at),
        "tipo": str(e.kind),
        "guia": e.guide_numero,
        "canal": str(e.channel) if e.channel else None,
        "ator": e.actor,
        "razao": e.reason,
        "detalhe": e.detail,
    }


def _when(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment else None
