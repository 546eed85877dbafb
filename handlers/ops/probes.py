"""`GET /healthz` (the process is alive: no I/O) and `GET /readyz` (200 only when every
dependency answers; 503 naming the ones that did not). Both outside the API signature and
never cached. The checks are given by bot/; slow or rate-limited ones are wrapped in
`Cached` so a probe every second does not call a chat platform every second.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from handlers.ops.config import NO_STORE, OPS_CONFIG, Check, Probe


class Cached:
    """A probe whose outcome (success or failure) is reused for `seconds`."""

    def __init__(self, probe: Probe, seconds: float) -> None:
        self._probe = probe
        self._seconds = seconds
        self._until = 0.0
        self._error: BaseException | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> None:
        async with self._lock:
            if time.monotonic() >= self._until:
                try:
                    await self._probe()
                    self._error = None
                except Exception as exc:
                    self._error = exc
                self._until = time.monotonic() + self._seconds
            if self._error is not None:
                raise self._error


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"}, headers=NO_STORE)


async def _outcome(check: Check) -> str | None:
    """None when the check passed, else a short reason (an exception's type, no message: a
    message may hold a URL with a password)."""
    try:
        await asyncio.wait_for(check.probe(), check.timeout)
    except TimeoutError:
        return "timeout"
    except Exception as exc:
        return type(exc).__name__
    return None


async def readyz(request: web.Request) -> web.Response:
    checks = request.app[OPS_CONFIG].checks
    outcomes = await asyncio.gather(*(_outcome(check) for check in checks))
    failed = {c.name: reason for c, reason in zip(checks, outcomes, strict=True) if reason}
    body = {
        "status": "unavailable" if failed else "ok",
        "checks": {c.name: failed.get(c.name, "ok") for c in checks},
        "failed": sorted(failed),
    }
    return web.json_response(body, status=503 if failed else 200, headers=NO_STORE)
