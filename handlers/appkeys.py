"""Typed keys for what the app factory puts in the aiohttp application."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from aiohttp import web

from token_core.services import Services


@dataclass(frozen=True, slots=True)
class ApiConfig:
    clock_skew_seconds: float = 300
    idempotency_seconds: float = 86400
    sab_phones: tuple[str, ...] = ("4007-2400", "0800 643 4300")


@dataclass(frozen=True, slots=True)
class PortalConfig:
    client_id: str = "portal"


SERVICES = web.AppKey("services", Services)
HTTP_SESSION = web.AppKey("http_session", aiohttp.ClientSession)
PORTAL_CONFIG = web.AppKey("portal_config", PortalConfig)
API_CONFIG = web.AppKey("api_config", ApiConfig)
CLIENT_ID = web.RequestKey("client_id", str)
