"""`scripts/run` as a new user starts it: a subprocess on a data folder of its own, read until
its banner says where it listens, stopped with Ctrl+C (SIGINT to its own process id).

On the production backend the run uses Redis under a fresh prefix (the demo reset must then
clear live codes and locks that outlive the process); the database is the run's own SQLite file
either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.support import backends
from token_core.access.signing import signed_headers

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "scripts" / "run"
ODONTOKEN = Path(sys.executable).parent / "odontoken"
BANNER_END = "Ctrl+C stops."
START_SECONDS = 120.0
# Requests signed so far, by every run: a signature is accepted once, and on Redis the replay
# guard outlives one run, so the same request in the same second needs the next second.
SIGNED: set[tuple[int, str, str, bytes]] = set()


def demo_environment(data_dir: Path, redis_prefix: str | None) -> dict[str, str]:
    """The caller's environment without any ODONTOKEN_* setting, plus the run's own."""
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("ODONTOKEN_")}
    environ.update(ODONTOKEN_APP__DATA_DIR=str(data_dir), ODONTOKEN_SERVER__PORT="0")
    if redis_prefix is not None:
        environ.update(
            ODONTOKEN_REDIS__URL=backends.REDIS_URL, ODONTOKEN_REDIS__PREFIX=redis_prefix
        )
    return environ


@dataclass
class DemoServer:
    process: asyncio.subprocess.Process
    data_dir: Path
    environ: dict[str, str]
    banner: list[str]
    base_url: str = ""

    def odontoken(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Another `odontoken` command on the same data folder (e.g. `clients create`)."""
        return subprocess.run(
            [str(ODONTOKEN), *args],
            cwd=self.data_dir,
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def new_client(self, client_id: str, papel: str = "dentista") -> str:
        made = self.odontoken("clients", "create", client_id, "--papel", papel)
        assert made.returncode == 0, made.stderr
        return next(
            line.removeprefix("secret: ")
            for line in made.stdout.splitlines()
            if line.startswith("secret: ")
        )

    async def call(
        self,
        session: aiohttp.ClientSession,
        client: tuple[str, str],
        method: str,
        path: str,
        payload: Any = None,
    ) -> tuple[int, Any]:
        """A signed API call (client id, secret), as the SIO makes it."""
        body = b"" if payload is None else json.dumps(payload).encode()
        ts = int(time.time())
        while (ts, method, path, body) in SIGNED:
            ts += 1
        SIGNED.add((ts, method, path, body))
        headers = {"Content-Type": "application/json"}
        headers |= signed_headers(client[0], client[1], str(ts), method, path, body)
        async with session.request(
            method, self.base_url + path, data=body, headers=headers
        ) as resp:
            return resp.status, await resp.json()

    def outbox_code(self, masked_phone: str) -> str:
        """The code in the last SMS the console backend wrote for this (masked) phone."""
        text = (self.data_dir / "outbox.txt").read_text(encoding="utf-8")
        last = text.rsplit(f" sms to {masked_phone} ===\n", 1)[1]
        return next(word for word in last.replace(".", " ").split() if word.isdigit())


async def _read_banner(stdout: asyncio.StreamReader) -> list[str]:
    lines: list[str] = []
    while True:
        raw = await stdout.readline()
        if not raw:
            raise AssertionError("scripts/run ended before serving:\n" + "".join(lines))
        line = raw.decode().rstrip("\n")
        lines.append(line)
        if line == BANNER_END:
            return lines


@asynccontextmanager
async def demo_server(data_dir: Path, redis_prefix: str | None = None) -> AsyncIterator[DemoServer]:
    """`scripts/run` on `data_dir`, until the block ends (then Ctrl+C, and it must exit 0)."""
    environ = demo_environment(data_dir, redis_prefix)
    process = await asyncio.create_subprocess_exec(
        str(RUN),
        cwd=REPO,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None and process.stderr is not None
    stderr = asyncio.create_task(process.stderr.read())
    drain: asyncio.Task[bytes] | None = None
    try:
        banner = await asyncio.wait_for(_read_banner(process.stdout), START_SECONDS)
        listening = next(line for line in banner if line.startswith("listening on "))
        server = DemoServer(process, data_dir, environ, banner, listening.split()[2])
        drain = asyncio.create_task(process.stdout.read())
        yield server
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 30)
        if process.returncode is None:
            process.kill()
            await process.wait()
    errors = (await stderr).decode()
    if drain is not None:
        await drain
    assert process.returncode == 0, errors
    assert "Traceback" not in errors, errors
