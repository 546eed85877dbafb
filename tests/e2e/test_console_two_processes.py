"""Two `odontoken serve` processes on one PostgreSQL + Redis: a console connected to one worker
sees, live, what the other handled; the hand-off holds while the chat's updates alternate between
them (the bot stays quiet on both while an agent holds the chat), and an agent signed in on one
writes through the other.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from handlers.chat import texts
from tests.conftest import World
from tests.peers.base import free_port
from tests.peers.telegram_api import TelegramApi
from tests.support import backends, refs
from tests.support.console_chat import SECRET, TOKEN, ConsoleAgent, chat_path
from tests.support.waiting import wait_until
from token_core.access.clients import new_key
from token_core.registry.identity import Cpf, Mobile
from token_core.support.agents import AgentRegistry
from token_core.vocabulary import AgentRole

pytestmark = pytest.mark.production
ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def worker(env: dict[str, str], data_dir: Path) -> AsyncIterator[str]:
    """One `odontoken serve` process; its output goes to a file (shown if it fails to start)."""
    port = free_port()
    data_dir.mkdir(parents=True)  # noqa: ASYNC240 - once, before the process starts
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            cwd=ROOT,
            env={
                **env,
                "ODONTOKEN_SERVER__PORT": str(port),
                "ODONTOKEN_APP__DATA_DIR": str(data_dir),
            },
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        async with asyncio.timeout(30):
            while b"listening on" not in log.read_bytes():
                assert proc.returncode is None, log.read_text()
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):  # open live streams must not hold the shutdown
            await proc.wait()


def saying(words: str) -> Callable[[dict[str, Any]], bool]:
    return lambda line: bool(line["texto"] == words)


async def test_a_console_on_one_worker_follows_a_hand_off_handled_by_both(
    database: str, world: World, tmp_path: Path
) -> None:
    prefix = backends.redis_prefix()
    cpf, mobile = Cpf.parse(refs.cpf()), Mobile.parse(refs.mobile())
    person = await world.beneficiary(cpf=cpf.digits, mobile=mobile.e164)
    login = f"agente{refs.suffix()}"
    password = await AgentRegistry().create(login, "Ana Atendente", AgentRole.ATTENDANT)
    async with TelegramApi(token=TOKEN) as peer, AsyncExitStack() as stack:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ODONTOKEN_")}
        env |= {
            "ODONTOKEN_DATABASE__URL": database,
            "ODONTOKEN_REDIS__URL": backends.REDIS_URL,
            "ODONTOKEN_REDIS__PREFIX": prefix,
            "ODONTOKEN_SECURITY__PEPPER": backends.TEST_PEPPER,
            "ODONTOKEN_SECURITY__SECRETS_KEY": new_key(),
            "ODONTOKEN_PORTAL__ENABLED": "false",
            "ODONTOKEN_TELEGRAM__TOKEN": TOKEN,
            "ODONTOKEN_TELEGRAM__WEBHOOK_SECRET": SECRET,
            "ODONTOKEN_TELEGRAM__BASE_URL": f"{peer.base_url}/bot",
            "ODONTOKEN_CONSOLE__COOKIE_SECRET": f"cookie-secret-{refs.suffix()}-{refs.suffix()}",
        }
        a, b = [await stack.enter_async_context(worker(env, tmp_path / n)) for n in "ab"]
        session = await stack.enter_async_context(aiohttp.ClientSession())
        chat_id = user_id = int(refs.suffix(), 16) % 10**9

        async def post(to: str, update: dict[str, Any], replies: int = 0) -> list[dict[str, Any]]:
            before = len(peer.sent(chat_id))
            async with session.post(
                f"{to}/webhooks/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ) as r:
                assert r.status == 200
            await wait_until(lambda: len(peer.sent(chat_id)) >= before + replies)
            return peer.sent(chat_id)[before:]

        def text(words: str) -> dict[str, Any]:
            return peer.text_update(chat_id, user_id, words)

        await post(a, text("/start"), 1)
        await post(b, peer.contact_update(chat_id, user_id, mobile.e164, user_id), 1)
        linked = await post(a, text(cpf.formatted), 2)
        assert linked[-1]["text"].startswith("Pronto,")

        on_a, on_b = ConsoleAgent(a), ConsoleAgent(b)
        stack.push_async_callback(on_a.close)
        stack.push_async_callback(on_b.close)
        await on_a.sign_in(login, password)
        await on_b.sign_in(login, password)
        listing = await stack.enter_async_context(on_b.stream())
        one_chat = await stack.enter_async_context(
            on_b.stream(f"?conversa=telegram:{chat_id}&desde=0")
        )
        await one_chat.wait_for("conversa")  # connected: the chat as it is now came first

        # A Telegram update delivered to A (handled by whichever worker takes it from the shared
        # inbound queue) shows up on B's console.
        [asked] = await post(a, text("atendente"), 1)
        assert asked["text"] == texts.HUMAN
        change = await listing.wait_for(
            "conversa", lambda c: c["chat"] == str(chat_id) and c["estado"] != "bot"
        )
        assert change["estado"] == "aguardando atendente"
        assert change["beneficiario"] == person.name.split()[0]

        # Assumir on A: B's console sees it; then the updates alternate and the bot keeps quiet.
        taken = await on_a.post(f"{chat_path(chat_id)}/assumir", {})
        assert "Devolver ao bot" in taken.html
        await listing.wait_for("conversa", lambda c: c["estado"] == "em atendimento")
        before = len(peer.sent(chat_id))
        said = [f"mensagem {n} para a atendente" for n in range(4)]
        for n, words in enumerate(said):
            await post((a, b)[n % 2], text(words))
        await post(b, text("minhas guias"))
        for words in [*said, "minhas guias"]:
            await one_chat.wait_for("mensagem", saying(words))

        # The agent took the chat on A, writes through B and hands back through A.
        sent = await on_b.post(
            f"{chat_path(chat_id)}/mensagem", {"mensagem": "Oi! Sou a Ana."}, script=True
        )
        assert sent.status == 200
        await one_chat.wait_for("mensagem", saying("Oi! Sou a Ana."))
        back = await on_a.post(f"{chat_path(chat_id)}/devolver", {})
        assert "Assumir" in back.html
        await wait_until(lambda: len(peer.sent(chat_id)) >= before + 2)
        [guides] = await post(b, text("minhas guias"), 1)
        assert [m["text"] for m in peer.sent(chat_id)[before:]] == [
            "Oi! Sou a Ana.",
            texts.HANDOFF_BACK,
            guides["text"],
        ]
        assert guides["text"] == texts.NO_GUIDES  # the bot's answer: this person has none
    await backends.redis_cleanup(prefix)
