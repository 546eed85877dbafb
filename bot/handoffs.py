"""Hand-offs nobody took: after `console.handoff_timeout_seconds` in `aguardando atendente` a
chat goes back to the bot and the beneficiary is told. Every worker runs the loop; each chat is
handed back once (a conditional update), by a worker where its channel is running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.chat import texts
from token_core import audit
from token_core.chat.conversations import ChatRef
from token_core.errors import ChannelUnavailable
from token_core.services import Services
from token_core.vocabulary import AuditKind, utc_now

logger = logging.getLogger(__name__)
LONGEST_PAUSE = 5.0


async def expire_once(services: Services, after_seconds: float) -> list[ChatRef]:
    """One pass: the chats handed back now (each told with texts.HANDOFF_EXPIRED)."""
    desk = services.desk
    older_than = utc_now() - timedelta(seconds=after_seconds)
    expired = await desk.conversations.expire_waiting(older_than, list(desk.outbound))
    for chat in expired:
        await audit.For("system", channel=chat.channel).record(
            AuditKind.HANDOFF_EXPIRED, chat=chat.chat_id
        )
        try:
            await desk.notify(chat, texts.HANDOFF_EXPIRED)
        except ChannelUnavailable:
            logger.warning("could not tell chat %s the hand-off expired", chat.key)
    return expired


async def expire_handoffs(services: Services, after_seconds: float, stop: asyncio.Event) -> None:
    """Run `expire_once` until `stop` is set, a few times per timeout (at least every 5 s)."""
    pause = min(LONGEST_PAUSE, after_seconds / 4)
    while not stop.is_set():
        try:
            await expire_once(services, after_seconds)
        except Exception:
            logger.exception("hand-off expiry pass failed")
        try:
            await asyncio.wait_for(stop.wait(), pause)
        except TimeoutError:
            pass


def handoff_expiry(
    after_seconds: float,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The expiry loop as a `cleanup_ctx` entry (needs the services)."""

    async def running(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(
            expire_handoffs(app[SERVICES], after_seconds, stop), name="handoff-expiry"
        )
        yield
        stop.set()
        await task

    return running
