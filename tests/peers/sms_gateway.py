"""A Zenvia API v2 SMS endpoint on 127.0.0.1: checks the token, records what it accepts, and can
be told to fail or to hang.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp import web

from tests.peers.base import PeerServer

MESSAGES_PATH = "/v2/channels/sms/messages"
TEST_API_TOKEN = "zenvia-test-token"


class SmsGateway(PeerServer):
    """`async with SmsGateway() as gateway:` gives `.base_url` and `.messages` (accepted JSON)."""

    def __init__(self, api_token: str = TEST_API_TOKEN) -> None:
        super().__init__()
        self.api_token = api_token
        self.messages: list[dict[str, Any]] = []
        self.requests = 0
        self._fail: list[int] = []
        self._hang = 0
        self._release = asyncio.Event()

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """Answer the next `count` requests with `status`."""
        self._fail.extend([status] * count)

    def hang_next(self, count: int = 1) -> None:
        """Hold the next `count` requests without answering until the gateway closes."""
        self._hang += count

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(MESSAGES_PATH, self._receive)

    async def stop(self) -> None:
        """Let the held requests go, then close."""
        self._release.set()
        await super().stop()

    async def _receive(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self._hang:
            self._hang -= 1
            await self._release.wait()
            return web.json_response({"code": "UNAVAILABLE"}, status=503)
        if self._fail:
            return web.json_response({"code": "UNAVAILABLE"}, status=self._fail.pop(0))
        if request.headers.get("X-API-TOKEN") != self.api_token:
            return web.json_response(
                {"code": "UNAUTHORIZED", "message": "Invalid token"}, status=401
            )
        body = await request.json()
        if not _valid(body):
            return web.json_response({"code": "VALIDATION_ERROR"}, status=400)
        self.messages.append(body)
        answer = {"id": str(uuid.uuid4()), "direction": "OUT", "channel": "sms", **body}
        return web.json_response(answer)


def _valid(body: Any) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("from"), str):
        return False
    to, contents = body.get("to"), body.get("contents")
    if not (isinstance(to, str) and to.isdigit()) or not isinstance(contents, list) or not contents:
        return False
    return all(
        isinstance(c, dict) and c.get("type") == "text" and isinstance(c.get("text"), str)
        for c in contents
    )
