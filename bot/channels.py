"""Settings → delivery senders and the callback dispatcher (adapters in integrations/)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.settings import Settings
from token_core.delivery import CodeSender
from token_core.models import Channel


def build_senders(
    settings: Settings, session: aiohttp.ClientSession
) -> Mapping[Channel, CodeSender]:
    return {}


def build_dispatcher(settings: Settings, session: aiohttp.ClientSession) -> Any:
    return None
