"""The dentist system registers a guide and validates the code the beneficiary reads out."""

from __future__ import annotations

import asyncio
from datetime import datetime

from tests.conftest import World
from tests.support import refs
from tests.support.server import RunningServer
from token_core import audit
from token_core.persistence.models import Guide
from token_core.vocabulary import AuditKind, Channel, GuideStatus


def guide_body(carteirinha: str) -> dict[str, object]:
    return {
        "carteirinha": carteirinha,
        "dentista": {"nome": "Dra. Helena Martins", "cro": "PR-12345"},
        "clinica": "Clínica Sorriso",
        "procedimentos": [{"codigo": "81000065", "descricao": "Consulta inicial"}],
    }


async def beneficiary_code(server: RunningServer, carteirinha: str) -> str:
    """What the app's "Gerar Token" gives the beneficiary: a code for the next guide."""
    issued = await server.services.issuer.for_beneficiary(carteirinha, Channel.APP, actor="app")
    return issued.code.reveal()


async def test_a_registered_guide_waits_for_a_token_and_a_valid_code_validates_it(
    server: RunningServer, world: World
) -> None:
    ben = await world.beneficiary()
    numero = refs.guide_number()
    created = await server.call("PUT", f"/api/v1/guias/{numero}", guide_body(ben.carteirinha))
    again = await server.call("PUT", f"/api/v1/guias/{numero}", guide_body(ben.carteirinha))
    assert created.status == 201 and again.status == 200
    assert created.body["status"] == "AGUARDANDO_TOKEN"
    assert created.body["canais"]["sms"]["destino"].startswith("(41) 9****-")
    assert created.body["canais"]["sab"]["telefones"] == ["4007-2400", "0800 643 4300"]

    code = await beneficiary_code(server, ben.carteirinha)
    ok = await server.call("POST", f"/api/v1/guias/{numero}/validacao", {"token": code})
    assert ok.status == 200, ok.body
    assert ok.body["status"] == "VALIDADA" and len(ok.body["codigo_validacao"]) <= 10
    datetime.fromisoformat(ok.body["validada_em"])

    read = await server.call("GET", f"/api/v1/guias/{numero}")
    assert read.body["status"] == "VALIDADA"
    assert read.body["codigo_validacao"] == ok.body["codigo_validacao"]

    twice = await server.call("POST", f"/api/v1/guias/{numero}/validacao", {"token": code})
    assert twice.status == 409 and twice.body["erro"] == "GUIA_JA_VALIDADA"
    assert twice.body["validada_em"] == ok.body["validada_em"]


async def test_each_refused_validation_has_its_status_code_and_changes_nothing(
    server: RunningServer, world: World
) -> None:
    guide = await world.guide()
    path = f"/api/v1/guias/{guide.numero}/validacao"
    code = (await server.services.issuer.for_guide(guide.numero, Channel.SMS, "sio")).code.reveal()
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    bad = await server.call("POST", path, {"token": wrong})
    assert bad.status == 422 and bad.body["erro"] == "TOKEN_INVALIDO"
    assert bad.body["tentativas_restantes"] == 4 and "mensagem" in bad.body

    malformed = await server.call("POST", path, {"token": "12ab"})
    assert malformed.status == 400 and malformed.body["campo"] == "token"

    missing = await server.call("POST", "/api/v1/guias/NAO-EXISTE/validacao", {"token": code})
    assert missing.status == 404 and missing.body["erro"] == "GUIA_NAO_ENCONTRADA"

    for _ in range(4):
        last = await server.call("POST", path, {"token": wrong})
    assert last.status == 423 and last.body["erro"] == "GUIA_BLOQUEADA"
    datetime.fromisoformat(last.body["desbloqueio_em"])
    locked = await server.call("POST", path, {"token": code})
    assert locked.status == 423
    assert (await Guide.get(numero=guide.numero)).status is GuideStatus.AWAITING_TOKEN


