"""Events reach the dentist system's receiver signed, once each, even across an outage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import World
from tests.peers.callback_receiver import CallbackReceiver
from tests.support.outbox import other_events_parked
from tests.support.server import RunningServer, running_server, server_settings
from tests.support.waiting import wait_until
from token_core.persistence.models import OutboxEvent
from token_core.vocabulary import Channel

SECRET = "callback-secret-for-tests-0123456789"


@pytest.fixture(autouse=True)
async def _park_other_events() -> AsyncIterator[None]:
    """Events other tests left pending (hundreds, in a full run) wait out each test here, then
    are put back: against a receiver that is down, the server would otherwise retry those first.
    """
    async with other_events_parked():
        yield


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    async with CallbackReceiver("odontoken", SECRET) as peer:
        yield peer


@pytest.fixture
async def server(tmp_path: Path, receiver: CallbackReceiver) -> AsyncIterator[RunningServer]:
    settings = server_settings(
        tmp_path,
        callbacks={
            "url": receiver.url,
            "client_id": "odontoken",
            "secret": SECRET,
            "poll_seconds": 0.05,
            "max_backoff_seconds": 0.3,
            "timeout_seconds": 2,
        },
    )
    async with running_server(settings) as running:
        yield running


async def validate_new_guide(server: RunningServer, world: World) -> str:
    guide = await world.guide()
    issued = await server.services.issuer.for_guide(guide.numero, Channel.SMS, actor="sio")
    ok = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": issued.code.reveal()}
    )
    assert ok.status == 200
    return guide.numero


def events_for(receiver: CallbackReceiver, numeros: list[str]) -> dict[str, dict[str, Any]]:
    return {
        e["dados"]["numero"]: e
        for e in receiver.events
        if e["tipo"] == "guia.validada" and e["dados"]["numero"] in numeros
    }


async def outbox_rows(numeros: list[str]) -> list[OutboxEvent]:
    events = await OutboxEvent.filter(event_type="guia.validada")
    return [e for e in events if e.payload["numero"] in numeros]


async def test_a_validated_guide_is_told_to_the_receiver_once(
    server: RunningServer, world: World, receiver: CallbackReceiver
) -> None:
    numero = await validate_new_guide(server, world)
    await wait_until(lambda: numero in events_for(receiver, [numero]), within=10)
    event = events_for(receiver, [numero])[numero]
    assert event["dados"]["status"] == "VALIDADA"
    assert receiver.deliveries_by_id[str(event["id"])] == 1
    assert receiver.refused == 0


async def test_events_made_while_the_receiver_is_down_all_arrive_once_when_it_is_back(
    server: RunningServer, world: World, receiver: CallbackReceiver
) -> None:
    await receiver.stop()  # connection refused
    numeros = [await validate_new_guide(server, world) for _ in range(2)]

    async def refused_once() -> bool:
        rows = await outbox_rows(numeros)
        return len(rows) == 2 and all(e.attempts > 0 and e.last_error for e in rows)

    await wait_until(refused_once, within=10)
    await receiver.start()
    receiver.down = True  # answering 503
    numeros.append(await validate_new_guide(server, world))
    await wait_until(lambda: receiver.unavailable > 0, within=10)
    assert events_for(receiver, numeros) == {}
    pending = await OutboxEvent.filter(delivered_at=None, event_type="guia.validada")
    assert any(e.attempts > 0 and e.last_error for e in pending)

    receiver.down = False
    await wait_until(lambda: len(events_for(receiver, numeros)) == 3, within=10)

    async def all_marked_delivered() -> bool:
        return all(e.delivered_at is not None for e in await outbox_rows(numeros))

    # Once marked delivered an event is never sent again; one more event arriving afterwards
    # shows that a later pass, too, left the three alone.
    await wait_until(all_marked_delivered, within=10)
    later = await validate_new_guide(server, world)
    await wait_until(lambda: later in events_for(receiver, [later]), within=10)
    delivered = events_for(receiver, numeros)
    assert sorted(delivered) == sorted(numeros)
    assert all(receiver.deliveries_by_id[str(e["id"])] == 1 for e in delivered.values())
