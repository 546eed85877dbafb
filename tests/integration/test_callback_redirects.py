"""An event is delivered only when the configured URL itself answers 2xx: a redirect (to a login
page, say) is a failed attempt, never followed; a receiver down for a while gets every event,
once, when it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from integrations.callbacks import CallbackDispatcher
from tests.peers.redirecting_receiver import RedirectingCallbackReceiver
from tests.support import refs
from tests.support.waiting import wait_until
from token_core import outbox
from token_core.persistence.models import OutboxEvent
from token_core.vocabulary import EventType

CLIENT_ID = "odontoken-test"
SECRET = "segredo-dos-callbacks-de-teste-0123456789"
PARKED_UNTIL = datetime(2999, 1, 1, tzinfo=UTC)
REFUSED = "connection error: ClientConnectorError"


@pytest.fixture(autouse=True)
async def _park_other_events() -> AsyncIterator[None]:
    """Events other tests left pending wait out each test here, then are put back."""
    pending = await OutboxEvent.filter(delivered_at__isnull=True).values_list("id", "available_at")
    await OutboxEvent.filter(id__in=[id_ for id_, _ in pending]).update(available_at=PARKED_UNTIL)
    yield
    for id_, available_at in pending:
        await OutboxEvent.filter(id=id_).update(available_at=available_at)


@pytest.fixture
async def receiver() -> AsyncIterator[RedirectingCallbackReceiver]:
    async with RedirectingCallbackReceiver(CLIENT_ID, SECRET) as peer:
        yield peer


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def dispatcher(
    session: aiohttp.ClientSession, receiver: RedirectingCallbackReceiver, **options: float
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


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_a_failed_attempt_logged_with_its_location_and_never_followed(
    http: aiohttp.ClientSession,
    receiver: RedirectingCallbackReceiver,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    [event] = await enqueue()
    receiver.redirect, receiver.redirect_status = True, status

    with caplog.at_level(logging.INFO):
        assert await dispatcher(http, receiver).dispatch_due() == 0

    [row] = await rows([event])
    assert (row.attempts, row.delivered_at) == (1, None)
    assert row.last_error == f"HTTP {status} (redirect not followed)"
    assert row.available_at > datetime.now(UTC), "retried later, with backoff"
    assert (receiver.redirected, receiver.login_visits) == (1, 0)
    assert receiver.deliveries_by_id == {}
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("integrations"))
    assert f"answered {status} redirecting to {receiver.login_url}; not followed" in logged
    # Neither the redirect's query string (a session token) nor its fragment, nor the payload.
    for secret in ("sessao=", "token-da-sessao", "voltar=", "#formulario", "?"):
        assert secret not in logged
    for payload in ("Clínica São João", row.payload["numero"], "VALIDADA"):
        assert payload not in logged
    assert "delivered" not in logged


async def test_a_receiver_redirecting_to_its_login_page_gets_the_event_once_when_it_answers_2xx(
    http: aiohttp.ClientSession, receiver: RedirectingCallbackReceiver
) -> None:
    [event] = await enqueue()
    sender = dispatcher(http, receiver)
    receiver.redirect = True

    for attempt in (1, 2, 3):
        await wait_until_due([event])
        assert await sender.dispatch_due() == 0
        [row] = await rows([event])
        assert (row.attempts, row.last_error) == (attempt, "HTTP 302 (redirect not followed)")
        assert row.delivered_at is None
    assert (receiver.redirected, receiver.login_visits) == (3, 0)

    receiver.redirect = False
    await wait_until_due([event])
    assert await sender.dispatch_due() == 1
    assert await sender.dispatch_due() == 0
    [row] = await rows([event])
    assert row.attempts == 4 and row.delivered_at is not None
    assert receiver.deliveries_by_id == {str(event.event_id): 1}
    assert [e["id"] for e in receiver.events] == ids([event])
    assert receiver.refused == 0 and receiver.login_visits == 0


async def test_a_receiver_down_for_a_minute_then_back_gets_every_event_exactly_once(
    http: aiohttp.ClientSession, receiver: RedirectingCallbackReceiver
) -> None:
    # "Down for a minute", on the dispatcher's clock rather than the wall's: in production the
    # waits are 1, 2, 4, 8, 16, 32 s, so a minute down costs each event about six failed
    # attempts. Capping the backoff at 40 ms (polling every 20 ms) puts the same six failures per
    # event, three refused connections and then three 503s, into well under a second.
    events = await enqueue(5)
    await receiver.stop()  # connection refused
    sender = dispatcher(http, receiver, max_backoff=0.04, poll_seconds=0.02)
    stop = asyncio.Event()

    async def each_failed(times: int, error: str) -> bool:
        found = await rows(events)
        return all(r.attempts >= times and r.last_error == error for r in found)

    async def all_delivered() -> bool:
        return all(r.delivered_at is not None for r in await rows(events))

    async with asyncio.timeout(10):
        task = asyncio.create_task(sender.run(stop))
        try:
            await wait_until(lambda: each_failed(3, REFUSED))
            receiver.down = True  # listening again, answering 503
            await receiver.start()
            await wait_until(lambda: receiver.unavailable >= 3 * len(events))
            await wait_until(lambda: each_failed(4, "HTTP 503"))
            assert receiver.deliveries_by_id == {}

            receiver.down = False
            await wait_until(all_delivered)
            await asyncio.sleep(0.3)  # fifteen more polls: nothing is sent again
        finally:
            stop.set()
            await task

    assert receiver.deliveries_by_id == dict.fromkeys(ids(events), 1)
    assert sorted(e["id"] for e in receiver.events) == sorted(ids(events))
    assert receiver.refused == 0
    assert all(r.attempts >= 5 for r in await rows(events))
