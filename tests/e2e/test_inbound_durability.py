"""Inbound chat updates survive the worker that took them: a worker killed (SIGKILL) right after
answering a Telegram or WhatsApp webhook 200 loses nothing, and a code card is deleted on time
although the worker that sent it is gone. PostgreSQL + Redis, real `odontoken serve` processes.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from tests.conftest import World
from tests.e2e.test_telegram import SECRET, TOKEN
from tests.peers.base import free_port
from tests.peers.graph_api import GraphApi
from tests.peers.telegram_api import TelegramApi
from tests.support import backends, refs
from tests.support.chat_drivers import whatsapp_settings
from tests.support.waiting import wait_until
from token_core.registry.identity import Cpf, Mobile

pytestmark = pytest.mark.production
ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"código de segurança: (\d{6})")


@asynccontextmanager
async def serve(env: dict[str, str], data_dir: Path) -> AsyncIterator[tuple[str, int]]:
    """An `odontoken serve` process: (base URL, pid); SIGTERM at the end if still alive."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        cwd=ROOT,
        env={**env, "ODONTOKEN_SERVER__PORT": str(port), "ODONTOKEN_APP__DATA_DIR": str(data_dir)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(30):
            while b"listening on" not in (line := await proc.stdout.readline()):
                assert line, "the server did not start"
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await proc.wait()


def environment(database: str, prefix: str, peer: TelegramApi, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODONTOKEN_")}
    env |= {
        "ODONTOKEN_DATABASE__URL": database,
        "ODONTOKEN_REDIS__URL": backends.REDIS_URL,
        "ODONTOKEN_REDIS__PREFIX": prefix,
        "ODONTOKEN_SECURITY__PEPPER": backends.TEST_PEPPER,
        "ODONTOKEN_SECURITY__SECRETS_KEY": "T2RvbnRva2VuLXRlc3Qtc2VjcmV0cy1rZXktMzJieXQ=",
        "ODONTOKEN_PORTAL__ENABLED": "false",
        "ODONTOKEN_CONSOLE__ENABLED": "false",
        "ODONTOKEN_TELEGRAM__TOKEN": TOKEN,
        "ODONTOKEN_TELEGRAM__WEBHOOK_SECRET": SECRET,
        "ODONTOKEN_TELEGRAM__BASE_URL": f"{peer.base_url}/bot",
        "ODONTOKEN_CHAT__CLAIM_AFTER_SECONDS": "1",
    }
    return env | extra


async def scheduled(prefix: str) -> int:
    client = Redis.from_url(backends.REDIS_URL)
    try:
        return int(await client.zcard(f"{prefix}kv:schedule:telegram-delete"))
    finally:
        await client.aclose()


async def post(session: aiohttp.ClientSession, base: str, update: dict[str, object]) -> None:
    async with session.post(
        f"{base}/webhooks/telegram",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    ) as answer:
        assert answer.status == 200


async def test_an_update_acknowledged_by_a_worker_killed_at_once_is_handled_by_another(
    database: str, tmp_path: Path
) -> None:
    prefix = backends.redis_prefix()
    async with TelegramApi(token=TOKEN) as peer, aiohttp.ClientSession() as session:
        chat_id = user_id = int(refs.suffix(), 16) % 10**9
        # The first worker only takes webhooks, so it is certain to die before handling.
        ingest = environment(database, prefix, peer, ODONTOKEN_CHAT__CONSUME="false")
        async with serve(ingest, tmp_path / "a") as (first, pid):
            await post(session, first, peer.text_update(chat_id, user_id, "/start"))
            os.kill(pid, signal.SIGKILL)
        assert peer.sent(chat_id) == []
        async with serve(environment(database, prefix, peer), tmp_path / "b"):
            [welcome] = await wait_until(lambda: peer.sent(chat_id), within=15)
        assert welcome["text"].startswith("Olá!")
    await backends.redis_cleanup(prefix)


async def test_a_code_card_is_deleted_on_time_after_the_worker_that_sent_it_was_killed(
    database: str, world: World, tmp_path: Path
) -> None:
    prefix = backends.redis_prefix()
    cpf = refs.cpf()
    await world.guide(await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949"))
    async with TelegramApi(token=TOKEN) as peer, aiohttp.ClientSession() as session:
        chat_id = user_id = int(refs.suffix(), 16) % 10**9
        env = environment(database, prefix, peer, ODONTOKEN_TOKENS__TTL_SECONDS="4")
        async with serve(env, tmp_path / "a") as (first, pid):
            steps = [
                peer.text_update(chat_id, user_id, "/start"),
                peer.contact_update(chat_id, user_id, "+5541988575949", user_id),
                peer.text_update(chat_id, user_id, Cpf.parse(cpf).formatted),
                peer.text_update(chat_id, user_id, "gerar token"),
            ]
            for update in steps:
                await post(session, first, update)
            card = await wait_until(
                lambda: [m for m in peer.sent(chat_id) if CODE.search(m["text"])], within=15
            )
            # Its deletion is scheduled in Redis right after Telegram took the card.
            await wait_until(lambda: scheduled(prefix), within=10)
            os.kill(pid, signal.SIGKILL)  # the worker that sent the card is gone
        key = (chat_id, card[0]["message_id"])
        assert key not in peer.deleted
        async with serve(env, tmp_path / "b"):
            await wait_until(lambda: key in peer.deleted, within=30)
    await backends.redis_cleanup(prefix)


async def test_a_whatsapp_message_acknowledged_by_a_killed_worker_is_answered_by_another(
    database: str, tmp_path: Path
) -> None:
    prefix = backends.redis_prefix()
    async with GraphApi() as graph, TelegramApi(token=TOKEN) as telegram:
        settings = whatsapp_settings(graph)
        wa_env = {f"ODONTOKEN_WHATSAPP__{k.upper()}": str(v) for k, v in settings.items()}
        base = environment(database, prefix, telegram) | wa_env
        who = Mobile.parse(refs.mobile()).e164[1:]
        body, headers = graph.signed(graph.payload(graph.text(who, "oi")))
        async with serve(base | {"ODONTOKEN_CHAT__CONSUME": "false"}, tmp_path / "a") as (
            first,
            pid,
        ):
            async with aiohttp.ClientSession() as session:
                async with session.post(
                    f"{first}/webhooks/whatsapp",
                    data=body,
                    headers={**headers, "Content-Type": "application/json"},
                ) as answer:
                    assert answer.status == 200
            os.kill(pid, signal.SIGKILL)
        assert graph.to(who) == []
        async with serve(base, tmp_path / "b"):
            answered = await wait_until(lambda: graph.texts_to(who), within=15)
        assert answered[0].startswith("Olá")
    await backends.redis_cleanup(prefix)
