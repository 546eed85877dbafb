"""The app's "Gerar Token" through the API: the operator's app backend (papel `app`) gets the
code in the answer, channel `app`, the same limits; the dentist system (papel `dentista`) never
receives a code, and the app cannot validate, register, read or cancel guides.
"""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import World
from tests.support import refs
from tests.support.server import Answer, RunningServer
from token_core import audit
from token_core.access.clients import ClientRole
from token_core.persistence.models import Beneficiary, Guide
from token_core.vocabulary import AuditKind, Channel, GuideStatus

APP_BODY = {"canal": "app"}


class AppClient:
    """The operator's app backend, signing its calls as `app-<suffix>`."""

    def __init__(self, server: RunningServer, client_id: str, secret: str) -> None:
        self.server = server
        self.client_id = client_id
        self.secret = secret

    async def call(self, method: str, path: str, payload: Any = None, **kw: Any) -> Answer:
        return await self.server.call(
            method, path, payload, client_id=self.client_id, secret=self.secret, **kw
        )

    async def token(self, carteirinha: str, body: Any = None) -> Answer:
        path = f"/api/v1/beneficiarios/{carteirinha}/token"
        return await self.call("POST", path, APP_BODY if body is None else body)


async def app_client(server: RunningServer) -> AppClient:
    client_id = f"app-{refs.suffix()}"
    secret = await server.services.clients.create(client_id, ClientRole.APP)
    return AppClient(server, client_id, secret)


def guide_body(carteirinha: str) -> dict[str, Any]:
    return {
        "carteirinha": carteirinha,
        "dentista": {"nome": "Dra. Helena Martins", "cro": "CRO-PR 12345"},
        "procedimentos": [{"codigo": "81000065", "descricao": "Consulta inicial"}],
    }


async def issued_on_app(carteirinha: str) -> list[str]:
    return [
        e.actor
        for e in await audit.trail(carteirinha=carteirinha)
        if e.kind is AuditKind.TOKEN_ISSUED and e.channel is Channel.APP
    ]


async def test_a_code_from_the_app_validates_the_next_guide_the_dentist_registers(
    server: RunningServer, world: World
) -> None:
    app = await app_client(server)
    ben = await world.beneficiary()
    answer = await app.token(ben.carteirinha)
    assert answer.status == 201, answer.body
    assert answer.headers["Cache-Control"] == "no-store"
    code = answer.body["token"]
    assert re.fullmatch(r"\d{6}", code) and answer.body["canal"] == "app"
    assert answer.body["expira_em"].endswith("Z") and answer.body["guia"] is None
    assert "para a próxima guia que o dentista validar para você" in answer.body["mensagem"]
    assert "A operadora nunca pede o código por telefone." in answer.body["mensagem"]
    assert await issued_on_app(ben.carteirinha) == [f"client:{app.client_id}"]

    numero = refs.guide_number()
    assert (
        await server.call("PUT", f"/api/v1/guias/{numero}", guide_body(ben.carteirinha))
    ).status == 201
    ok = await server.call("POST", f"/api/v1/guias/{numero}/validacao", {"token": code})
    assert ok.status == 200 and ok.body["status"] == "VALIDADA"
    saved = await Guide.get(numero=numero)
    assert saved.status is GuideStatus.VALIDATED
    channels = await server.call("GET", f"/api/v1/beneficiarios/{ben.carteirinha}/canais")
    assert channels.body["padrao"] == "app"


async def test_with_one_guide_waiting_the_answer_says_which_guide_the_code_releases(
    server: RunningServer, world: World
) -> None:
    app = await app_client(server)
    guide = await world.guide()
    ben = await guide.beneficiary
    answer = await app.token(ben.carteirinha)
    assert answer.status == 201, answer.body
    assert answer.body["guia"]["numero"] == guide.numero
    assert answer.body["guia"]["dentista"] == {"nome": "Dra. Teste", "cro": "PR-00001"}
    assert answer.body["guia"]["procedimentos"] == [{"codigo": "81000065", "descricao": "Consulta"}]
    assert f"para a guia {guide.numero} — Dra. Teste (CRO PR-00001)" in answer.body["mensagem"]

    second = await world.guide(ben)  # now two wait: the app names one
    chosen = await app.token(ben.carteirinha, {"canal": "app", "guia": f" {second.numero} "})
    assert chosen.body["guia"]["numero"] == second.numero
    ok = await server.call(
        "POST", f"/api/v1/guias/{second.numero}/validacao", {"token": chosen.body["token"]}
    )
    assert ok.status == 200
    other = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": chosen.body["token"]}
    )
    assert other.status in (409, 422) and other.status != 200


