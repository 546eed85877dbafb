"""The console's live stream (/atendimento/eventos) and its pages, through plain HTTP and a
Telegram user on the Bot API peer: nothing an agent reads holds a full CPF, phone or code; the
stream needs a session; it ends when its browser leaves, at Sair and at shutdown.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.console.live_hub import HUB
from tests.conftest import World
from tests.e2e.test_telegram import TelegramChat
from tests.peers.telegram_api import TelegramApi
from tests.support import refs
from tests.support.console import new_agent
from tests.support.console_chat import ConsoleAgent, chat_path, telegram_server
from tests.support.server import RunningServer
from tests.support.waiting import wait_until
from token_core.registry.identity import Cpf, Mobile

CODE = re.compile(r"código de segurança: (\d{6})")


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramApi]:
    async with TelegramApi() as peer:
        yield peer


@pytest.fixture
async def server(tmp_path: Path, telegram: TelegramApi) -> AsyncIterator[RunningServer]:
    async with telegram_server(tmp_path, telegram) as running:
        yield running


@pytest.fixture
async def ana(server: RunningServer) -> AsyncIterator[ConsoleAgent]:
    agent = ConsoleAgent(server)
    await agent.sign_in(*await new_agent(server))
    yield agent
    await agent.close()


async def test_nothing_an_agent_reads_holds_a_full_cpf_phone_or_code(
    server: RunningServer, telegram: TelegramApi, world: World, ana: ConsoleAgent
) -> None:
    cpf, mobile = Cpf.parse(refs.cpf()), Mobile.parse(refs.mobile())
    person = await world.beneficiary(cpf=cpf.digits, mobile=mobile.e164)
    await world.guide(person)
    chat = TelegramChat(server, telegram)
    await chat.say("/start")  # the chat exists: its page can be opened and followed live
    async with (
        ana.stream() as whole_list,
        ana.stream(f"?conversa=telegram:{chat.chat_id}&desde=0") as one_chat,
    ):
        await chat.share(mobile.e164)
        await chat.say(cpf.formatted, replies=2)  # linking: the CPF is typed in the chat
        [card] = await chat.say("Gerar token")
        code = CODE.search(card["text"]).group(1)  # type: ignore[union-attr]
        await chat.say(f"meu cpf é {cpf.digits} e meu celular {mobile.e164[3:]}", replies=2)
        await one_chat.wait_for("mensagem", lambda m: "meu cpf" in m["texto"])
        await whole_list.wait_for("conversa", lambda c: "meu cpf" in c["ultima"])
        page = await ana.get(chat_path(chat.chat_id))
        listed = await ana.get("/atendimento/conversas")
        shown = [page.html, listed.html, *whole_list.raw, *one_chat.raw]
    national = mobile.e164[3:]
    secrets = [
        cpf.digits,
        cpf.formatted,
        cpf.digits[:9],
        cpf.formatted[:11],
        mobile.e164,
        national,
        f"{national[2:7]}-{national[7:]}",
        code,
    ]
    for text in shown:
        for secret in secrets:
            assert secret not in text, f"{secret!r} shown to the agent"
    assert cpf.masked in page.html  # what the agent sees instead
    assert f"meu cpf é {cpf.masked}" in page.html or "meu cpf é ***" in page.html
    assert "•" * 6 in page.html  # the code, as the transcript keeps it
    assert mobile.masked in page.html  # the panel's masked mobile


async def test_the_live_stream_needs_a_session_and_answers_scripts_in_json(
    server: RunningServer,
) -> None:
    stranger = ConsoleAgent(server)
    try:
        async with stranger.session.get(
            f"{server.base_url}/atendimento/eventos", headers={"Accept": "text/event-stream"}
        ) as resp:
            assert resp.status == 401 and resp.content_type == "application/json"
            assert (await resp.json())["erro"] == "NAO_AUTENTICADO"
        sent = await stranger.post(f"{chat_path(1)}/mensagem", {"mensagem": "oi"}, script=True)
        assert sent.status == 401 and json.loads(sent.html)["erro"] == "NAO_AUTENTICADO"
    finally:
        await stranger.close()


async def test_a_stream_ends_when_its_browser_leaves_at_sair_and_at_shutdown(
    tmp_path: Path, telegram: TelegramApi
) -> None:
    async with telegram_server(tmp_path, telegram) as server:
        hub = server.app[HUB]
        agent = ConsoleAgent(server)
        await agent.sign_in(*await new_agent(server))
        async with agent.stream():
            await wait_until(lambda: hub.open_streams == 1)
        await wait_until(lambda: hub.open_streams == 0, within=3)  # the browser went away

        async with agent.stream() as stream:
            await agent.post("/atendimento/sair", {})
            await stream.wait_for("sessao", within=5)
            await wait_until(lambda: stream.ended)
        await wait_until(lambda: hub.open_streams == 0, within=3)

        await agent.sign_in(*await new_agent(server))
        streams = agent.stream()
        stream = await streams.__aenter__()
        await wait_until(lambda: hub.open_streams == 1)
        stopping = time.monotonic()
    # The server stopped with the stream open: not after aiohttp's 60 s grace for open requests.
    try:
        assert time.monotonic() - stopping < 5
        await wait_until(lambda: stream.ended, within=1)
    finally:
        await streams.__aexit__(None, None, None)
        await agent.close()
