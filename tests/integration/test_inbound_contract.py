"""Durable inbound updates, one contract for both stores: each chat's updates are handled once,
in order; other chats go on at once; a resent update is dropped; a flooding chat is capped.
On Redis, two workers share one stream, and a dead worker's updates are taken over.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from tests.support import backends, refs
from tests.support.waiting import wait_until
from token_core.chat.inbound import InboundQueue, InboundUpdate, Pushed
from token_core.storage.memory_inbound import InProcessInbound
from token_core.storage.redis_inbound import RedisInbound
from token_core.storage.redis_store import RedisStore
from token_core.vocabulary import Channel

TG = Channel.TELEGRAM


@pytest.fixture
async def redis_client() -> AsyncIterator[tuple[Redis, str]]:
    client = Redis.from_url(backends.REDIS_URL, decode_responses=True)
    prefix = backends.redis_prefix()
    try:
        yield client, prefix
    finally:
        await client.aclose()
        await backends.redis_cleanup(prefix)


@pytest.fixture(params=["in-process", "redis", "redis-cluster"])
async def make_queue(
    request: pytest.FixtureRequest, redis_client: tuple[Redis, str], cluster_url: str
) -> AsyncIterator[Callable[..., InboundQueue]]:
    client, prefix = redis_client
    cluster = RedisStore.from_url(cluster_url, backends.redis_prefix())

    def make(cap: int = 50, claim_after: float = 30, consumer: str | None = None) -> InboundQueue:
        if request.param == "in-process":
            return InProcessInbound(cap)
        if request.param == "redis-cluster":
            return cluster.inbound(cap, claim_after)
        return RedisInbound(client, prefix, cap, claim_after, consumer=consumer)

    yield make
    await cluster.close()


def update(chat: str, n: int, uid: str | None = None) -> InboundUpdate:
    return InboundUpdate(TG, chat, uid or f"{chat}-{n}", str(n))


class Worker:
    """Runs a queue's consumer, recording what it handled, until stopped."""

    def __init__(self, queue: InboundQueue, slow: float = 0.0) -> None:
        self.queue = queue
        self.handled: list[tuple[str, int]] = []
        self.slow = slow
        self._stop = False
        self._task: asyncio.Task[None] | None = None

    async def handle(self, item: InboundUpdate) -> None:
        if self.slow:
            await asyncio.sleep(random.uniform(0, self.slow))
        self.handled.append((item.chat_id, int(item.payload)))

    def start(self) -> Worker:
        self._task = asyncio.create_task(self.queue.run(self.handle, lambda: self._stop))
        return self

    async def stop(self) -> None:
        self._stop = True
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)


async def test_each_chat_is_handled_once_and_in_order_while_chats_run_side_by_side(
    make_queue: Callable[..., InboundQueue],
) -> None:
    queue = make_queue()
    chats = [refs.suffix() for _ in range(4)]
    for n in range(15):
        for chat in chats:
            assert await queue.push(update(chat, n)) is Pushed.QUEUED
    worker = Worker(queue, slow=0.01).start()
    try:
        await wait_until(lambda: len(worker.handled) == 60, within=20)
    finally:
        await worker.stop()
    for chat in chats:
        assert [n for c, n in worker.handled if c == chat] == list(range(15))


async def test_a_resent_update_is_dropped(make_queue: Callable[..., InboundQueue]) -> None:
    queue = make_queue()
    chat = refs.suffix()
    assert await queue.push(update(chat, 1, uid="same")) is Pushed.QUEUED
    assert await queue.push(update(chat, 1, uid="same")) is Pushed.DUPLICATE
    worker = Worker(queue).start()
    try:
        await wait_until(lambda: worker.handled, within=10)
        await asyncio.sleep(0.3)
    finally:
        await worker.stop()
    assert worker.handled == [(chat, 1)]


