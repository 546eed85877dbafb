"""Every API call is signed by a known client, fresh, and used once; refusals change nothing."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import World
from tests.support import refs
from tests.support.server import RunningServer
from token_core.access.signing import TIMESTAMP_HEADER, signed_headers
from token_core.persistence.models import Guide


def body_for(carteirinha: str) -> dict[str, object]:
    return {
        "carteirinha": carteirinha,
        "dentista": {"nome": "Dr. Rafael Oliveira", "cro": "SP-67890"},
        "procedimentos": [{"codigo": "85100099", "descricao": "Restauração em resina"}],
    }


async def refused(server: RunningServer, numero: str, answer_status: int, body: object) -> None:
    assert answer_status == 401
    assert isinstance(body, dict) and body["erro"] == "NAO_AUTORIZADO" and body["mensagem"]
    assert not await Guide.exists(numero=numero)


@pytest.mark.parametrize(
    "case",
    [
        "no headers",
        "unknown client",
        "wrong secret",
        "old timestamp",
        "future timestamp",
        "not a number",
        "superscript digit",
        "huge number",
        "tampered body",
        "other path",
    ],
)
async def test_a_badly_signed_call_is_refused_with_401_and_changes_nothing(
    server: RunningServer, world: World, case: str
) -> None:
    ben = await world.beneficiary()
    numero = refs.guide_number()
    path = f"/api/v1/guias/{numero}"
    body = json.dumps(body_for(ben.carteirinha)).encode()
    now = int(time.time())
    kwargs: dict[str, object] = {}
    match case:
        case "no headers":
            kwargs = {"signed": False}
        case "unknown client":
            kwargs = {"client_id": "nao-existe"}
        case "wrong secret":
            kwargs = {"secret": server.secret + "x"}
        case "old timestamp":
            kwargs = {"timestamp": now - 301}
        case "future timestamp":
            kwargs = {"timestamp": now + 301}
        case "not a number":
            headers = signed_headers(server.client_id, server.secret, str(now), "PUT", path, body)
            kwargs = {"signed": False, "headers": {**headers, TIMESTAMP_HEADER: "amanhã"}}
        case "superscript digit" | "huge number":
            stamp = "²" if case == "superscript digit" else "9" * 5000
            headers = signed_headers(server.client_id, server.secret, stamp, "PUT", path, body)
            kwargs = {"signed": False, "headers": {**headers, TIMESTAMP_HEADER: stamp}}
        case "tampered body":
            headers = signed_headers(server.client_id, server.secret, str(now), "PUT", path, body)
            body = body.replace(b"SP-67890", b"SP-00001")
            kwargs = {"signed": False, "headers": headers}
        case "other path":
            headers = signed_headers(
                server.client_id, server.secret, str(now), "PUT", path + "X", body
            )
            kwargs = {"signed": False, "headers": headers}
    answer = await server.call("PUT", path, raw=body, **kwargs)  # type: ignore[arg-type]
    await refused(server, numero, answer.status, answer.body)


async def test_a_replayed_request_is_refused_even_when_the_first_one_failed(
    server: RunningServer, world: World
) -> None:
    ben = await world.beneficiary()
    numero = refs.guide_number()
    path = f"/api/v1/guias/{numero}"
    body = json.dumps(body_for(ben.carteirinha)).encode()
    headers = signed_headers(
        server.client_id, server.secret, str(int(time.time())), "PUT", path, body
    )
    first = await server.call("PUT", path, raw=body, signed=False, headers=headers)
    assert first.status == 201
    await Guide.filter(numero=numero).delete()
    replay = await server.call("PUT", path, raw=body, signed=False, headers=headers)
    await refused(server, numero, replay.status, replay.body)
    assert "repetida" in replay.body["mensagem"]


async def test_after_rotation_the_old_and_new_secrets_work_until_the_next_rotation(
    server: RunningServer,
) -> None:
    old = server.secret
    new = await server.services.clients.rotate(server.client_id)
    path = "/api/v1/guias/GTO-NAO-EXISTE"
    assert (await server.call("GET", path, secret=old)).status == 404
    assert (await server.call("GET", path, secret=new)).status == 404
    newest = await server.services.clients.rotate(server.client_id)
    assert (await server.call("GET", path, secret=newest)).status == 404
    assert (await server.call("GET", path, secret=new)).status == 404
    assert (await server.call("GET", path, secret=old)).status == 401


async def test_the_openapi_document_and_docs_page_need_no_signature(server: RunningServer) -> None:
    spec = await server.call("GET", "/api/openapi.json", signed=False)
    docs = await server.call("GET", "/api/docs", signed=False)
    assert spec.status == 200 and spec.body["openapi"].startswith("3.1")
    assert docs.status == 200 and "X-Odontoken-Assinatura" in docs.body


async def test_unknown_api_routes_answer_json(server: RunningServer) -> None:
    answer = await server.call("GET", "/api/v1/nada")
    assert answer.status == 404 and answer.body["erro"] == "RECURSO_NAO_ENCONTRADO"
    wrong_method = await server.call("DELETE", "/api/v1/guias/GTO-1")
    assert wrong_method.status == 405 and wrong_method.body["erro"] == "METODO_NAO_PERMITIDO"


async def test_client_secrets_are_not_stored_in_clear(server: RunningServer) -> None:
    from token_core.persistence.models import ApiClient

    stored = await ApiClient.get(client_id=server.client_id)
    assert server.secret not in stored.secret_current
    assert server.secret in await server.services.clients.secrets_for(server.client_id)


async def test_answers_carry_accents_as_utf8_text(server: RunningServer) -> None:
    async with server.session.get(f"{server.base_url}/api/v1/guias/X") as resp:
        raw = await resp.read()
    assert resp.status == 401 and resp.charset == "utf-8"
    assert "cabeçalhos de autenticação".encode() in raw