async def test_a_dentist_client_never_receives_a_code(server: RunningServer, world: World) -> None:
    ben = await world.beneficiary()
    refused = await server.call("POST", f"/api/v1/beneficiarios/{ben.carteirinha}/token", APP_BODY)
    assert (refused.status, refused.body["erro"], refused.body["papel"]) == (
        403,
        "PAPEL_NAO_PERMITIDO",
        "dentista",
    )
    assert "nunca recebe o código" in refused.body["mensagem"]
    assert "token" not in refused.body
    assert await issued_on_app(ben.carteirinha) == []


async def test_an_app_client_cannot_validate_register_read_or_cancel_guides(
    server: RunningServer, world: World
) -> None:
    app = await app_client(server)
    guide = await world.guide()
    ben = await guide.beneficiary
    code = (await app.token(ben.carteirinha)).body["token"]
    numero = guide.numero
    for method, path, body in [
        ("POST", f"/api/v1/guias/{numero}/validacao", {"token": code}),
        ("PUT", f"/api/v1/guias/{refs.guide_number()}", guide_body(ben.carteirinha)),
        ("GET", f"/api/v1/guias/{numero}", None),
        ("POST", f"/api/v1/guias/{numero}/cancelamento", {"motivo": "Engano"}),
        ("POST", f"/api/v1/guias/{numero}/token", {"canal": "sms"}),
        ("GET", f"/api/v1/beneficiarios/{ben.carteirinha}/canais", None),
    ]:
        refused = await app.call(method, path, body)
        assert (refused.status, refused.body["erro"], refused.body["papel"]) == (
            403,
            "PAPEL_NAO_PERMITIDO",
            "app",
        ), path
    assert (await Guide.get(numero=numero)).status is GuideStatus.AWAITING_TOKEN
    # The code itself still works for the dentist system.
    ok = await server.call("POST", f"/api/v1/guias/{numero}/validacao", {"token": code})
    assert ok.status == 200


async def test_the_app_has_the_same_limits_and_times_in_utc(
    server: RunningServer, world: World
) -> None:
    app = await app_client(server)
    ben = await world.beneficiary()
    for _ in range(5):  # limits.issue_max_per_beneficiary
        assert (await app.token(ben.carteirinha)).status == 201
    limited = await app.token(ben.carteirinha)
    assert (limited.status, limited.body["erro"]) == (429, "LIMITE_EXCEDIDO")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", limited.body["tentar_apos"])
    assert int(limited.headers["Retry-After"]) == limited.body["tentar_apos_segundos"] > 0
    assert "token" not in limited.body


async def test_refusals_of_the_app_route(server: RunningServer, world: World) -> None:
    app = await app_client(server)
    ben = await world.beneficiary()
    missing = await app.token("NAOEXISTE123")
    assert (missing.status, missing.body["erro"]) == (404, "BENEFICIARIO_NAO_ENCONTRADO")
    inactive = await world.beneficiary(active=False)
    refused = await app.token(inactive.carteirinha)
    assert (refused.status, refused.body["erro"]) == (422, "BENEFICIARIO_INVALIDO")
    for body in ({"canal": "sms"}, {}, {"canal": "app", "extra": 1}):
        bad = await app.token(ben.carteirinha, body)
        assert bad.status == 400, body
    other = await world.guide()
    not_hers = await app.token(ben.carteirinha, {"canal": "app", "guia": other.numero})
    assert (not_hers.status, not_hers.body["erro"]) == (404, "GUIA_NAO_ENCONTRADA")
    keyed = await app.call(
        "POST",
        f"/api/v1/beneficiarios/{ben.carteirinha}/token",
        APP_BODY,
        headers={"Idempotency-Key": "chave-1"},
    )
    assert (keyed.status, keyed.body["campo"]) == (400, "Idempotency-Key")
    assert "token" not in keyed.body
    assert await issued_on_app(ben.carteirinha) == []
    assert (await Beneficiary.get(id=ben.id)).default_channel is None
