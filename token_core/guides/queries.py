"""Named queries of guides. The validation hot path is hand-written SQL (one round trip each
instead of the ORM's several query builds); the same text runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from token_core import audit, outbox
from token_core.chat import links
from token_core.persistence.models import Guide
from token_core.persistence.sql import Connection, as_datetime, connection, is_postgres, param, sql
from token_core.persistence.transactions import atomic
from token_core.vocabulary import AuditKind, Channel, EventType, GuideStatus, iso_utc

_VIEW = """
SELECT g.id, g.numero, g.status, g.validated_at, g.validation_code, g.beneficiary_id,
       b.carteirinha,
       (SELECT f.id FROM guide f
         WHERE f.beneficiary_id = g.beneficiary_id AND f.status = 'AGUARDANDO_TOKEN'
         ORDER BY f.created_at, f.id LIMIT 1) AS first_awaiting_id
  FROM guide g JOIN beneficiary b ON b.id = g.beneficiary_id
 WHERE g.numero = ?
"""

# PostgreSQL: the guide update, its audit row and its outbox event in one atomic statement.
_VALIDATE_WITH_EVENTS_PG = """
WITH upd AS (
  UPDATE guide
     SET status = 'VALIDADA', validated_at = $1, updated_at = $1, validation_code = $2,
         validated_channel = $3
   WHERE id = $4 AND status = 'AGUARDANDO_TOKEN'
  RETURNING id
), audit AS (
  INSERT INTO audit_event (at, kind, guide_numero, carteirinha, channel, actor, reason, detail)
  SELECT $1, 'token.validated', $5, $6, $3, $7, NULL, $8::jsonb FROM upd
), event AS (
  INSERT INTO outbox_event (event_id, event_type, payload, created_at, available_at, attempts)
  SELECT $9::uuid, 'guia.validada', $10::jsonb, $1, $1, 0 FROM upd
), receipt AS (
  INSERT INTO outbox_event (event_id, event_type, payload, created_at, available_at, attempts)
  SELECT $11::uuid, 'recibo.chat', $12::jsonb, $1, $1, 0 FROM upd
   WHERE EXISTS (SELECT 1 FROM chat_link l JOIN guide g ON g.beneficiary_id = l.beneficiary_id
                  WHERE g.id = $4 AND l.revoked_at IS NULL)
)
SELECT count(*) AS changed FROM upd
"""

_MARK_VALIDATED = """
UPDATE guide
   SET status = 'VALIDADA', validated_at = ?, updated_at = ?, validation_code = ?,
       validated_channel = ?
 WHERE id = ? AND status = 'AGUARDANDO_TOKEN'
"""


@dataclass(frozen=True, slots=True)
class GuideView:
    """What validation needs to know about a guide, read in one query."""

    id: int
    numero: str
    status: GuideStatus
    validated_at: datetime | None
    validation_code: str | None
    beneficiary_id: int
    carteirinha: str
    first_awaiting: bool  # the beneficiary's oldest guide awaiting a token


async def guide_view(numero: str) -> GuideView | None:
    conn = connection()
    rows = await conn.execute_query_dict(sql(conn, _VIEW), [numero])
    if not rows:
        return None
    row = rows[0]
    return GuideView(
        id=int(row["id"]),
        numero=str(row["numero"]),
        status=GuideStatus(row["status"]),
        validated_at=as_datetime(row["validated_at"]),
        validation_code=row["validation_code"],
        beneficiary_id=int(row["beneficiary_id"]),
        carteirinha=str(row["carteirinha"]),
        first_awaiting=row["first_awaiting_id"] == row["id"],
    )


async def mark_validated(
    conn: Connection,
    guide_id: int,
    at: datetime,
    validation_code: str,
    channel: Channel | None,
) -> bool:
    """Move an awaiting guide to VALIDADA; False when it no longer awaits a token."""
    values = [
        param(conn, at),
        param(conn, at),
        validation_code,
        channel.value if channel else None,
        guide_id,
    ]
    changed, _ = await conn.execute_query(sql(conn, _MARK_VALIDATED), values)
    return bool(changed)


async def record_validation(
    guide: GuideView,
    at: datetime,
    validation_code: str,
    trail: audit.For,
    scope_kind: str,
) -> bool:
    """VALIDADA + audit + `guia.validada` event, all or nothing; False if no longer awaiting.
    `trail` names the actor and channel of the validation.
    """
    channel = trail.channel
    payload = {
        "numero": guide.numero,
        "carteirinha": guide.carteirinha,
        "status": GuideStatus.VALIDATED.value,
        "validada_em": iso_utc(at),
        "codigo_validacao": validation_code,
    }
    conn = connection()
    if is_postgres(conn):
        rows = await conn.execute_query_dict(
            _VALIDATE_WITH_EVENTS_PG,
            [
                at,
                validation_code,
                channel.value if channel else None,
                guide.id,
                guide.numero,
                guide.carteirinha,
                trail.actor,
                json.dumps({"scope": scope_kind}),
                str(uuid.uuid4()),
                json.dumps(payload, ensure_ascii=False),
                str(uuid.uuid4()),
                json.dumps({"numero": guide.numero}),
            ],
        )
        changed = bool(rows[0]["changed"])
        if changed:
            trail.log(AuditKind.TOKEN_VALIDATED)
        return changed
    async with atomic() as tx:
        changed = await mark_validated(tx, guide.id, at, validation_code, channel)
        if changed:
            await trail.record(AuditKind.TOKEN_VALIDATED, scope=scope_kind)
            await outbox.enqueue(EventType.GUIDE_VALIDATED, payload)
            if await links.channels_of(guide.beneficiary_id):
                await outbox.enqueue(EventType.CHAT_RECEIPT, {"numero": guide.numero})
    return changed


async def with_beneficiary(numero: str) -> Guide | None:
    """The guide with its beneficiary loaded."""
    return await Guide.get_or_none(numero=numero).select_related("beneficiary")


async def guide_of(numero: str, beneficiary_id: int) -> Guide | None:
    """The guide, only when it belongs to this beneficiary."""
    return await Guide.get_or_none(numero=numero, beneficiary_id=beneficiary_id)


async def awaiting(beneficiary_id: int) -> list[Guide]:
    """The beneficiary's guides awaiting a token, oldest first."""
    return await Guide.filter(
        beneficiary_id=beneficiary_id, status=GuideStatus.AWAITING_TOKEN
    ).order_by("created_at", "id")
