"""The sandbox chat over HTTP, as its page uses it (server-sent events in, JSON posts out), on
the same dialogue as Telegram and WhatsApp: linking, the code card, "não reconheço" (the report
and the console), an agent's message, the receipt; transcripts masked. It answers only a browser
on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from tests.support.server import RunningServer
from tests.support.waiting import wait_until
from token_core.chat.conversations import ChatRef
from token_core.demo import load_demo
from token_core.persistence.models import FraudReport, TranscriptEntry
from token_core.vocabulary import Channel

# Ana: tests/e2e/test_no_leaks.py registers a beneficiary of its own with Maria's demo CPF and
# phone in the shared test database, which would take her link.
MARIA, ANA, ANA_CPF, GUIDE = "0001000100010", "0001000100036", "071.469.870-94", "GTO-2026-000103"
Event = dict[str, Any]


@pytest.fixture
async def demo_ready(server: RunningServer) -> RunningServer:
    """The demo data in the test database, as new (these tests take turns with it)."""
    services = server.services
    await load_demo(services.keyring, services.guides, reset_store=services.store)
    return server


class SandboxPage:
    """What the page does: listen to the chat's events and post what the person sends."""

    def __init__(self, server: RunningServer, carteirinha: str) -> None:
        self.server = server
        self.carteirinha = carteirinha
        self.session = secrets.token_hex(4)
        self.chat_id = f"sb-{self.session}-{carteirinha}"
        self.events: list[Event] = []
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        query = {"beneficiario": self.carteirinha, "sessao": self.session}
        response = await self.server.session.get(
            self.server.base_url + "/sandbox/api/eventos", params=query
        )
        assert response.status == 200, await response.text()
        self._reader = asyncio.create_task(self._read(response))
        await self.wait_for(lambda e: e["tipo"] == "pronto")

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        async with response:
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("data: "):
                    self.events.append(json.loads(line.removeprefix("data: ")))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def send(self, **what: Any) -> str:
        body = {"beneficiario": self.carteirinha, "sessao": self.session, **what}
        async with self.server.session.post(
            self.server.base_url + "/sandbox/api/mensagens", json=body
        ) as resp:
            assert resp.status == 202, await resp.text()
            message_id: str = (await resp.json())["id"]
            return message_id

    async def wait_for(self, wanted: Callable[[Event], bool], within: float = 10) -> Event:
        def first() -> Event | None:
            return next((e for e in self.events if wanted(e)), None)

        try:
            found = await wait_until(first, within=within)
        except TimeoutError:
            raise AssertionError(f"not among the events: {self.events}") from None
        assert found is not None
        return found

    async def said(self, text: str) -> Event:
        return await self.wait_for(lambda e: e["tipo"] == "mensagem" and text in e["texto"])


@pytest.fixture
async def ana(demo_ready: RunningServer) -> AsyncIterator[SandboxPage]:
    page = SandboxPage(demo_ready, ANA)
    await page.open()
    yield page
    await page.close()


async def link(page: SandboxPage) -> None:
    await page.send(texto="oi")
    await page.said("digite o seu CPF")
    cpf_message = await page.send(texto=ANA_CPF)
    await page.said("Pronto, Ana!")
    await page.wait_for(lambda e: e == {"tipo": "apagada", "id": cpf_message})


async def test_a_linked_sandbox_chat_gets_the_card_reports_fraud_and_reaches_the_console(
    ana: SandboxPage,
) -> None:
    await link(ana)
    await ana.send(texto="Gerar token")
    card = await ana.said("Seu código de segurança:")
    code = re.search(r"segurança: (\d+)", card["texto"])
    assert code is not None
    buttons = [b for row in card["botoes"] for b in row]
    assert {"rotulo": "Copiar código", "copiar": code.group(1)} in buttons
    not_mine = next(b for b in buttons if b["rotulo"] == "Não reconheço esta guia")
    assert card["expira_em"].endswith("Z")

    await ana.send(botao=not_mine["dados"])
    await ana.said("Obrigado por avisar. Cancelamos este código")
    report = await wait_until(lambda: FraudReport.filter(chat_id=ana.chat_id).first())
    assert report is not None
    assert report.channel is Channel.SANDBOX and report.guide_numero == GUIDE
    refused = await ana.server.call(
        "POST", f"/api/v1/guias/{GUIDE}/validacao", {"token": code.group(1)}
    )
    assert refused.status == 422  # the code was revoked

    desk = ana.server.services.desk
    row = await desk.conversations.get(ChatRef(Channel.SANDBOX, ana.chat_id))
    assert row is not None and row.fraud and row.beneficiary is not None
    assert row.beneficiary.carteirinha == ANA
    await desk.notify(ChatRef(Channel.SANDBOX, ana.chat_id), "Olá, aqui é a Ana, do SAB.")
    await ana.said("Olá, aqui é a Ana, do SAB.")

    lines = [e.text for e in await TranscriptEntry.filter(chat_id=ana.chat_id).order_by("id")]
    assert any("Seu código de segurança:" in line for line in lines)
    assert not any(code.group(1) in line for line in lines)
    assert not any("071.469.870-94" in line or "07146987094" in line for line in lines)