async def test_a_used_code_is_reported_as_used_on_the_next_guide(
    server: RunningServer, world: World
) -> None:
    ben = await world.beneficiary()
    first, second = await world.guide(ben), await world.guide(ben)
    code = await beneficiary_code(server, ben.carteirinha)
    ok = await server.call("POST", f"/api/v1/guias/{first.numero}/validacao", {"token": code})
    used = await server.call("POST", f"/api/v1/guias/{second.numero}/validacao", {"token": code})
    assert ok.status == 200
    assert used.status == 409 and used.body["erro"] == "TOKEN_JA_UTILIZADO"


async def test_bad_bodies_get_400_with_the_field_and_change_nothing(
    server: RunningServer, world: World
) -> None:
    ben = await world.beneficiary()
    numero = refs.guide_number()
    cases = [
        (b"{not json", "corpo"),
        (b"[]", "corpo"),
        (b'{"carteirinha": "1"}', "dentista"),
    ]
    for raw, field in cases:
        answer = await server.call("PUT", f"/api/v1/guias/{numero}", raw=raw)
        assert answer.status == 400 and answer.body["campo"] == field, answer.body
    body = guide_body(ben.carteirinha)
    body["dentista"] = {"nome": "X", "cro": "12345"}
    assert (await server.call("PUT", f"/api/v1/guias/{numero}", body)).body[
        "campo"
    ] == "dentista.cro"
    body["dentista"] = {"nome": "Dra. \u0000", "cro": "PR-1"}
    nul = await server.call("PUT", f"/api/v1/guias/{numero}", body)
    assert nul.status == 400 and nul.body["campo"] == "dentista.nome"
    unknown = await server.call("PUT", f"/api/v1/guias/{numero}", guide_body("0000"))
    assert unknown.status == 422 and unknown.body["erro"] == "BENEFICIARIO_INVALIDO"
    bad_number = await server.call("GET", "/api/v1/guias/" + "9" * 31)
    assert bad_number.status == 400 and bad_number.body["campo"] == "numero"
    assert not await Guide.exists(numero=numero)


async def test_the_same_number_with_other_content_is_a_conflict(
    server: RunningServer, world: World
) -> None:
    ben = await world.beneficiary()
    numero = refs.guide_number()
    await server.call("PUT", f"/api/v1/guias/{numero}", guide_body(ben.carteirinha))
    body = guide_body(ben.carteirinha)
    body["clinica"] = "Outra clínica"
    conflict = await server.call("PUT", f"/api/v1/guias/{numero}", body)
    assert conflict.status == 409 and conflict.body["erro"] == "GUIA_CONFLITANTE"
    assert (await Guide.get(numero=numero)).clinic == "Clínica Sorriso"


async def test_validation_with_an_idempotency_key_answers_the_same_twice(
    server: RunningServer, world: World
) -> None:
    guide = await world.guide()
    path = f"/api/v1/guias/{guide.numero}/validacao"
    code = (await server.services.issuer.for_guide(guide.numero, Channel.SMS, "sio")).code.reveal()
    key = {"Idempotency-Key": f"val-{refs.suffix()}"}
    first = await server.call("POST", path, {"token": code}, headers=key)
    second = await server.call("POST", path, {"token": code}, headers=key)
    assert first.status == second.status == 200
    assert first.body == second.body
    assert second.headers.get("Idempotency-Replayed") == "true"
    other = await server.call("POST", path, {"token": "000000"}, headers=key)
    assert other.status == 422 and other.body["erro"] == "IDEMPOTENCIA_CONFLITANTE"
    events = [e.kind for e in await audit.trail(guide=guide.numero)]
    assert events.count(AuditKind.TOKEN_VALIDATED) == 1
    assert AuditKind.TOKEN_REJECTED not in events


async def test_the_same_guide_registered_by_concurrent_requests_is_created_once(
    server: RunningServer, world: World
) -> None:
    ben = await world.beneficiary()
    numero = refs.guide_number()
    answers = await asyncio.gather(
        *(
            server.call("PUT", f"/api/v1/guias/{numero}", guide_body(ben.carteirinha))
            for _ in range(6)
        )
    )
    assert sorted(a.status for a in answers) == [200] * 5 + [201]
    events = [e.kind for e in await audit.trail(guide=numero)]
    assert events == [AuditKind.GUIDE_REGISTERED]
