"""Routes of the operations endpoints, and the /metrics view."""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from handlers.ops import probes
from handlers.ops.config import NO_STORE, OPS_CONFIG, OpsConfig
from handlers.ops.metrics import render
from handlers.ops.middleware import METRICS_PATH, echo_request_id
from token_core.persistence.health import Backlog

logger = logging.getLogger(__name__)
BACKLOG_TIMEOUT = 2.0


def _authorised(request: web.Request, token: str) -> bool:
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


async def metrics_view(request: web.Request) -> web.Response:
    config = request.app[OPS_CONFIG]
    if config.metrics_token and not _authorised(request, config.metrics_token):
        return web.json_response(
            {"erro": "NAO_AUTORIZADO", "mensagem": "Informe o token de métricas (Bearer)."},
            status=401,
            headers={**NO_STORE, "WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    backlog: list[Backlog] | None = None
    if config.backlog is not None:
        try:
            backlog = await asyncio.wait_for(config.backlog(), BACKLOG_TIMEOUT)
        except Exception as exc:
            logger.warning("outbox backlog not read for /metrics: %s", type(exc).__name__)
    return web.Response(
        body=render(backlog), headers={**NO_STORE, "Content-Type": CONTENT_TYPE_LATEST}
    )


def setup_ops(app: web.Application, config: OpsConfig) -> None:
    """The probes and /metrics, outside /api (no signature), and the request id echo."""
    app[OPS_CONFIG] = config
    app.router.add_get("/healthz", probes.healthz, allow_head=False)
    app.router.add_get("/readyz", probes.readyz, allow_head=False)
    app.router.add_get(METRICS_PATH, metrics_view, allow_head=False)
    app.on_response_prepare.append(echo_request_id)
