"""The API's abuse rules, tried as an attacker would through the signed API: a first mobile
needs the CPF, a wrong CPF and another contact get one answer, concurrent CPF guesses are
counted before they are compared, and each API client has its own hourly budgets.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import World
from tests.peers.sms_gateway import SmsGateway
from tests.peers.smtp_server import SmtpServer
from tests.support import refs
from tests.support.server import RunningServer, running_server, server_settings
from token_core import audit
from token_core.persistence.models import Beneficiary, Guide
from token_core.registry.identity import Cpf, Mobile
from token_core.registry.importer import HEADER, import_registry
from token_core.vocabulary import AuditKind, GuideStatus

CODE = re.compile(r"\b(\d{6})\b")
MISMATCH = {
    "erro": "DADOS_NAO_CONFEREM",
    "mensagem": "Os dados informados não conferem com o cadastro do beneficiário. Para realizar "
    "a alteração do celular ou do e-mail o beneficiário deve entrar em contato com a operadora.",
}


@pytest.fixture
async def peers() -> AsyncIterator[tuple[SmsGateway, SmtpServer]]:
    async with SmsGateway() as gateway, SmtpServer() as smtp:
        yield gateway, smtp


@asynccontextmanager
async def serving(
    tmp_path: Path, peers: tuple[SmsGateway, SmtpServer], **limits: Any
) -> AsyncIterator[RunningServer]:
    gateway, smtp = peers
    settings = server_settings(
        tmp_path,
        sms={"backend": "zenvia", "base_url": gateway.base_url, "api_token": gateway.api_token},
        email={"backend": "smtp", "smtp_host": smtp.host, "smtp_port": smtp.port},
        limits=limits,
    )
    async with running_server(settings) as running:
        yield running


@pytest.fixture
async def server(
    tmp_path: Path, peers: tuple[SmsGateway, SmtpServer]
) -> AsyncIterator[RunningServer]:
    async with serving(tmp_path, peers) as running:
        yield running


class Client:
    """Another API client of the same server (another dentist system)."""

    def __init__(self, server: RunningServer, client_id: str, secret: str) -> None:
        self.server, self.id, self.secret = server, client_id, secret

    @classmethod
    async def create(cls, server: RunningServer) -> Client:
        client_id = f"rede-{refs.suffix()}"
        return cls(server, client_id, await server.services.clients.create(client_id))

    async def post(self, path: str, payload: dict[str, Any]) -> Any:
        return await self.server.call("POST", path, payload, client_id=self.id, secret=self.secret)


def wrong_cpf(right: str) -> str:
    while True:
        cpf = refs.cpf()
        if cpf != right:
            return cpf


def other_mobile(current: str | None) -> Mobile:
    while True:
        mobile = Mobile.parse(refs.mobile())
        if mobile.e164 != current:
            return mobile


def last_code(gateway: SmsGateway) -> str:
    found = CODE.findall(gateway.messages[-1]["contents"][0]["text"])
    assert len(set(found)) == 1
    return str(found[0])


async def mismatch_reasons(carteirinha: str) -> Counter[str | None]:
    return Counter(
        e.reason
        for e in await audit.trail(carteirinha=carteirinha)
        if e.kind is AuditKind.IDENTITY_MISMATCH
    )


async def test_a_first_mobile_needs_the_cpf_and_only_the_right_one_registers_it(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    await Beneficiary.filter(id=ben.id).update(mobile=None)
    guide = await world.guide(ben)
    path = f"/api/v1/guias/{guide.numero}/token"
    typed = Mobile.parse(refs.mobile())

    no_cpf = await server.call(
        "POST", path, {"canal": "sms", "celular": f"({typed.ddd}) {typed.local}"}
    )
    wrong = await server.call(
        "POST",
        path,
        {"canal": "sms", "celular": f"({typed.ddd}) {typed.local}", "cpf": wrong_cpf(cpf)},
    )

    assert no_cpf.status == 422 and no_cpf.body["erro"] == "CONTATO_OBRIGATORIO"
    assert no_cpf.body["campo"] == "cpf" and "CPF" in no_cpf.body["mensagem"]
    assert wrong.status == 422 and wrong.body == MISMATCH
    assert gateway.messages == []
    assert (await Beneficiary.get(id=ben.id)).mobile is None

    sent = await server.call(
        "POST",
        path,
        {
            "canal": "sms",
            "celular": f"({typed.ddd}) {typed.local}",
            "cpf": Cpf.parse(cpf).formatted,
        },
    )
    assert sent.status == 202 and gateway.messages[-1]["to"] == typed.e164.lstrip("+")
    saved = await Beneficiary.get(id=ben.id)
    assert (saved.mobile, saved.mobile_source) == (typed.e164, "flow")
    ok = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": last_code(gateway)}
    )
    assert ok.status == 200


async def test_a_wrong_cpf_and_another_contact_get_the_same_answer(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, smtp = peers
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    path = f"/api/v1/guias/{(await world.guide(ben)).numero}/token"
    another_address = f"outra.{refs.suffix()}@example.com.br"
    first_cpf = refs.cpf()
    newcomer = await world.beneficiary(cpf=first_cpf)
    await Beneficiary.filter(id=newcomer.id).update(mobile=None)
    newcomer_path = f"/api/v1/guias/{(await world.guide(newcomer)).numero}/token"

    answers = {
        "e-mail, wrong CPF": await server.call(
            "POST", path, {"canal": "email", "cpf": wrong_cpf(cpf)}
        ),
        "e-mail, right CPF, another address": await server.call(
            "POST", path, {"canal": "email", "cpf": cpf, "email": another_address}
        ),
        "e-mail, both wrong": await server.call(
            "POST", path, {"canal": "email", "cpf": wrong_cpf(cpf), "email": another_address}
        ),
        "SMS, another number": await server.call(
            "POST", path, {"canal": "sms", "celular": other_mobile(ben.mobile).e164}
        ),
        "first SMS, wrong CPF": await server.call(
            "POST",
            newcomer_path,
            {"canal": "sms", "celular": refs.mobile(), "cpf": wrong_cpf(first_cpf)},
        ),
    }

    for case, answer in answers.items():
        assert (answer.status, answer.body) == (422, MISMATCH), case
    assert gateway.messages == [] and smtp.messages == []
    assert await mismatch_reasons(ben.carteirinha) == {"cpf": 2, "contact": 2}
    saved = await Beneficiary.get(id=ben.id)
    assert (saved.mobile, saved.email) == (ben.mobile, ben.email)


async def test_300_concurrent_cpf_guesses_compare_at_most_the_limit(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    _, smtp = peers
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    path = f"/api/v1/guias/{(await world.guide(ben)).numero}/token"

    answers = await asyncio.gather(
        *(server.call("POST", path, {"canal": "email", "cpf": wrong_cpf(cpf)}) for _ in range(300))
    )

    assert Counter(a.status for a in answers) == {422: 5, 429: 295}
    assert {a.body["erro"] for a in answers} == {"DADOS_NAO_CONFEREM", "LIMITE_EXCEDIDO"}
    assert await mismatch_reasons(ben.carteirinha) == {"cpf": 5, "cpf_locked": 295}
    right = await server.call("POST", path, {"canal": "email", "cpf": cpf})
    assert right.status == 429 and int(right.headers["Retry-After"]) > 0
    assert smtp.messages == []


async def test_a_client_over_its_failure_budget_is_refused_while_another_client_validates(
    tmp_path: Path,
    world: World,
    peers: tuple[SmsGateway, SmtpServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway, _ = peers
    ben = await world.beneficiary()
    first, second = await world.guide(ben), await world.guide(ben)
    async with serving(tmp_path, peers, client_failures_per_hour=3) as server:
        careless, network = await Client.create(server), await Client.create(server)
        wrong = [
            await careless.post(f"/api/v1/guias/{first.numero}/validacao", {"token": "000000"})
            for _ in range(3)
        ]
        with caplog.at_level(logging.WARNING, logger="token_core.codes.budget"):
            over = await careless.post(
                f"/api/v1/guias/{second.numero}/validacao", {"token": "000000"}
            )
            again = await careless.post(
                f"/api/v1/guias/{first.numero}/validacao", {"token": "000000"}
            )

        assert [w.body["erro"] for w in wrong] == ["TOKEN_INVALIDO"] * 3
        assert over.status == again.status == 429 and over.body["erro"] == "LIMITE_EXCEDIDO"
        assert "Este sistema atingiu o limite" in over.body["mensagem"]
        assert int(over.headers["Retry-After"]) > 0
        assert (
            await network.post(f"/api/v1/guias/{second.numero}/token", {"canal": "sms"})
        ).status == 202
        ok = await network.post(
            f"/api/v1/guias/{second.numero}/validacao", {"token": last_code(gateway)}
        )
        assert ok.status == 200 and ok.body["status"] == "VALIDADA"

    alerts = [r.getMessage() for r in caplog.records if "client budget exceeded" in r.getMessage()]
    assert alerts == [
        f"client budget exceeded: client={careless.id} budget=client_failures limit=3/h "
        f"refused_until={alerts[0].rsplit('=', 1)[1]}"
    ]
    limited = [
        (e.actor, e.reason)
        for e in await audit.trail(carteirinha=ben.carteirinha)
        if e.kind is AuditKind.TOKEN_RATE_LIMITED
    ]
    assert limited == [(f"client:{careless.id}", "client_failures")] * 2


async def test_one_clients_failures_do_not_lock_another_client_out_of_other_guides(
    tmp_path: Path, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    ben = await world.beneficiary()
    locked, tried, other = [await world.guide(ben) for _ in range(3)]
    limits = {"guide_max_failures": 3, "beneficiary_max_failures": 4}
    async with serving(tmp_path, peers, **limits) as server:
        careless, network = await Client.create(server), await Client.create(server)

        async def careless_try(numero: str) -> Any:
            return await careless.post(f"/api/v1/guias/{numero}/validacao", {"token": "000000"})

        on_locked = [await careless_try(locked.numero) for _ in range(3)]
        on_tried = await careless_try(tried.numero)
        beneficiary_limit = await careless_try(other.numero)
        assert [a.status for a in on_locked] == [422, 422, 423]
        assert on_tried.status == 422
        assert beneficiary_limit.status == 423  # this client's 4 failures on this beneficiary

        async def network_validates(numero: str) -> Any:
            sent = await network.post(f"/api/v1/guias/{numero}/token", {"canal": "sms"})
            assert sent.status == 202, sent.body
            token = last_code(gateway)
            return await network.post(f"/api/v1/guias/{numero}/validacao", {"token": token})

        assert (await network_validates(other.numero)).status == 200
        still_locked = await network_validates(locked.numero)  # the per-guide rule is shared
        assert still_locked.status == 423 and still_locked.body["erro"] == "GUIA_BLOQUEADA"
    assert (await Guide.get(numero=other.numero)).status is GuideStatus.VALIDATED


async def test_a_client_over_its_issue_budget_is_refused_while_another_client_sends(
    tmp_path: Path, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    guides = [await world.guide() for _ in range(3)]
    async with serving(tmp_path, peers, client_issues_per_hour=2) as server:
        busy, network = await Client.create(server), await Client.create(server)
        answers = [
            await busy.post(f"/api/v1/guias/{g.numero}/token", {"canal": "sms"}) for g in guides
        ]
        assert [a.status for a in answers] == [202, 202, 429]
        assert answers[-1].body["erro"] == "LIMITE_EXCEDIDO"
        assert int(answers[-1].headers["Retry-After"]) > 0
        assert len(gateway.messages) == 2
        sent = await network.post(f"/api/v1/guias/{guides[-1].numero}/token", {"canal": "sms"})
        assert sent.status == 202 and len(gateway.messages) == 3
    limited = [
        (e.actor, e.reason)
        for e in await audit.trail(guide=guides[-1].numero)
        if e.kind is AuditKind.TOKEN_RATE_LIMITED
    ]
    assert limited == [(f"client:{busy.id}", "client_issues")]


async def test_a_registry_reimport_keeps_the_mobile_the_first_sms_registered(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    cpf, carteirinha = refs.cpf(), refs.carteirinha()
    csv_text = f"{','.join(HEADER)}\n{carteirinha},{cpf},Beneficiária Sem Celular,,\n"
    keyring = server.services.keyring
    assert (await import_registry(io.StringIO(csv_text), keyring)).inserted == 1
    ben = await Beneficiary.get(carteirinha=carteirinha)
    guide = await world.guide(ben)
    typed = Mobile.parse(refs.mobile())
    sent = await server.call(
        "POST",
        f"/api/v1/guias/{guide.numero}/token",
        {"canal": "sms", "celular": f"({typed.ddd}) {typed.local}", "cpf": cpf},
    )
    assert sent.status == 202

    again = await import_registry(io.StringIO(csv_text), keyring)

    assert (again.updated, again.unchanged) == (0, 1)
    channels = await server.call("GET", f"/api/v1/beneficiarios/{carteirinha}/canais")
    assert channels.body["padrao"] == "sms"
    assert channels.body["sms"] == {"destino": typed.masked}
    resent = await server.call("POST", f"/api/v1/guias/{guide.numero}/token", {"canal": "sms"})
    assert resent.status == 202 and gateway.messages[-1]["to"] == typed.e164.lstrip("+")
