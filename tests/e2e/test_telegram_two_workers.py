"""Two `odontoken serve` processes on one PostgreSQL + Redis take turns with one chat's
updates: the dialogue state, the link and the code live in the shared stores, not in a worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import World
from tests.e2e.test_telegram import SECRET, TOKEN
from tests.peers.base import free_port
from tests.peers.telegram_api import TelegramApi
from tests.support import backends, refs
from tests.support.waiting import wait_until
from token_core.access.clients import ClientRegistry, SecretBox, new_key
from token_core.access.signing import signed_headers
from token_core.registry.identity import Cpf

pytestmark = pytest.mark.production
ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"código de segurança: (\d{6})")


@asynccontextmanager
async def worker(env: dict[str, str], data_dir: Path) -> AsyncIterator[str]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        cwd=ROOT,
        env={**env, "ODONTOKEN_SERVER__PORT": str(port), "ODONTOKEN_APP__DATA_DIR": str(data_dir)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(30):
            while b"listening on" not in (line := await proc.stdout.readline()):
                assert line, (await proc.stderr.read()).decode()  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()


async def test_two_workers_serve_one_chat_from_link_to_receipt(
    database: str, world: World, tmp_path: Path
) -> None:
    secrets_key = new_key()
    client_id = f"sio-{refs.suffix()}"
    client_secret = await ClientRegistry(SecretBox([secrets_key.encode()])).create(client_id)
    prefix = backends.redis_prefix()
    cpf = refs.cpf()
    guide = await world.guide(await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949"))
    async with TelegramApi(token=TOKEN) as peer, AsyncExitStack() as stack:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ODONTOKEN_")}
        env |= {
            "ODONTOKEN_DATABASE__URL": database,
            "ODONTOKEN_REDIS__URL": backends.REDIS_URL,
            "ODONTOKEN_REDIS__PREFIX": prefix,
            "ODONTOKEN_SECURITY__PEPPER": backends.TEST_PEPPER,
            "ODONTOKEN_SECURITY__SECRETS_KEY": secrets_key,
            "ODONTOKEN_PORTAL__ENABLED": "false",
            "ODONTOKEN_TELEGRAM__TOKEN": TOKEN,
            "ODONTOKEN_TELEGRAM__WEBHOOK_SECRET": SECRET,
            "ODONTOKEN_TELEGRAM__BASE_URL": f"{peer.base_url}/bot",
        }
        workers = [
            await stack.enter_async_context(worker(env, tmp_path / str(i))) for i in range(2)
        ]
        session = await stack.enter_async_context(aiohttp.ClientSession())
        chat_id = user_id = int(refs.suffix(), 16) % 10**9
        turn = 0

        async def post(update: dict[str, Any], replies: int = 1) -> list[dict[str, Any]]:
            nonlocal turn
            before = len(peer.sent(chat_id))
            turn += 1
            async with session.post(
                f"{workers[turn % 2]}/webhooks/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ) as r:
                assert r.status == 200
            await wait_until(lambda: len(peer.sent(chat_id)) >= before + replies)
            return peer.sent(chat_id)[before:]

        await post(peer.text_update(chat_id, user_id, "/start"))
        await post(peer.contact_update(chat_id, user_id, "+5541988575949", user_id))
        linked = await post(peer.text_update(chat_id, user_id, Cpf.parse(cpf).formatted), 2)
        assert linked[-1]["text"].startswith("Pronto,")
        [card] = await post(peer.text_update(chat_id, user_id, "gerar token"))
        code = CODE.search(card["text"]).group(1)  # type: ignore[union-attr]

        path = f"/api/v1/guias/{guide.numero}/validacao"
        body = json.dumps({"token": code}).encode()
        headers = signed_headers(
            client_id, client_secret, str(int(time.time())), "POST", path, body
        )
        async with session.post(
            workers[0] + path, data=body, headers={**headers, "Content-Type": "application/json"}
        ) as r:
            assert r.status == 200, await r.text()
        receipts = await wait_until(
            lambda: [m for m in peer.sent(chat_id) if m["text"].startswith("✅")]
        )
        await asyncio.sleep(0.5)  # both workers heard the event; only one may send
        assert len([m for m in peer.sent(chat_id) if m["text"].startswith("✅")]) == 1
        assert guide.numero in receipts[0]["text"]
    await backends.redis_cleanup(prefix)
