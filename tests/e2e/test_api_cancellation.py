"""The dentist system cancels a guide through the API: CANCELADA, its code stops working, the
receiver hears `guia.cancelada`; a validated guide is not cancelled.
"""

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
from token_core import audit
from token_core.persistence.models import AuditEvent, Guide
from token_core.vocabulary import AuditKind, Channel, GuideStatus

SECRET = "callback-secret-for-tests-0123456789"


@pytest.fixture(autouse=True)
async def _park_other_events() -> AsyncIterator[None]:
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
        },
    )
    async with running_server(settings) as running:
        yield running


async def cancellations(numero: str) -> list[AuditEvent]:
    return [e for e in await audit.trail(guide=numero) if e.kind is AuditKind.GUIDE_CANCELLED]


def cancelled_event(receiver: CallbackReceiver, numero: str) -> dict[str, Any] | None:
    return next(
        (
            e
            for e in receiver.events
            if e["tipo"] == "guia.cancelada" and e["dados"]["numero"] == numero
        ),
        None,
    )


async def test_a_cancelled_guide_refuses_its_code_and_the_receiver_is_told(
    server: RunningServer, world: World, receiver: CallbackReceiver
) -> None:
    guide = await world.guide()
    issued = await server.services.issuer.for_guide(guide.numero, Channel.SMS, actor="sio")

    answer = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/cancelamento", {"motivo": "Paciente desistiu"}
    )
    assert answer.status == 200, answer.body
    assert answer.body["numero"] == guide.numero and answer.body["status"] == "CANCELADA"
    assert answer.body["cancelada_em"].endswith("Z")
    read = await server.call("GET", f"/api/v1/guias/{guide.numero}")
    assert read.body["status"] == "CANCELADA"

    spent = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": issued.code.reveal()}
    )
    assert (spent.status, spent.body["erro"]) == (409, "GUIA_NAO_AGUARDA_TOKEN")
    assert not await server.services.store.revoke_code(issued.scope)  # revoked already

    event = await wait_until(lambda: cancelled_event(receiver, guide.numero))
    assert event is not None
    ben = await guide.beneficiary
    assert event["dados"] == {
        "numero": guide.numero,
        "carteirinha": ben.carteirinha,
        "status": "CANCELADA",
        "cancelada_em": answer.body["cancelada_em"],
        "motivo": "Paciente desistiu",
    }
    [trail] = await cancellations(guide.numero)
    assert trail.actor == f"client:{server.client_id}"
    assert trail.detail["motivo"] == "Paciente desistiu"

    again = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/cancelamento", {"motivo": "De novo"}
    )
    assert again.status == 200 and again.body == answer.body  # the same answer, nothing new
    assert len(await cancellations(guide.numero)) == 1


async def test_a_validated_guide_is_not_cancelled(server: RunningServer, world: World) -> None:
    guide = await world.guide()
    issued = await server.services.issuer.for_guide(guide.numero, Channel.SMS, actor="sio")
    ok = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": issued.code.reveal()}
    )
    assert ok.status == 200

    refused = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/cancelamento", {"motivo": "Engano"}
    )
    assert (refused.status, refused.body["erro"]) == (409, "GUIA_JA_VALIDADA")
    assert refused.body["validada_em"] == ok.body["validada_em"]
    assert (await Guide.get(numero=guide.numero)).status is GuideStatus.VALIDATED


async def test_a_cancellation_needs_a_reason_and_a_known_guide(
    server: RunningServer, world: World
) -> None:
    guide = await world.guide()
    for body in ({}, {"motivo": ""}, {"motivo": "x" * 201}):
        refused = await server.call("POST", f"/api/v1/guias/{guide.numero}/cancelamento", body)
        assert (refused.status, refused.body["campo"]) == (400, "motivo"), body
    assert (await Guide.get(numero=guide.numero)).status is GuideStatus.AWAITING_TOKEN
    missing = await server.call(
        "POST", "/api/v1/guias/NAO-EXISTE-1/cancelamento", {"motivo": "Engano"}
    )
    assert (missing.status, missing.body["erro"]) == (404, "GUIA_NAO_ENCONTRADA")
