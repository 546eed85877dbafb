"""What the app factory gives the operations handlers: the readiness checks (built by bot/,
which knows the channels), the metrics settings and the outbox backlog query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from token_core.persistence.health import Backlog

# A readiness check: returns when the dependency answers, raises (anything) when it does not.
Probe = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # what the 503 body names: "database", "redis", "telegram", "sms", …
    probe: Probe
    timeout: float = 2.0


@dataclass(frozen=True, slots=True)
class OpsConfig:
    checks: Sequence[Check] = ()
    backlog: Callable[[], Awaitable[list[Backlog]]] | None = None
    metrics_token: str = field(default="", repr=False)
    metrics_port: int = 0  # 0: /metrics on the main server; otherwise only on this port


OPS_CONFIG = web.AppKey("ops_config", OpsConfig)
REQUEST_ID = web.RequestKey("request_id", str)
NO_STORE = {"Cache-Control": "no-store"}
