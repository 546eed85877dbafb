"""The whole odontoken server on 127.0.0.1, and a client that signs its calls like the SIO."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import create_app
from bot.settings import Settings
from handlers.appkeys import SERVICES
from tests.support import backends, refs
from token_core.access.signing import signed_headers
from token_core.services import Services


def server_settings(data_dir: Path, **sections: dict[str, Any]) -> Settings:
    """Settings for a server in the test process, on the selected backend."""
    base: dict[str, dict[str, Any]] = {
        "app": {"data_dir": data_dir},
        "security": {"pepper": backends.TEST_PEPPER},
        "redis": {"url": ""},
        "portal": {"enabled": True, "client_id": f"portal-{refs.suffix()}"},
    }
    if backends.selected_backend() == "production":
        base["redis"] = {"url": backends.REDIS_URL, "prefix": backends.redis_prefix()}
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values}
    return Settings(**base)  # type: ignore[arg-type]


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class RunningServer:
    app: web.Application
    base_url: str
    session: aiohttp.ClientSession
    client_id: str
    secret: str

    _seen: set[tuple[int, str, str, bytes]] = field(default_factory=set)

    def _fresh_timestamp(self, method: str, path: str, body: bytes) -> int:
        """Now, or the next second when the same request was already signed for now: a signature
        is accepted once, so an identical request in the same second needs another timestamp.
        """
        ts = int(time.time())
        while (ts, method, path, body) in self._seen:
            ts += 1
        self._seen.add((ts, method, path, body))
        return ts

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    async def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        signed: bool = True,
        client_id: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> Answer:
        body = (
            raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        )
        sent = {"Content-Type": "application/json"}
        if signed:
            ts = timestamp or self._fresh_timestamp(method, path, body)
            sent |= signed_headers(
                client_id or self.client_id, secret or self.secret, str(ts), method, path, body
            )
        sent |= headers or {}
        async with self.session.request(
            method, self.base_url + path, data=body, headers=sent
        ) as resp:
            text = await resp.text()
            data = json.loads(text) if resp.content_type == "application/json" else text
            return Answer(resp.status, data, dict(resp.headers))


@asynccontextmanager
async def running_server(settings: Settings) -> AsyncIterator[RunningServer]:
    """Start the app (sharing the test session's database) and provision one API client."""
    app = create_app(settings, manage_database=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    client_id = f"sio-{refs.suffix()}"
    try:
        secret = await app[SERVICES].clients.create(client_id)
        async with aiohttp.ClientSession() as session:
            yield RunningServer(app, f"http://127.0.0.1:{port}", session, client_id, secret)
    finally:
        await runner.cleanup()
        if settings.redis.url:
            await backends.redis_cleanup(settings.redis.prefix)
