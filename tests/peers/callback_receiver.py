"""The dentist system's callback receiver on 127.0.0.1: checks each signature, dedupes by
event id, answers 204. It can answer 503 (`down`), answer late (`delay`) or be stopped and
started again on the same port (connection refused in between).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from types import TracebackType
from typing import Any

from aiohttp import web

from token_core.access.signing import (
    CLIENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_matches,
)

MAX_SKEW_SECONDS = 300


class CallbackReceiver:
    """Records `events` (the first copy of each, in arrival order), `bodies` (raw, every copy)
    and `deliveries_by_id` (every verified request taken in, acknowledged or not).
    """

    def __init__(
        self, client_id: str, secret: str, path: str = "/sio/eventos?origem=odontoken"
    ) -> None:
        self.client_id = client_id
        self.secret = secret
        self.path = path
        self.down = False
        self.delay = 0.0
        self.events: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []
        self.deliveries_by_id: Counter[str] = Counter()
        self.unavailable = 0
        self.refused = 0
        self._arrived = asyncio.Condition()
        self._port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}{self.path}"

    async def start(self) -> None:
        """Listen on the port used before (a random one the first time)."""
        app = web.Application()
        app.router.add_post(self.path.partition("?")[0], self._receive)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Close the listener and every open connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for_events(self, count: int) -> None:
        """Return once `count` distinct events have arrived."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.events) >= count)

    async def __aenter__(self) -> CallbackReceiver:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not self._authentic(request, body):
            self.refused += 1
            return web.Response(status=401)
        if self.down:
            self.unavailable += 1
            return web.Response(status=503)
        event = json.loads(body)
        if (
            request.content_type != "application/json"
            or request.headers.get("X-Odontoken-Evento") != event["tipo"]
            or request.headers.get("X-Odontoken-Evento-Id") != event["id"]
        ):
            self.refused += 1
            return web.Response(status=400)
        self.bodies.append(body)
        self.deliveries_by_id[event["id"]] += 1
        if self.deliveries_by_id[event["id"]] == 1:
            self.events.append(event)
            async with self._arrived:
                self._arrived.notify_all()
        await asyncio.sleep(self.delay)
        return web.Response(status=204)

    def _authentic(self, request: web.Request, body: bytes) -> bool:
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        given = request.headers.get(SIGNATURE_HEADER, "")
        if request.headers.get(CLIENT_HEADER) != self.client_id:
            return False
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
            return False
        return signature_matches(
            [self.secret], given, timestamp, request.method, request.raw_path, body
        )
