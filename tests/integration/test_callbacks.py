"""Outbox events reach the dentist system's receiver signed, once, through outages."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from integrations.callbacks import CallbackDispatcher
from tests.peers.callback_receiver import CallbackReceiver
from tests.support import refs
from tests.support.outbox import other_events_parked
from tests.support.waiting import wait_until
from token_core import outbox
from token_core.persistence.models import OutboxEvent
from token_core.vocabulary import EventType

CLIENT_ID = "odontoken-test"
SECRET = "segredo-dos-callbacks-de-teste-0123456789"


@pytest.fixture(autouse=True)
async def _park_other_events() -> AsyncIterator[None]:
    """Events other tests left pending wait out each test here, then are put back."""
    async with other_events_parked():
        yield


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    async with CallbackReceiver(CLIENT_ID, SECRET) as peer:
        yield peer


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def dispatcher(
    session: aiohttp.ClientSession, receiver: CallbackReceiver, **options: float
) -> CallbackDispatcher:
    settings = {"timeout": 1.0, "max_backoff": 0.05, "poll_seconds": 0.02, "lease_seconds": 5.0}
    settings |= options
    return CallbackDispatcher(session, receiver.url, CLIENT_ID, SECRET, **settings)


async def enqueue(count: int = 1) -> list[OutboxEvent]:
    data = {"numero": refs.guide_number(), "clinica": "Clínica São João", "status": "VALIDADA"}
    return [await outbox.enqueue(EventType.GUIDE_VALIDATED, data) for _ in range(count)]


async def rows(events: list[OutboxEvent]) -> list[OutboxEvent]:
    return await OutboxEvent.filter(id__in=[e.id for e in events]).order_by("id")


async def wait_until_due(events: list[OutboxEvent]) -> None:
    latest = max(row.available_at for row in await rows(events))
    await asyncio.sleep(max((latest - datetime.now(UTC)).total_seconds(), 0) + 0.01)


def ids(events: list[OutboxEvent]) -> list[str]:
    return [str(e.event_id) for e in events]


async def test_an_event_is_delivered_once_signed_with_its_type_time_and_data(
    http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    [event] = await enqueue()
    sender = dispatcher(http, receiver)

    assert await sender.dispatch_due() == 1
    assert await sender.dispatch_due() == 0

    [row] = await rows([event])
    created = event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    expected = {"id": str(event.event_id), "tipo": "guia.validada", "criado_em": created}
    expected["dados"] = row.payload  # as stored: PostgreSQL's jsonb orders the keys its own way
    assert receiver.refused == 0
    assert receiver.events == [expected]
    compact = json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
    assert receiver.bodies == [compact]
    assert "Clínica São João".encode() in receiver.bodies[0]
    assert receiver.deliveries_by_id == {str(event.event_id): 1}
    assert row.delivered_at is not None and row.attempts == 1 and row.last_error is None


async def test_a_pass_delivers_the_due_events_in_id_order(
    http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    events = await enqueue(5)
    assert await dispatcher(http, receiver).dispatch_due() == 5
    assert [e["id"] for e in receiver.events] == ids(events)


async def test_a_receiver_down_then_refusing_connections_gets_every_event_once_when_back(
    http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    events = await enqueue(5)
    sender = dispatcher(http, receiver, max_backoff=0.2)
    receiver.down = True

    before = datetime.now(UTC)
    assert await sender.dispatch_due() == 0
    assert await sender.dispatch_due() == 0, "failed events wait out their backoff"
    for row in await rows(events):
        assert (row.attempts, row.last_error, row.delivered_at) == (1, "HTTP 503", None)
        assert row.available_at > before + timedelta(seconds=0.15)

    await receiver.stop()
    await wait_until_due(events)
    assert await sender.dispatch_due() == 0
    for row in await rows(events):
        assert row.attempts == 2 and row.last_error == "connection error: ClientConnectorError"

    receiver.down = False
    await receiver.start()
    await wait_until_due(events)
    assert await sender.dispatch_due() == 5
    assert receiver.unavailable == 5
    assert receiver.deliveries_by_id == dict.fromkeys(ids(events), 1)
    assert [row.attempts for row in await rows(events)] == [3] * 5


async def test_the_wait_after_a_failure_doubles_from_one_second_up_to_max_backoff(
    http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    [event] = await enqueue()
    sender = dispatcher(http, receiver, max_backoff=3)
    receiver.down = True
    waits = []
    for _ in range(4):
        await OutboxEvent.filter(id=event.id).update(available_at=datetime.now(UTC))
        started = datetime.now(UTC)
        await sender.dispatch_due()
        [row] = await rows([event])
        waits.append((row.available_at - started).total_seconds())
    for wait, nominal in zip(waits, [1, 2, 3, 3], strict=True):
        assert nominal * 0.89 < wait < nominal + 0.5, waits
    receiver.down = False
    await OutboxEvent.filter(id=event.id).update(available_at=datetime.now(UTC))
    assert await sender.dispatch_due() == 1


async def test_two_dispatchers_racing_over_fifty_events_deliver_each_once(
    receiver: CallbackReceiver,
) -> None:
    events = await enqueue(50)
    async with aiohttp.ClientSession() as one, aiohttp.ClientSession() as two:
        first, second = dispatcher(one, receiver), dispatcher(two, receiver)
        counts = await asyncio.gather(first.dispatch_due(), second.dispatch_due())
    assert sum(counts) == 50
    assert receiver.deliveries_by_id == dict.fromkeys(ids(events), 1)
    assert all(row.attempts == 1 and row.delivered_at for row in await rows(events))


async def test_a_receiver_slower_than_the_timeout_counts_as_a_failure_and_is_retried(
    http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    [event] = await enqueue()
    sender = dispatcher(http, receiver, timeout=0.2)
    receiver.delay = 0.6

    assert await sender.dispatch_due() == 0
    [row] = await rows([event])
    assert (row.attempts, row.last_error, row.delivered_at) == (1, "timeout after 0.2 s", None)

    receiver.delay = 0
    await wait_until_due([event])
    assert await sender.dispatch_due() == 1
    # The late copy was taken in but never acknowledged: the receiver saw it twice, keeps one.
    assert receiver.deliveries_by_id == {str(event.event_id): 2}
    assert [e["id"] for e in receiver.events] == ids([event])


async def test_run_delivers_new_events_and_stops_promptly_when_asked(
    http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher(http, receiver, poll_seconds=0.02).run(stop))
    events = await enqueue(3)
    async with asyncio.timeout(5):
        await receiver.wait_for_events(3)
    assert [e["id"] for e in receiver.events] == ids(events)

    sleeper = asyncio.create_task(dispatcher(http, receiver, poll_seconds=60).run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    async with asyncio.timeout(0.5):
        await asyncio.gather(task, sleeper)


async def test_a_failing_pass_is_logged_and_a_crashed_claim_is_retried_after_its_lease(
    http: aiohttp.ClientSession, receiver: CallbackReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    [event] = await enqueue()
    closed = aiohttp.ClientSession()
    await closed.close()
    broken = dispatcher(closed, receiver, timeout=0.1, lease_seconds=0.2, poll_seconds=0.02)
    stop = asyncio.Event()

    def failures() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.message == "outbox dispatch pass failed"]

    with caplog.at_level(logging.ERROR, logger="integrations.outbox_worker"):
        task = asyncio.create_task(broken.run(stop))
        await wait_until(lambda: len(failures()) >= 2)  # it goes on after a failed pass
        stop.set()
        await task
    assert all(r.exc_info for r in failures())

    await wait_until_due([event])
    assert await dispatcher(http, receiver).dispatch_due() == 1
    assert receiver.deliveries_by_id == {str(event.event_id): 1}


async def test_a_lease_no_longer_than_the_timeout_is_refused(http: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="lease_seconds"):
        CallbackDispatcher(http, "http://127.0.0.1:9/", "c", "s", 10, 60, 1, lease_seconds=10)
