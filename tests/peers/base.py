"""What every aiohttp peer shares: a server on 127.0.0.1 that `async with` starts and stops, on
a random free port the first time and on that same port when started again.
"""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Self

from aiohttp import web

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on right now (for a server to take, or to find nobody at)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class PeerServer:
    """An aiohttp application on 127.0.0.1. Subclasses add their routes in `add_routes`; `stop`
    closes the listener and every open connection, `start` listens again on the same port.
    """

    shutdown_timeout = 1.0

    def __init__(self) -> None:
        super().__init__()  # cooperative: a peer may mix in another base (TelegramApi does)
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def port(self) -> int:
        """The port it listens on (0 before the first start)."""
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self._port}"

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        """Listen on the port used before (a random free one the first time)."""
        self.app = web.Application()
        self.add_routes(self.app)
        self._runner = web.AppRunner(
            self.app, access_log=None, shutdown_timeout=self.shutdown_timeout
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, self._port).start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Close the listener and every open connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
