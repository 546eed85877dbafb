"""The two backends the suite runs on: embedded (SQLite + in-process) and production
(PostgreSQL + Redis). Unreachable services fail the run; nothing is skipped.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

from token_core.storage.redis_store import RedisStore

TEST_PEPPER = "test-pepper-0123456789-abcdefghijklmnop"
PG_ADMIN_URL = os.environ.get("ODONTOKEN_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("ODONTOKEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def selected_backend() -> str:
    backend = os.environ.get("ODONTOKEN_TEST_BACKEND", "embedded")
    if backend not in ("embedded", "production"):
        raise RuntimeError(f"ODONTOKEN_TEST_BACKEND must be embedded or production, not {backend}")
    return backend


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this run, dropped at the end."""
    name = f"odontoken_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{PG_ADMIN_URL}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"{PG_ADMIN_URL}/{name}"
    finally:
        admin = await asyncpg.connect(f"{PG_ADMIN_URL}/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def sqlite_url(folder: Path) -> str:
    return f"sqlite://{folder / 'odontoken-test.sqlite3'}"


def redis_prefix() -> str:
    return f"odontoken-test:{uuid.uuid4().hex[:10]}:"


@asynccontextmanager
async def redis_store() -> AsyncIterator[RedisStore]:
    """A RedisStore under a fresh key prefix, whose keys are deleted at the end."""
    prefix = redis_prefix()
    store = RedisStore.from_url(REDIS_URL, prefix)
    await store.ping()
    try:
        yield store
    finally:
        await store.close()
        await redis_cleanup(prefix)


async def redis_dump(prefix: str) -> dict[str, object]:
    """Every key under `prefix` with its value, whatever its type."""
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    dump: dict[str, object] = {}
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=500):
            kind = await client.type(key)
            assert isinstance(kind, str)  # decode_responses=True; the stub also allows bytes
            if kind == "string":
                dump[key] = await client.get(key)
            elif kind == "hash":
                dump[key] = await client.hgetall(key)
            elif kind in ("list",):
                dump[key] = await client.lrange(key, 0, -1)
            elif kind == "set":
                dump[key] = sorted(await client.smembers(key))
            elif kind == "zset":
                dump[key] = await client.zrange(key, 0, -1, withscores=True)
            else:
                dump[key] = f"<{kind}>"
    finally:
        await client.aclose()
    return dump


async def redis_has_subscribers(channel_pattern: str) -> bool:
    """Whether any client is subscribed to a channel matching `channel_pattern` (a glob)."""
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        return bool(await client.pubsub_channels(channel_pattern))
    finally:
        await client.aclose()


async def redis_cleanup(prefix: str) -> None:
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def database_dump(url: str) -> str:
    """Everything the database holds, as SQL text (pg_dump or SQLite's iterdump)."""
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            return "\n".join(conn.iterdump())
    proc = await asyncio.create_subprocess_exec(
        "pg_dump",
        "--no-owner",
        url.replace("postgres://", "postgresql://", 1),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {err.decode(errors='replace')}")
    return out.decode()
