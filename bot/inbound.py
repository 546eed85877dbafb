"""Wiring the durable inbound queue: the webhooks push into it, one consumer per worker hands
each update to its channel's processor (registered by the channel as it starts).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.counted_inbound import CountedInbound, finish_within, handle_traced
from bot.settings import Settings
from handlers.appkeys import SERVICES
from handlers.ops.metrics import PrometheusMetrics
from token_core.chat.inbound import Handler, InboundQueue, InboundUpdate
from token_core.vocabulary import Channel

logger = logging.getLogger(__name__)

INBOUND = web.AppKey("inbound", InboundQueue)
PROCESSORS = web.AppKey("inbound_processors", dict[Channel, Handler])


def setup_inbound(app: web.Application, settings: Settings) -> None:
    """Make the queue (after the store) and, last of all, start consuming it."""
    app[PROCESSORS] = {}

    async def queue(app: web.Application) -> AsyncIterator[None]:
        store = app[SERVICES].store
        inner = store.inbound(settings.chat.backlog_cap, settings.chat.claim_after_seconds)
        app[INBOUND] = CountedInbound(inner, PrometheusMetrics())  # counts updates in
        yield
        await app[INBOUND].close()

    app.cleanup_ctx.append(queue)


def start_consuming(app: web.Application, settings: Settings) -> None:
    """Append after every channel's start-up, so no update is taken before its processor exists
    (and consuming stops first at shutdown). A worker with chat.consume = false only queues.
    """
    if not settings.chat.consume:
        return

    async def consumer(app: web.Application) -> AsyncIterator[None]:
        processors = app[PROCESSORS]

        async def dispatch(update: InboundUpdate) -> None:
            process = processors.get(update.channel)
            if process is None:
                logger.warning("no processor for %s updates; dropped", update.channel.value)
                return
            await handle_traced(update, process)  # under the webhook call's request id

        stopping = False
        task = asyncio.create_task(
            app[INBOUND].run(dispatch, lambda: stopping), name="inbound-consumer"
        )
        yield
        stopping = True
        await finish_within(task, settings.server.shutdown_timeout_seconds)

    app.cleanup_ctx.append(consumer)
