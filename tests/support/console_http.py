"""The support console over plain HTTP, as one browser holds it: its own cookies, our Origin on
every request (a browser sends it), redirects not followed (tests look at them).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from types import TracebackType

import aiohttp
from yarl import URL

from tests.support.server import RunningServer

COOKIE = "odontoken_sab"
_CSRF = re.compile(r'data-csrf="([^"]*)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    return match.group(1) if match else ""


@dataclass
class Reply:
    status: int
    text: str
    headers: dict[str, str]
    set_cookie: str = field(default="")


class ConsoleClient:
    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.origin = server.base_url
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def __aenter__(self) -> ConsoleClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.http.close()

    def url(self, path: str) -> str:
        return self.server.base_url + path

    @property
    def session_cookie(self) -> str:
        found = self.http.cookie_jar.filter_cookies(URL(self.url("/atendimento/conversas")))
        morsel = found.get(COOKIE)
        return morsel.value if morsel else ""

    async def request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        cookie: str | None = None,
    ) -> Reply:
        sent = {"Origin": self.origin, **(headers or {})}
        sent = {k: v for k, v in sent.items() if v}  # "" drops a header
        if cookie is not None:  # this cookie instead of the jar's
            sent["Cookie"] = f"{COOKIE}={cookie}"
        session = self.http
        if cookie is not None:
            session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        try:
            async with session.request(
                method, self.url(path), data=data, headers=sent, allow_redirects=False
            ) as resp:
                text = await resp.text()
                return Reply(
                    resp.status,
                    text,
                    dict(resp.headers),
                    "; ".join(resp.headers.getall("Set-Cookie", [])),
                )
        finally:
            if session is not self.http:
                await session.close()

    async def get(
        self, path: str, headers: dict[str, str] | None = None, cookie: str | None = None
    ) -> Reply:
        reply = await self.request("GET", path, headers=headers, cookie=cookie)
        if reply.status == 200 and (token := csrf_of(reply.text)):
            self.csrf = token
        return reply

    async def post(
        self,
        path: str,
        data: dict[str, str],
        *,
        csrf: str | bool | None = True,
        headers: dict[str, str] | None = None,
        cookie: str | None = None,
    ) -> Reply:
        """`csrf=True` adds the token of the last page seen (fetching one if none yet)."""
        form = dict(data)
        if csrf is True and "csrf" not in form:
            if not self.csrf:
                await self.get("/atendimento/conversas")
            form["csrf"] = self.csrf
        return await self.request("POST", path, form, headers, cookie)

    async def sign_in(
        self, login: str, password: str, headers: dict[str, str] | None = None
    ) -> Reply:
        self.csrf = ""
        return await self.post(
            "/atendimento/entrar", {"usuario": login, "senha": password}, csrf=None, headers=headers
        )

    async def raw_get(self, raw_path: str) -> tuple[int, str]:
        """A GET whose path goes on the wire exactly as given (no client-side clean-up)."""
        host, port = URL(self.server.base_url).host, URL(self.server.base_url).port
        assert host is not None and port is not None
        reader, writer = await asyncio.open_connection(host, port)
        try:
            head = f"GET {raw_path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
            writer.write(head.encode())
            await writer.drain()
            answer = (await asyncio.wait_for(reader.read(), 5)).decode("utf-8", "replace")
        finally:
            writer.close()
        status = int(answer.split(" ", 2)[1])
        return status, answer
