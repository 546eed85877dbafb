"""Hand-written SQL for the validation hot path (one round trip each instead of the ORM's
several query builds); the same text runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from token_core import audit, outbox
from token_core.persistence.models import AuditKind, Channel, ChatLink, GuideStatus

_PLACEHOLDER = re.compile(r"\?")

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


def _sql(conn: BaseDBAsyncClient, text: str) -> str:
    if conn.capabilities.dialect != "postgres":
        return text
    counter = iter(range(1, 1000))
    return _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", text)


def _param(conn: BaseDBAsyncClient, value: Any) -> Any:
    """SQLite keeps datetimes as text in the form Tortoise writes them."""
    if isinstance(value, datetime) and conn.capabilities.dialect == "sqlite":
        return str(value)
    return value


def _datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def default_connection() -> BaseDBAsyncClient:
    return Tortoise.get_connection("default")


async def guide_view(numero: str) -> GuideView | None:
    conn = default_connection()
    rows = await conn.execute_query_dict(_sql(conn, _VIEW), [numero])
    if not rows:
        return None
    row = rows[0]
    return GuideView(
        id=int(row["id"]),
        numero=str(row["numero"]),
        status=GuideStatus(row["status"]),
        validated_at=_datetime(row["validated_at"]),
        validation_code=row["validation_code"],
        beneficiary_id=int(row["beneficiary_id"]),
        carteirinha=str(row["carteirinha"]),
        first_awaiting=row["first_awaiting_id"] == row["id"],
    )


async def mark_validated(
    conn: BaseDBAsyncClient,
    guide_id: int,
    at: datetime,
    validation_code: str,
    channel: Channel | None,
) -> bool:
    """Move an awaiting guide to VALIDADA; False when it no longer awaits a token."""
    values = [
        _param(conn, at),
        _param(conn, at),
        validation_code,
        channel.value if channel else None,
        guide_id,
    ]
    changed, _ = await conn.execute_query(_sql(conn, _MARK_VALIDATED), values)
    return bool(changed)


async def record_validation(
    guide: GuideView,
    at: datetime,
    validation_code: str,
    channel: Channel | None,
    actor: str,
    scope_kind: str,
) -> bool:
    """VALIDADA + audit + `guia.validada` event, all or nothing; False if no longer awaiting."""
    payload = {
        "numero": guide.numero,
        "carteirinha": guide.carteirinha,
        "status": GuideStatus.VALIDATED.value,
        "validada_em": outbox.iso_utc(at),
        "codigo_validacao": validation_code,
    }
    conn = default_connection()
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            _VALIDATE_WITH_EVENTS_PG,
            [
                at,
                validation_code,
                channel.value if channel else None,
                guide.id,
                guide.numero,
                guide.carteirinha,
                actor,
                json.dumps({"scope": scope_kind}),
                str(uuid.uuid4()),
                json.dumps(payload, ensure_ascii=False),
                str(uuid.uuid4()),
                json.dumps({"numero": guide.numero}),
            ],
        )
        changed = bool(rows[0]["changed"])
        if changed:
            audit.log_event(
                AuditKind.TOKEN_VALIDATED,
                actor=actor,
                guide=guide.numero,
                carteirinha=guide.carteirinha,
                channel=channel,
                reason=None,
            )
        return changed
    async with in_transaction() as tx:
        changed = await mark_validated(tx, guide.id, at, validation_code, channel)
        if changed:
            await audit.record(
                AuditKind.TOKEN_VALIDATED,
                actor=actor,
                guide=guide.numero,
                carteirinha=guide.carteirinha,
                channel=channel,
                scope=scope_kind,
            )
            await outbox.enqueue(outbox.EventType.GUIDE_VALIDATED, payload)
            if await ChatLink.filter(beneficiary_id=guide.beneficiary_id, revoked_at=None).exists():
                await outbox.enqueue(outbox.EventType.CHAT_RECEIPT, {"numero": guide.numero})
    return changed
