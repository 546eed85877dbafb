"""The console's settings as the handlers need them, and its typed app keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from token_core.support.agents import SignedIn


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    cookie_secret: str = field(repr=False)
    idle_seconds: float = 1800
    handoff_timeout_seconds: float = 300
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_lock_seconds: float = 900


CONSOLE_CONFIG = web.AppKey("console_config", ConsoleConfig)
AGENT = web.RequestKey("agent", SignedIn)
CSRF = web.RequestKey("csrf", str)
SESSION_ID = web.RequestKey("session_id", str)
