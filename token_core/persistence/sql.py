"""Hand-written SQL that runs the same text on SQLite and PostgreSQL (hot paths only)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient as Connection

__all__ = ["Connection", "as_datetime", "connection", "is_postgres", "param", "sql"]

_PLACEHOLDER = re.compile(r"\?")


def connection() -> Connection:
    return Tortoise.get_connection("default")


def is_postgres(conn: Connection) -> bool:
    return conn.capabilities.dialect == "postgres"


def sql(conn: Connection, text: str) -> str:
    """`?` placeholders as the connection's driver wants them ($1, $2 … on PostgreSQL)."""
    if not is_postgres(conn):
        return text
    counter = iter(range(1, 1000))
    return _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", text)


def param(conn: Connection, value: Any) -> Any:
    """SQLite keeps datetimes as text in the form Tortoise writes them."""
    if isinstance(value, datetime) and conn.capabilities.dialect == "sqlite":
        return str(value)
    return value


def as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
