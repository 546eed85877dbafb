"""The dentist system asks for a code by SMS or e-mail; the code the beneficiary receives (read
from the gateway and SMTP peers on 127.0.0.1) is the one that validates the guide.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import World
from tests.peers.sms_gateway import SmsGateway
from tests.peers.smtp_server import SmtpServer
from tests.support import refs
from tests.support.server import RunningServer, running_server, server_settings
from tests.support.waiting import wait_until
from token_core import audit
from token_core.persistence.models import Beneficiary, Guide
from token_core.registry.identity import Cpf
from token_core.vocabulary import AuditKind, Channel, GuideStatus

CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
async def peers() -> AsyncIterator[tuple[SmsGateway, SmtpServer]]:
    async with SmsGateway() as gateway, SmtpServer() as smtp:
        yield gateway, smtp


@pytest.fixture
async def server(
    tmp_path: Path, peers: tuple[SmsGateway, SmtpServer]
) -> AsyncIterator[RunningServer]:
    gateway, smtp = peers
    settings = server_settings(
        tmp_path,
        sms={
            "backend": "zenvia",
            "base_url": gateway.base_url,
            "api_token": gateway.api_token,
            "timeout_seconds": 2,
        },
        email={
            "backend": "smtp",
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "timeout_seconds": 2,
        },
    )
    async with running_server(settings) as running:
        yield running


def code_in(text: str) -> str:
    found = CODE.findall(text)
    assert len(set(found)) == 1, text
    return str(found[0])


async def test_a_code_sent_by_sms_reaches_the_registered_mobile_and_validates(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    ben = await world.beneficiary(mobile="(41) 98857-5949")
    guide = await world.guide(ben)
    sent = await server.call("POST", f"/api/v1/guias/{guide.numero}/token", {"canal": "sms"})
    assert sent.status == 202, sent.body
    assert sent.body == {
        "canal": "sms",
        "destino": "(41) 9****-5949",
        "expira_em": sent.body["expira_em"],
    }
    [message] = gateway.messages
    assert message["to"] == "5541988575949"
    text = message["contents"][0]["text"]
    assert guide.numero in text and "código" in text
    ok = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": code_in(text)}
    )
    assert ok.status == 200 and ok.body["status"] == "VALIDADA"
    assert (await Beneficiary.get(id=ben.id)).default_channel is Channel.SMS
    channels = await server.call("GET", f"/api/v1/beneficiarios/{ben.carteirinha}/canais")
    assert channels.body["padrao"] == "sms"


async def test_a_different_mobile_is_refused_only_the_sab_changes_it(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    ben = await world.beneficiary(mobile="(41) 98857-5949")
    guide = await world.guide(ben)
    same = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/token", {"canal": "sms", "celular": "41 98857-5949"}
    )
    other = await server.call(
        "POST",
        f"/api/v1/guias/{guide.numero}/token",
        {"canal": "sms", "celular": "(11) 99123-4567"},
    )
    assert same.status == 202
    assert other.status == 422 and other.body["erro"] == "DADOS_NAO_CONFEREM"
    assert "entrar em contato com a operadora" in other.body["mensagem"]
    assert len(gateway.messages) == 1
    assert (await Beneficiary.get(id=ben.id)).mobile == "+5541988575949"


async def test_without_a_registered_mobile_the_typed_one_is_used_and_kept(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    await Beneficiary.filter(id=ben.id).update(mobile=None)
    guide = await world.guide(ben)
    missing = await server.call("POST", f"/api/v1/guias/{guide.numero}/token", {"canal": "sms"})
    assert missing.status == 422 and missing.body["campo"] == "celular"
    sent = await server.call(
        "POST",
        f"/api/v1/guias/{guide.numero}/token",
        {"canal": "sms", "celular": "(93) 99559-5999", "cpf": cpf},
    )
    assert sent.status == 202 and gateway.messages[-1]["to"] == "5593995595999"
    assert (await Beneficiary.get(id=ben.id)).mobile == "+5593995595999"


async def test_an_email_needs_the_matching_cpf_and_its_code_validates(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    _, smtp = peers
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    guide = await world.guide(ben)
    path = f"/api/v1/guias/{guide.numero}/token"
    no_cpf = await server.call("POST", path, {"canal": "email"})
    wrong = await server.call("POST", path, {"canal": "email", "cpf": refs.cpf()})
    assert no_cpf.status == 422 and no_cpf.body["campo"] == "cpf"
    assert wrong.status == 422 and wrong.body["erro"] == "DADOS_NAO_CONFEREM"
    assert smtp.messages == []

    sent = await server.call("POST", path, {"canal": "email", "cpf": Cpf.parse(cpf).formatted})
    assert sent.status == 202 and sent.body["destino"].endswith("@example.com.br")
    [mail] = smtp.messages
    assert mail.to == ben.email and guide.numero in mail.subject
    code = code_in(mail.text)
    assert code in mail.html
    ok = await server.call("POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": code})
    assert ok.status == 200


async def test_a_failed_sms_says_so_and_its_code_never_goes_live(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    guide = await world.guide()
    gateway.fail_next(1, status=503)
    failed = await server.call("POST", f"/api/v1/guias/{guide.numero}/token", {"canal": "sms"})
    assert failed.status == 502 and failed.body["erro"] == "FALHA_NO_ENVIO"
    trail = await audit.trail(guide=guide.numero)
    assert [e.kind for e in trail][-2:] == [AuditKind.TOKEN_ISSUED, AuditKind.TOKEN_DELIVERY_FAILED]
    assert trail[-2].detail["live"] is False and trail[-1].detail["previous_code_kept"] is True
    assert (await Guide.get(numero=guide.numero)).status is GuideStatus.AWAITING_TOKEN


async def test_a_failed_resend_keeps_the_code_already_delivered_working(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    guide = await world.guide()
    path = f"/api/v1/guias/{guide.numero}/token"
    assert (await server.call("POST", path, {"canal": "sms"})).status == 202
    first_code = code_in(gateway.messages[-1]["contents"][0]["text"])
    gateway.fail_next(1, status=503)
    resend = await server.call("POST", path, {"canal": "sms"})
    assert resend.status == 502 and "continua valendo" in resend.body["mensagem"]
    ok = await server.call("POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": first_code})
    assert ok.status == 200, ok.body


async def test_a_successful_resend_replaces_the_code_delivered_before(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    guide = await world.guide()
    path = f"/api/v1/guias/{guide.numero}/token"
    assert (await server.call("POST", path, {"canal": "sms"})).status == 202
    first_code = code_in(gateway.messages[-1]["contents"][0]["text"])
    assert (await server.call("POST", path, {"canal": "sms"})).status == 202
    second_code = code_in(gateway.messages[-1]["contents"][0]["text"])
    validation = f"/api/v1/guias/{guide.numero}/validacao"
    if first_code != second_code:
        old = await server.call("POST", validation, {"token": first_code})
        assert old.status in (410, 422), old.body  # replaced: no longer works
    assert (await server.call("POST", validation, {"token": second_code})).status == 200


async def test_chat_channels_are_unavailable_until_linked(
    server: RunningServer, world: World
) -> None:
    guide = await world.guide()
    for canal in ("telegram", "whatsapp"):
        answer = await server.call("POST", f"/api/v1/guias/{guide.numero}/token", {"canal": canal})
        assert answer.status == 422 and answer.body["erro"] == "CANAL_INDISPONIVEL"


async def test_sending_with_an_idempotency_key_sends_once(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    guide = await world.guide()
    key = {"Idempotency-Key": refs.suffix()}
    path = f"/api/v1/guias/{guide.numero}/token"
    first = await server.call("POST", path, {"canal": "sms"}, headers=key)
    second = await server.call("POST", path, {"canal": "sms"}, headers=key)
    assert first.status == second.status == 202 and first.body == second.body
    assert len(gateway.messages) == 1


async def test_a_late_sms_failure_does_not_cancel_a_code_sent_meanwhile_by_email(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, smtp = peers
    cpf = refs.cpf()
    guide = await world.guide(await world.beneficiary(cpf=cpf))
    path = f"/api/v1/guias/{guide.numero}/token"
    gateway.hang_next(1)
    slow_sms = asyncio.create_task(server.call("POST", path, {"canal": "sms"}))
    await wait_until(lambda: gateway.requests == 1)  # the SMS code is issued; its call hangs
    by_email = await server.call("POST", path, {"canal": "email", "cpf": cpf})
    assert by_email.status == 202
    assert (await slow_sms).status == 502  # the gateway timed out: that code is revoked
    code = code_in(smtp.messages[-1].text)
    ok = await server.call("POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": code})
    assert ok.status == 200, ok.body


async def test_wrong_cpfs_are_limited_so_the_check_cannot_guess_a_cpf(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    _, smtp = peers
    cpf = refs.cpf()
    guide = await world.guide(await world.beneficiary(cpf=cpf))
    path = f"/api/v1/guias/{guide.numero}/token"
    answers = [
        await server.call("POST", path, {"canal": "email", "cpf": refs.cpf()}) for _ in range(6)
    ]
    assert [a.body["erro"] for a in answers] == ["DADOS_NAO_CONFEREM"] * 5 + ["LIMITE_EXCEDIDO"]
    assert answers[-1].status == 429 and int(answers[-1].headers["Retry-After"]) > 0
    still_limited = await server.call("POST", path, {"canal": "email", "cpf": cpf})
    assert still_limited.status == 429 and smtp.messages == []
    kinds = [e.kind for e in await audit.trail(carteirinha=(await guide.beneficiary).carteirinha)]
    assert kinds.count(AuditKind.IDENTITY_MISMATCH) == 7


async def test_two_first_numbers_at_once_register_only_one(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    gateway, _ = peers
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    await Beneficiary.filter(id=ben.id).update(mobile=None)
    guide = await world.guide(ben)
    path = f"/api/v1/guias/{guide.numero}/token"
    first, second = await asyncio.gather(
        server.call("POST", path, {"canal": "sms", "celular": "(41) 99111-1111", "cpf": cpf}),
        server.call("POST", path, {"canal": "sms", "celular": "(41) 99222-2222", "cpf": cpf}),
    )
    assert sorted([first.status, second.status]) == [202, 422]
    registered = (await Beneficiary.get(id=ben.id)).mobile
    assert registered is not None
    assert [m["to"] for m in gateway.messages] == [registered.lstrip("+")]


async def test_asking_a_code_for_a_validated_guide_says_it_is_validated(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    guide = await world.guide()
    code = (await server.services.issuer.for_guide(guide.numero, Channel.SMS, "sio")).code.reveal()
    await server.call("POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": code})
    again = await server.call("POST", f"/api/v1/guias/{guide.numero}/token", {"canal": "sms"})
    assert again.status == 409 and again.body["erro"] == "GUIA_JA_VALIDADA"
    assert again.body["validada_em"]


async def test_a_limit_answer_is_not_kept_for_the_idempotency_key(
    server: RunningServer, world: World, peers: tuple[SmsGateway, SmtpServer]
) -> None:
    guide = await world.guide()
    path = f"/api/v1/guias/{guide.numero}/token"
    for _ in range(5):
        assert (await server.call("POST", path, {"canal": "sms"})).status == 202
    key = {"Idempotency-Key": refs.suffix()}
    first = await server.call("POST", path, {"canal": "sms"}, headers=key)
    again = await server.call("POST", path, {"canal": "sms"}, headers=key)
    assert first.status == again.status == 429
    assert "Retry-After" in again.headers and "Idempotency-Replayed" not in again.headers
