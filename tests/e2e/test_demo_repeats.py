"""The README's walk can be done again and again: every `scripts/run` puts the demo guides
back awaiting a token, with no live code, lock or chat link left from the run before, and leaves
everything else alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from tests.support import backends
from tests.support.demo_server import DemoServer, demo_server
from tests.support.waiting import wait_until

MARIA, ANA = "0001000100010", "0001000100036"
MARIA_PHONE, ANA_PHONE = "(41) 9****-5949", "(93) 9****-5999"
ANA_CPF = "071.469.870-94"
GUIDES = ["GTO-2026-000101", "GTO-2026-000102", "GTO-2026-000103"]
OWN = {
    "carteirinha": MARIA,
    "dentista": {"nome": "Dra. Outra", "cro": "SP 4321"},
    "procedimentos": [{"codigo": "81000065", "descricao": "Consulta"}],
}


@pytest.fixture
def redis_prefix() -> str | None:
    return backends.redis_prefix() if backends.selected_backend() == "production" else None


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


def active_links(data_dir: Path, carteirinha: str) -> int:
    with closing(sqlite3.connect(data_dir / "odontoken.sqlite3")) as db:
        row = db.execute(
            "SELECT count(*) FROM chat_link JOIN beneficiary ON beneficiary.id = beneficiary_id "
            "WHERE carteirinha = ? AND revoked_at IS NULL",
            (carteirinha,),
        ).fetchone()
    return int(row[0])


async def link_in_the_sandbox(
    demo: DemoServer, session: aiohttp.ClientSession, carteirinha: str, cpf: str
) -> None:
    for text in ("oi", cpf):
        body = {"beneficiario": carteirinha, "sessao": "0a1b2c3d", "texto": text}
        async with session.post(demo.base_url + "/sandbox/api/mensagens", json=body) as resp:
            assert resp.status == 202, await resp.text()
    await wait_until(lambda: active_links(demo.data_dir, carteirinha), within=15)


def demo_lines(banner: list[str]) -> list[str]:
    return [line.split()[1] for line in banner if line.startswith("  GTO-2026-")]


async def validate_by_sms(
    demo: DemoServer, session: aiohttp.ClientSession, sio: tuple[str, str], numero: str
) -> None:
    sent, _ = await demo.call(
        session, sio, "POST", f"/api/v1/guias/{numero}/token", {"canal": "sms"}
    )
    assert sent == 202
    token = {"token": demo.outbox_code(MARIA_PHONE)}
    status, body = await demo.call(session, sio, "POST", f"/api/v1/guias/{numero}/validacao", token)
    assert status == 200, body


async def test_a_second_run_finds_the_demo_guides_awaiting_a_token_as_new(
    tmp_path: Path, redis_prefix: str | None, session: aiohttp.ClientSession
) -> None:
    try:
        async with demo_server(tmp_path, redis_prefix) as first:
            assert demo_lines(first.banner) == ["AGUARDANDO_TOKEN"] * 3
            sio = ("sio", first.new_client("sio"))
            await validate_by_sms(first, session, sio, GUIDES[0])
            for _ in range(5):  # GTO-…102 locked by five wrong codes
                status, body = await first.call(
                    session, sio, "POST", f"/api/v1/guias/{GUIDES[1]}/validacao", {"token": "0" * 6}
                )
            assert (status, body["erro"]) == (423, "GUIA_BLOQUEADA")
            sent, _ = await first.call(
                session, sio, "POST", f"/api/v1/guias/{GUIDES[2]}/token", {"canal": "sms"}
            )
            assert sent == 202
            live_code = first.outbox_code(ANA_PHONE)  # GTO-…103 has a live code
            await link_in_the_sandbox(first, session, ANA, ANA_CPF)
            # Data of its own, beside the demo: a guide registered and validated.
            assert (await first.call(session, sio, "PUT", "/api/v1/guias/OUTRA-1", OWN))[0] == 201
            await validate_by_sms(first, session, sio, "OUTRA-1")

        async with demo_server(tmp_path, redis_prefix) as second:
            assert demo_lines(second.banner) == ["AGUARDANDO_TOKEN"] * 3
            status, guide = await second.call(session, sio, "GET", f"/api/v1/guias/{GUIDES[0]}")
            assert (status, guide["status"], guide["validada_em"]) == (
                200,
                "AGUARDANDO_TOKEN",
                None,
            )
            status, body = await second.call(
                session, sio, "POST", f"/api/v1/guias/{GUIDES[1]}/validacao", {"token": "0" * 6}
            )
            # The lock and its failures are gone: the first wrong code leaves four.
            assert (status, body["erro"], body["tentativas_restantes"]) == (
                422,
                "TOKEN_INVALIDO",
                4,
            )
            status, body = await second.call(
                session, sio, "POST", f"/api/v1/guias/{GUIDES[2]}/validacao", {"token": live_code}
            )
            assert (status, body["erro"]) == (422, "TOKEN_INVALIDO")  # the live code is revoked
            assert active_links(tmp_path, ANA) == 0  # the chat link is revoked
            # Everything else as it was: the client (same secret) and the other guide.
            status, own = await second.call(session, sio, "GET", "/api/v1/guias/OUTRA-1")
            assert (status, own["status"], own["dentista"]["cro"]) == (200, "VALIDADA", "SP-4321")
    finally:
        if redis_prefix:
            await backends.redis_cleanup(redis_prefix)
