"""Hand-written SQL for the validation hot path (one round trip each instead of the ORM's
several query builds); the same text runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

from token_core.models import Channel, GuideStatus

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
