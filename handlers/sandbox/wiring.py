"""The sandbox page's state in the application, and the one check of who a chat is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from handlers.sandbox.port import SandboxChat
from token_core.demo import demo_beneficiaries


@dataclass(frozen=True, slots=True)
class ChatGetter:
    """The running channel (made at start-up, after the routes)."""

    get: Callable[[], SandboxChat]


SANDBOX_CHAT = web.AppKey("sandbox_chat", ChatGetter)


async def chosen_chat(request: web.Request, carteirinha: object, session: object) -> str | None:
    """The chat of a listed demo beneficiary (one with a mobile) in one browser session; None
    for anything else."""
    if not isinstance(carteirinha, str) or not isinstance(session, str):
        return None
    if carteirinha not in {b.carteirinha for b in await demo_beneficiaries() if b.mobile}:
        return None
    return request.app[SANDBOX_CHAT].get().chat_id(carteirinha, session)
