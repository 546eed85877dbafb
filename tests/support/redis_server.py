"""A private redis-server for fault tests: started by the test on a free port, with its own
append-only file, and paused, killed or restarted at will. Never the shared Redis.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateRedis:
    def __init__(self, folder: Path, appendonly: bool = True) -> None:
        self.folder = folder
        self.port = _free_port()
        self.appendonly = appendonly
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once; the server runs on
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--appendfsync",
                "always",
                "--dir",
                str(self.folder),
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url)
        try:
            for _ in range(200):
                try:
                    if await client.ping():
                        return
                except (OSError, RedisError):
                    await asyncio.sleep(0.05)  # not listening yet, or loading its file
        finally:
            await client.aclose()
        raise RuntimeError("private redis-server did not start")

    def pause(self) -> None:
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGCONT)
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None

    async def restart(self) -> None:
        self.kill()
        await self.start()
