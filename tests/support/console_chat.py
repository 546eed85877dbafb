"""Console tests without a browser: an agent signed in through the login form over plain HTTP,
the live stream read as an EventSource would, and a server whose Telegram channel talks to the
Bot API peer.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.peers.telegram_api import TelegramApi
from tests.support.server import RunningServer, running_server, server_settings
from tests.support.waiting import wait_until

TOKEN = "123456:TEST-token"
SECRET = "webhook-secret-0123456789"
_CSRF = re.compile(r'data-csrf="([^"]+)"')


@asynccontextmanager
async def telegram_server(
    tmp_path: Path, peer: TelegramApi, **sections: dict[str, Any]
) -> AsyncIterator[RunningServer]:
    """The whole server in this process, its Telegram channel on the peer (webhook mode)."""
    settings = server_settings(
        tmp_path,
        telegram={
            "token": TOKEN,
            "base_url": f"{peer.base_url}/bot",
            "mode": "webhook",
            "webhook_secret": SECRET,
            "public_url": "https://odontoken.example",
        },
        **sections,
    )
    async with running_server(settings) as running:
        yield running


@dataclass
class Page:
    status: int
    url: str
    html: str


@dataclass
class EventStream:
    """What a console's EventSource would read: (event, data) pairs, and every byte as text."""

    response: aiohttp.ClientResponse
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    ended: bool = False

    async def read(self) -> None:
        kind, data = "message", list[str]()
        try:
            async for line_bytes in self.response.content:
                line = line_bytes.decode().rstrip("\r\n")
                self.raw.append(line)
                if not line:
                    if data:
                        self.events.append((kind, json.loads("\n".join(data))))
                    kind, data = "message", []
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "event":
                        kind = value
                    elif name == "data":
                        data.append(value)
        except aiohttp.ClientError:
            pass
        self.ended = True

    async def wait_for(
        self,
        kind: str,
        check: Callable[[dict[str, Any]], bool] = lambda _: True,
        within: float = 5.0,
    ) -> dict[str, Any]:
        """The first `kind` event that passes `check`, once it has arrived."""

        def found() -> list[dict[str, Any]]:
            return [d for k, d in self.events if k == kind and check(d)][:1]

        return (await wait_until(found, within=within))[0]


class ConsoleAgent:
    """An agent's browser reduced to HTTP: cookies, the CSRF token of the pages, same Origin."""

    def __init__(self, server: RunningServer | str) -> None:
        """On a server in this process, or on any server's base URL (another process)."""
        base_url = server if isinstance(server, str) else server.base_url
        self.base_url = base_url
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for 127.0.0.1
            headers={"Origin": base_url},
        )
        self.csrf = ""

    async def close(self) -> None:
        await self.session.close()

    async def sign_in(self, login: str, password: str) -> Page:
        answer = await self.post("/atendimento/entrar", {"usuario": login, "senha": password})
        assert answer.url.endswith("/atendimento/conversas"), answer.html
        return answer

    def _read(self, status: int, url: str, html: str) -> Page:
        if found := _CSRF.search(html):
            self.csrf = found.group(1)
        return Page(status, url, html)

    async def get(self, path: str) -> Page:
        async with self.session.get(self.base_url + path) as resp:
            return self._read(resp.status, str(resp.url), await resp.text())

    async def post(self, path: str, form: dict[str, str], *, script: bool = False) -> Page:
        """A form post (the page's hidden csrf field), or, with `script`, the page's fetch."""
        headers = {"X-CSRF-Token": self.csrf} if script else {}
        data = form if script else {**form, "csrf": self.csrf}
        async with self.session.post(self.base_url + path, data=data, headers=headers) as resp:
            return self._read(resp.status, str(resp.url), await resp.text())

    @asynccontextmanager
    async def stream(self, query: str = "") -> AsyncIterator[EventStream]:
        async with self.session.get(
            f"{self.base_url}/atendimento/eventos{query}",
            headers={"Accept": "text/event-stream"},
            timeout=aiohttp.ClientTimeout(total=None, sock_read=None),
        ) as resp:
            assert resp.status == 200, await resp.text()
            stream = EventStream(resp)
            reader = asyncio.create_task(stream.read())
            try:
                yield stream
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)


def chat_path(chat_id: int | str) -> str:
    return f"/atendimento/conversas/telegram/{chat_id}"
