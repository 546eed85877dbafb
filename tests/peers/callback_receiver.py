"""The dentist system's callback receiver on 127.0.0.1: checks each signature, dedupes by
event id, answers 204. It can answer 503 (`down`), answer late (`delay`) or be stopped and
started again on the same port (connection refused in between).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from aiohttp import web

from tests.peers.base import PeerServer
from token_core.access.signing import (
    CLIENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_matches,
)

MAX_SKEW_SECONDS = 300


class CallbackReceiver(PeerServer):
    """Records `events` (the first copy of each, in arrival order), `bodies` (raw, every copy)
    and `deliveries_by_id` (every verified request taken in, acknowledged or not).
    """

    shutdown_timeout = 2.0

    def __init__(
        self, client_id: str, secret: str, path: str = "/sio/eventos?origem=odontoken"
    ) -> None:
        super().__init__()
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

    @property
    def url(self) -> str:
        return f"{self.base_url}{self.path}"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(self.path.partition("?")[0], self._receive)

    async def wait_for_events(self, count: int) -> None:
        """Return once `count` distinct events have arrived."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.events) >= count)

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
