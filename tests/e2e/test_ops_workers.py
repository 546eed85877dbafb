"""`odontoken serve --workers N` on PostgreSQL + Redis, as an operator runs it: gunicorn with
aiohttp's worker, metrics that add up across workers, once-only start-up work, JSON logs, and a
SIGTERM that lets the request in flight finish.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.mmap_dict import MmapedDict

from tests.conftest import World
from tests.peers.base import HOST, free_port
from tests.peers.sms_gateway import TEST_API_TOKEN, SmsGateway
from tests.peers.telegram_api import TelegramApi
from tests.support import backends, refs
from tests.support.chat_drivers import TG_SECRET, TG_TOKEN
from tests.support.metrics_scrape import scrape, value
from tests.support.waiting import wait_until
from token_core.access.clients import ClientRegistry, SecretBox, new_key
from token_core.access.signing import signed_headers

pytestmark = pytest.mark.production
ROOT = Path(__file__).resolve().parents[2]
INVALID = "odontoken_validations_total"


@dataclass
class Served:
    url: str
    proc: asyncio.subprocess.Process
    client_id: str
    secret: str
    stderr: list[str] = field(default_factory=list)

    async def call(
        self, session: aiohttp.ClientSession, method: str, path: str, payload: Any, **headers: str
    ) -> tuple[int, dict[str, str]]:
        body = json.dumps(payload).encode()
        ts = str(int(time.time()))  # each call sends its own body: its own signature
        sent = signed_headers(self.client_id, self.secret, ts, method, path, body)
        sent |= {"Content-Type": "application/json", **headers}
        async with session.request(method, self.url + path, data=body, headers=sent) as resp:
            await resp.read()
            return resp.status, dict(resp.headers)


@asynccontextmanager
async def serve(database: str, tmp_path: Path, workers: int, **env: str) -> AsyncIterator[Served]:
    secrets_key = new_key()
    client_id = f"sio-{refs.suffix()}"
    secret = await ClientRegistry(SecretBox([secrets_key.encode()])).create(client_id)
    port = free_port()
    prefix = backends.redis_prefix()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ODONTOKEN_", "PROM"))}
    environ |= {
        "ODONTOKEN_DATABASE__URL": database,
        "ODONTOKEN_REDIS__URL": backends.REDIS_URL,
        "ODONTOKEN_REDIS__PREFIX": prefix,
        "ODONTOKEN_SECURITY__PEPPER": backends.TEST_PEPPER,
        "ODONTOKEN_SECURITY__SECRETS_KEY": secrets_key,
        "ODONTOKEN_PORTAL__ENABLED": "false",
        "ODONTOKEN_SERVER__PORT": str(port),
        "ODONTOKEN_APP__DATA_DIR": str(tmp_path),
        "ODONTOKEN_APP__LOG_FORMAT": "json",
        **env,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        "--workers",
        str(workers),
        cwd=ROOT,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    served = Served(f"http://{HOST}:{port}", proc, client_id, secret)

    async def collect(stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            served.stderr.append(line.decode(errors="replace"))

    reader = asyncio.create_task(collect(proc.stderr))
    try:
        async with asyncio.timeout(60):
            while b"listening on" not in (line := await proc.stdout.readline()):
                assert line, "".join(served.stderr)

            async def up() -> bool:
                try:
                    async with aiohttp.ClientSession() as session:
                        async with session.get(served.url + "/readyz") as resp:
                            return resp.status == 200
                except aiohttp.ClientError:
                    return False

            await wait_until(up, within=30, interval=0.2)
        yield served
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
        await reader
        await backends.redis_cleanup(prefix)


def counted_by_worker(metrics_dir: Path, name: str) -> dict[str, float]:
    """What each worker's own file holds for `name` (its labels summed), by file."""
    found: dict[str, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        total = sum(
            value_
            for key, value_, _ts, _pos in MmapedDict.read_all_values_from_file(  # type: ignore[no-untyped-call]
                str(path)
            )
            if json.loads(key)[1] == name
        )
        if total:
            found[path.name] = total
    return found


async def test_two_gunicorn_workers_add_up_their_counts_and_register_the_webhook_once(
    database: str, world: World, tmp_path: Path
) -> None:
    guide = await world.guide()
    async with TelegramApi(token=TG_TOKEN) as peer:
        env = {
            "ODONTOKEN_TELEGRAM__TOKEN": TG_TOKEN,
            "ODONTOKEN_TELEGRAM__WEBHOOK_SECRET": TG_SECRET,
            "ODONTOKEN_TELEGRAM__BASE_URL": f"{peer.base_url}/bot",
            "ODONTOKEN_TELEGRAM__PUBLIC_URL": "https://odontoken.example",
            "ODONTOKEN_LIMITS__GUIDE_MAX_FAILURES": "1000",
            "ODONTOKEN_LIMITS__BENEFICIARY_MAX_FAILURES": "1000",
        }
        async with serve(database, tmp_path, 2, **env) as served:
            metrics_dir = tmp_path / "prometheus"
            path = f"/api/v1/guias/{guide.numero}/validacao"
            sent = 0
            # Fresh connections, a few at once, until both workers have answered some.
            connector = aiohttp.TCPConnector(force_close=True)
            async with aiohttp.ClientSession(connector=connector) as session:
                before = value(await scrape(session, served.url), INVALID, result="invalid")
                for _ in range(20):
                    answers = await asyncio.gather(
                        *(
                            served.call(session, "POST", path, {"token": f"{sent + i:06d}"})
                            for i in range(8)
                        )
                    )
                    assert [status for status, _ in answers] == [422] * 8
                    sent += 8
                    if len(counted_by_worker(metrics_dir, INVALID)) >= 2:
                        break
                after = await scrape(session, served.url)
            setwebhooks = [call for call in peer.calls if call[0] == "setWebhook"]

    per_worker = counted_by_worker(metrics_dir, INVALID)
    assert len(per_worker) == 2, per_worker  # both workers counted some
    assert value(after, INVALID, result="invalid") - before == sent
    assert sum(per_worker.values()) == value(after, INVALID, result="invalid")
    assert len(setwebhooks) == 1, setwebhooks  # by the master, not once per worker
    lines = [json.loads(line) for line in served.stderr if line.strip()]  # every line is JSON
    assert lines and all({"ts", "level", "logger", "message"} <= line.keys() for line in lines)


class HoldingGateway(SmsGateway):
    """An SMS gateway that holds each message until `release`, then accepts it."""

    def __init__(self) -> None:
        super().__init__()
        self.held = 0
        self._go = asyncio.Event()

    def release(self) -> None:
        self._go.set()

    async def _receive(self, request: web.Request) -> web.Response:
        self.held += 1
        await self._go.wait()
        return await super()._receive(request)


async def refused(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/healthz") as resp:
                await resp.read()
        return False
    except aiohttp.ClientConnectionError:
        return True


@pytest.mark.parametrize("workers", [1, 2])
async def test_sigterm_lets_the_request_in_flight_finish_then_stops(
    database: str, world: World, tmp_path: Path, workers: int
) -> None:
    guide = await world.guide()
    async with HoldingGateway() as gateway:
        env = {
            "ODONTOKEN_SMS__BACKEND": "zenvia",
            "ODONTOKEN_SMS__BASE_URL": gateway.base_url,
            "ODONTOKEN_SMS__API_TOKEN": TEST_API_TOKEN,
            "ODONTOKEN_SMS__TIMEOUT_SECONDS": "20",
            "ODONTOKEN_SERVER__SHUTDOWN_TIMEOUT_SECONDS": "25",
        }
        async with serve(database, tmp_path, workers, **env) as served:
            async with aiohttp.ClientSession() as session:
                slow = asyncio.create_task(
                    served.call(
                        session,
                        "POST",
                        f"/api/v1/guias/{guide.numero}/token",
                        {"canal": "sms"},
                        **{"X-Request-Id": "slow-1"},
                    )
                )
                await wait_until(lambda: gateway.held == 1, within=10)
                served.proc.send_signal(signal.SIGTERM)
                await wait_until(lambda: refused(served.url), within=10, interval=0.1)
                gateway.release()
                status, headers = await asyncio.wait_for(slow, 30)
            code = await asyncio.wait_for(served.proc.wait(), 30)

    assert status == 202  # the code went out: the send answered as usual
    assert headers.get("X-Request-ID", headers.get("X-Request-Id")) == "slow-1"
    assert len(gateway.messages) == 1
    assert code == 0, "".join(served.stderr)
    # The process's own log output: JSON lines, those of the request carrying its id.
    lines = [json.loads(line) for line in served.stderr if line.strip()]
    mine = [line["message"] for line in lines if line.get("request_id") == "slow-1"]
    assert any(message.startswith("audit token.issued") for message in mine), mine
    assert any(message.startswith("sms sent to") for message in mine), mine
