"""The readiness checks of this deployment (bot/ knows the channels; the probe handler only runs
what it is given), and one report of them at start-up: a gateway that does not answer is a
warning and a failing /readyz, not a crash.

- database: `SELECT 1`; the store: one read (Redis named "redis").
- telegram: getMe, at most every 30 s; whatsapp: the Graph client's `healthy` flag (False once
  Meta answered error 190, the token expired); no call of ours.
- sms (zenvia) and email (smtp): a TCP connection to the gateway with a short timeout, at most
  every 10 s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

from aiohttp import web

from bot.settings import Settings
from bot.telegram import TELEGRAM
from bot.whatsapp import WHATSAPP
from handlers.appkeys import SERVICES
from handlers.ops.config import Check, Probe
from handlers.ops.probes import Cached
from token_core.persistence import health

logger = logging.getLogger(__name__)
TELEGRAM_EVERY = 30.0
GATEWAY_EVERY = 10.0
CONNECT_TIMEOUT = 1.5


class TokenRefused(Exception):
    """The platform refused our access token."""


def tcp_reachable(host: str, port: int, timeout: float = CONNECT_TIMEOUT) -> Probe:
    async def probe() -> None:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        writer.close()
        await writer.wait_closed()

    return probe


def _url_endpoint(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def readiness_checks(app: web.Application, settings: Settings) -> list[Check]:
    async def store() -> None:
        await app[SERVICES].store.get("readiness-probe")

    async def telegram() -> None:
        await app[TELEGRAM].bot.get_me()

    async def whatsapp() -> None:
        if not app[WHATSAPP].graph.healthy:
            raise TokenRefused()

    checks = [
        Check("database", health.ping),
        Check("redis" if settings.redis.url else "store", store),
    ]
    if settings.telegram.token:
        checks.append(Check("telegram", Cached(telegram, TELEGRAM_EVERY), timeout=5.0))
    if settings.whatsapp.access_token:
        checks.append(Check("whatsapp", whatsapp))
    if settings.sms.backend == "zenvia":
        sms = tcp_reachable(*_url_endpoint(settings.sms.base_url))
        checks.append(Check("sms", Cached(sms, GATEWAY_EVERY)))
    if settings.email.backend == "smtp":
        smtp = tcp_reachable(settings.email.smtp_host, settings.email.smtp_port)
        checks.append(Check("email", Cached(smtp, GATEWAY_EVERY)))
    return checks


def startup_report(checks: list[Check]) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that checks once after start-up and warns about what fails."""

    async def report(_app: web.Application) -> AsyncIterator[None]:
        async def run() -> None:
            for check in checks:
                try:
                    await asyncio.wait_for(check.probe(), check.timeout)
                except Exception as exc:
                    logger.warning(
                        "start-up check: %s does not answer (%s); /readyz fails until it does",
                        check.name,
                        "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__,
                    )

        task = asyncio.create_task(run(), name="startup-checks")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return report