async def test_the_receipt_reaches_the_sandbox_chat_and_the_history_comes_back_masked(
    ana: SandboxPage,
) -> None:
    await link(ana)
    await ana.send(texto="gerar token")
    card = await ana.said("Seu código de segurança:")
    code = re.search(r"segurança: (\d+)", card["texto"])
    assert code is not None
    ok = await ana.server.call("POST", f"/api/v1/guias/{GUIDE}/validacao", {"token": code.group(1)})
    assert ok.status == 200
    await ana.said(f"✅ Guia {GUIDE} validada às ")

    again = SandboxPage(ana.server, ANA)
    again.session, again.chat_id = ana.session, ana.chat_id
    await again.open()
    history = [e for e in again.events if e["tipo"] == "historico"]
    await again.close()
    texts = [e["texto"] for e in history]
    assert any(f"Guia {GUIDE} validada" in t for t in texts)
    assert any("Seu código de segurança:" in t for t in texts)
    assert not any(code.group(1) in t for t in texts)


async def test_only_listed_demo_beneficiaries_and_well_formed_messages_are_taken(
    demo_ready: RunningServer,
) -> None:
    base = demo_ready.base_url
    async with demo_ready.session.get(base + "/sandbox/api/beneficiarios") as resp:
        listed = (await resp.json())["beneficiarios"]
    assert [b["carteirinha"] for b in listed] == [MARIA, "0001000100028", "0001000100036"]
    assert listed[0]["celular"] == "(41) 9****-5949" and "cpf" not in listed[0]
    good = {"beneficiario": MARIA, "sessao": "0a1b2c3d"}
    for body in (
        {**good, "beneficiario": "0001000100044"},  # no mobile: not listed
        {**good, "beneficiario": "T123"},
        {**good, "sessao": "zz"},
        good,
        {**good, "texto": "oi", "botao": "g:1"},
        {**good, "texto": "   "},
        {**good, "texto": "a\x00b"},
        {**good, "contato": "sim"},
    ):
        async with demo_ready.session.post(base + "/sandbox/api/mensagens", json=body) as resp:
            assert resp.status == 400, body
            assert (await resp.json())["erro"] == "REQUISICAO_INVALIDA"
    async with demo_ready.session.post(
        base + "/sandbox/api/mensagens", data="oi", headers={"Content-Type": "text/plain"}
    ) as resp:
        assert resp.status == 400


async def test_the_sandbox_answers_only_a_browser_on_this_machine(
    demo_ready: RunningServer,
) -> None:
    base = demo_ready.base_url
    for path in ("/sandbox", "/sandbox/api/beneficiarios", "/sandbox/static/sandbox.js"):
        async with demo_ready.session.get(base + path, headers={"Host": "odontoken.example"}) as r:
            assert r.status == 403, path
    body = {"beneficiario": MARIA, "sessao": "0a1b2c3d", "texto": "oi"}
    async with demo_ready.session.post(
        base + "/sandbox/api/mensagens", json=body, headers={"Origin": "https://outro.example"}
    ) as resp:
        assert resp.status == 403
    async with demo_ready.session.get(base + "/sandbox") as resp:
        assert resp.status == 200
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        page = await resp.text()
    for words in (
        '<label for="beneficiario">Beneficiário</label>',
        ">Mensagem</label>",
        ">Enviar<",
    ):
        assert words in page