async def test_a_chat_over_its_cap_is_told_once_and_drained_it_queues_again(
    make_queue: Callable[..., InboundQueue],
) -> None:
    queue = make_queue(cap=3)
    chat = refs.suffix()
    results = [await queue.push(update(chat, n)) for n in range(5)]
    assert results == [Pushed.QUEUED] * 3 + [Pushed.OVER_CAP_FIRST, Pushed.OVER_CAP]
    other = refs.suffix()
    assert await queue.push(update(other, 0)) is Pushed.QUEUED  # other chats are not capped
    worker = Worker(queue).start()
    try:
        await wait_until(lambda: len(worker.handled) == 4, within=10)
        assert await queue.push(update(chat, 9)) is Pushed.QUEUED
        await wait_until(lambda: len(worker.handled) == 5, within=10)
    finally:
        await worker.stop()
    assert [n for c, n in worker.handled if c == chat] == [0, 1, 2, 9]


async def test_an_update_that_fails_does_not_block_its_chat(
    make_queue: Callable[..., InboundQueue],
) -> None:
    queue = make_queue()
    chat = refs.suffix()
    for n in range(3):
        await queue.push(update(chat, n))
    seen: list[int] = []

    async def handle(item: InboundUpdate) -> None:
        seen.append(int(item.payload))
        if item.payload == "1":
            raise RuntimeError("a broken update")

    stop = False
    task = asyncio.create_task(queue.run(handle, lambda: stop))
    try:
        await wait_until(lambda: len(seen) == 3, within=10)
    finally:
        stop = True
        await asyncio.wait_for(task, 10)
    assert seen == [0, 1, 2]


@pytest.mark.parametrize("make_queue", ["redis"], indirect=True)
async def test_two_workers_share_the_stream_each_update_once_each_chat_in_order(
    make_queue: Callable[..., InboundQueue],
) -> None:
    first, second = make_queue(consumer="w1"), make_queue(consumer="w2")
    chats = [refs.suffix() for _ in range(6)]
    workers = [Worker(first, slow=0.01).start(), Worker(second, slow=0.01).start()]
    try:
        for n in range(10):
            for chat in chats:
                await (first if n % 2 else second).push(update(chat, n))
        await wait_until(lambda: sum(len(w.handled) for w in workers) == 60, within=30)
    finally:
        for w in workers:
            await w.stop()
    handled = workers[0].handled + workers[1].handled
    assert sorted(handled) == sorted((c, n) for c in chats for n in range(10))
    assert workers[0].handled and workers[1].handled  # both took part


@pytest.mark.parametrize("make_queue", ["redis"], indirect=True)
async def test_updates_a_dead_worker_took_are_handled_by_another(
    make_queue: Callable[..., InboundQueue], redis_client: tuple[Redis, str]
) -> None:
    client, prefix = redis_client
    dead = make_queue(claim_after=0.5, consumer="dead")
    assert isinstance(dead, RedisInbound)
    chat = refs.suffix()
    for n in range(3):
        await dead.push(update(chat, n))
    await dead._ensure_group()
    taken = await dead._read(block_ms=100)  # the worker read them, then died unacknowledged
    assert len(taken) == 3
    survivor = Worker(make_queue(claim_after=0.5, consumer="alive")).start()
    try:
        await wait_until(lambda: len(survivor.handled) == 3, within=10)
    finally:
        await survivor.stop()
    assert survivor.handled == [(chat, 0), (chat, 1), (chat, 2)]
    stream = f"{prefix}{{inbound}}:stream"
    assert (await client.xpending(stream, "workers"))["pending"] == 0


@pytest.mark.parametrize("make_queue", ["redis"], indirect=True)
async def test_an_entry_delivered_again_after_it_was_handled_is_not_handled_twice(
    make_queue: Callable[..., InboundQueue], redis_client: tuple[Redis, str]
) -> None:
    client, prefix = redis_client
    queue = make_queue(consumer="w")
    chat = refs.suffix()
    await queue.push(update(chat, 0))
    worker = Worker(queue).start()
    try:
        await wait_until(lambda: worker.handled == [(chat, 0)], within=10)
        # The same entry again, as a redelivery after a crash between handling and the ack.
        fields = {"chat": f"telegram:{chat}", "channel": "telegram", "seq": "1"}
        fields |= {"update": f"{chat}-0", "payload": "0"}
        stream = f"{prefix}{{inbound}}:stream"
        await client.xadd(stream, fields)  # type: ignore[arg-type]
        await wait_until(lambda: client.xpending(stream, "workers"), within=5)  # read by the group…
        await asyncio.sleep(0.5)
    finally:
        await worker.stop()
    assert worker.handled == [(chat, 0)]  # …acknowledged without handling it again
