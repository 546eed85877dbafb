"""The stored schedule (e.g. code messages to delete when their code expires): shared by every
worker, each due item taken by exactly one of them, nothing taken early.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support import backends, refs
from token_core.storage.memory import InProcessStore
from token_core.storage.ports import EphemeralStore
from token_core.storage.redis_store import RedisStore


@pytest.fixture(params=["in-process", "redis", "redis-cluster"])
async def any_store(
    request: pytest.FixtureRequest, cluster_url: str
) -> AsyncIterator[EphemeralStore]:
    if request.param == "in-process":
        yield InProcessStore()
        return
    if request.param == "redis-cluster":
        cluster = RedisStore.from_url(cluster_url, backends.redis_prefix())
        yield cluster
        await cluster.close()
        return
    async with backends.redis_store() as store:
        yield store


async def test_due_items_are_taken_in_time_order_and_only_once(any_store: EphemeralStore) -> None:
    kind = f"delete-{refs.suffix()}"
    await any_store.schedule(kind, "late", 2000.0)
    await any_store.schedule(kind, "second", 1500.0)
    await any_store.schedule(kind, "first", 1000.0)
    assert await any_store.take_due(kind, 999.0) == []
    assert await any_store.take_due(kind, 1600.0) == ["first", "second"]
    assert await any_store.take_due(kind, 1600.0) == []
    assert await any_store.take_due(kind, 2000.0) == ["late"]


async def test_workers_taking_at_once_share_the_due_items_without_overlap(
    any_store: EphemeralStore,
) -> None:
    kind = f"delete-{refs.suffix()}"
    for n in range(100):
        await any_store.schedule(kind, f"m{n}", float(n))
    batches = await asyncio.gather(*(any_store.take_due(kind, 1000.0, 10) for _ in range(20)))
    taken = [m for batch in batches for m in batch]
    assert sorted(taken) == sorted(f"m{n}" for n in range(100))
