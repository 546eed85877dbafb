"""`canal: "sab"`: the dentist system asks for the SAB and gets its numbers and the pop-up's
words, and no code is issued; the code comes from the SAB agent, by phone.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import World
from tests.support.server import RunningServer, running_server, server_settings
from token_core import audit
from token_core.persistence.models import Beneficiary
from token_core.vocabulary import AuditKind, Channel

SEED_WORDS = (
    "O beneficiário deve fazer contato com o SAB - Serviço de Atendimento ao Beneficiário nos "
    "números 4007-2400 ou 0800 643 4300. Ao ser atendido, deve selecionar a opção 1, confirmar "
    "seus dados e solicitar o token para dar continuidade à liberação do tratamento."
)


async def test_the_sab_channel_answers_with_the_numbers_and_issues_no_code(
    server: RunningServer, world: World
) -> None:
    ben = await world.beneficiary()
    guide = await world.guide(ben)
    answer = await server.call("POST", f"/api/v1/guias/{guide.numero}/token", {"canal": "sab"})
    assert answer.status == 202, answer.body
    assert answer.body == {
        "canal": "sab",
        "telefones": ["4007-2400", "0800 643 4300"],
        "mensagem": SEED_WORDS,
    }
    kinds = [e.kind for e in await audit.trail(carteirinha=ben.carteirinha)]
    assert AuditKind.TOKEN_ISSUED not in kinds and AuditKind.TOKEN_DELIVERED not in kinds
    assert (await Beneficiary.get(id=ben.id)).default_channel is None
    # A code nobody was given does not validate: nothing was issued for the guide.
    tried = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": "123456"}
    )
    assert tried.status == 422 and tried.body["erro"] == "TOKEN_INVALIDO"


async def test_the_numbers_come_from_the_settings(world: World, tmp_path: Path) -> None:
    settings = server_settings(tmp_path, api={"sab_phones": ["0800 111 2222", "3003-0000", "4004"]})
    async with running_server(settings) as server:
        guide = await world.guide()
        answer = await server.call("POST", f"/api/v1/guias/{guide.numero}/token", {"canal": "sab"})
    assert answer.status == 202
    assert answer.body["telefones"] == ["0800 111 2222", "3003-0000", "4004"]
    assert (
        "nos números 0800 111 2222, 3003-0000 ou 4004. Ao ser atendido" in (answer.body["mensagem"])
    )


async def test_the_sab_channel_needs_a_guide_awaiting_a_token_of_an_active_beneficiary(
    server: RunningServer, world: World
) -> None:
    async def ask(numero: str) -> tuple[int, str]:
        answer = await server.call("POST", f"/api/v1/guias/{numero}/token", {"canal": "sab"})
        return answer.status, answer.body["erro"]

    assert await ask("NAO-EXISTE-SAB") == (404, "GUIA_NAO_ENCONTRADA")

    validated = await world.guide()
    issued = await server.services.issuer.for_guide(validated.numero, Channel.SMS, "test")
    done = await server.call(
        "POST", f"/api/v1/guias/{validated.numero}/validacao", {"token": issued.code.reveal()}
    )
    assert done.status == 200
    assert await ask(validated.numero) == (409, "GUIA_JA_VALIDADA")

    cancelled = await world.guide()
    await server.services.guides.cancel(cancelled.numero, "test")
    assert await ask(cancelled.numero) == (409, "GUIA_CONFLITANTE")

    ben = await world.beneficiary()
    guide = await world.guide(ben)
    await Beneficiary.filter(id=ben.id).update(active=False)
    assert await ask(guide.numero) == (422, "BENEFICIARIO_INVALIDO")


async def test_the_openapi_document_describes_the_sab_answer(server: RunningServer) -> None:
    spec = (await server.call("GET", "/api/openapi.json", signed=False)).body
    schemas = spec["components"]["schemas"]
    assert "sab" in schemas["TokenPedidoIn"]["properties"]["canal"]["enum"]
    answer = spec["paths"]["/api/v1/guias/{numero}/token"]["post"]["responses"]["202"]
    one_of = answer["content"]["application/json"]["schema"]["oneOf"]
    assert {"$ref": "#/components/schemas/TokenSabOut"} in one_of
    assert set(schemas["TokenSabOut"]["required"]) == {"canal", "telefones", "mensagem"}
