"""python-telegram-bot's HTTP layer over aiohttp, so Bot API calls share the server's session."""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

FORM = "application/x-www-form-urlencoded"


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` over an `aiohttp.ClientSession`.

    Given a session, it borrows it: `initialize` and `shutdown` leave it alone, and its connector
    sets the pool size. Given none, it opens its own at `initialize` and closes it at `shutdown`.
    aiohttp has no per-write timeout: `write_timeout` only counts toward the request's total.
    """

    __slots__ = ("_defaults", "_media_write_timeout", "_owned", "_pool_size", "_session")

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        connection_pool_size: int = 256,
    ) -> None:
        self._session = session
        self._owned = session is None
        self._pool_size = connection_pool_size
        self._defaults = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        self._media_write_timeout = media_write_timeout

    @property
    def read_timeout(self) -> float | None:
        return self._defaults[0]

    async def initialize(self) -> None:
        if self._owned and (self._session is None or self._session.closed):
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._owned and self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized or its session is closed")
        files = request_data is not None and request_data.contains_files
        read, write, connect, pool = self._defaults
        if files:
            write = self._media_write_timeout
        timeout = _timeout(
            read if isinstance(read_timeout, DefaultValue) else read_timeout,
            write if isinstance(write_timeout, DefaultValue) else write_timeout,
            connect if isinstance(connect_timeout, DefaultValue) else connect_timeout,
            pool if isinstance(pool_timeout, DefaultValue) else pool_timeout,
        )
        headers = {"User-Agent": self.USER_AGENT}
        body: aiohttp.FormData | bytes | None = None
        if request_data is not None and files:
            body = _multipart(request_data)
        elif request_data is not None:
            body = request_data.url_encoded_parameters().encode()
            headers["Content-Type"] = FORM
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout, raise_for_status=False
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's ServerTimeoutError is a TimeoutError too
            raise TimedOut(f"aiohttp: {type(exc).__name__}: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _timeout(
    read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """PTB's four timeouts as aiohttp's: `connect` covers waiting for the pool and connecting."""
    phases = (read, write, connect, pool)
    total = None if None in phases else sum(p for p in phases if p is not None)
    waiting = None if connect is None or pool is None else connect + pool
    return aiohttp.ClientTimeout(total=total, connect=waiting, sock_connect=connect, sock_read=read)


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
