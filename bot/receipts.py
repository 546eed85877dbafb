"""Wiring the chat receipts: each chat channel registers its route as it starts; one worker per
process claims `recibo.chat` events and sends them on every registered channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.chat.receipts import receipt_messages
from integrations.chat_receipts import ChatReceiptWorker, ReceiptRoute
from token_core.vocabulary import Channel

RECEIPT_ROUTES = web.AppKey("receipt_routes", dict[Channel, ReceiptRoute])


def setup_receipts(app: web.Application) -> None:
    """Call after every channel's setup: the worker starts once their routes are registered."""
    app[RECEIPT_ROUTES] = {}

    async def worker(app: web.Application) -> AsyncIterator[None]:
        routes = app[RECEIPT_ROUTES]
        if not routes:
            yield
            return
        services = app[SERVICES]
        receipts = ChatReceiptWorker(routes, receipt_messages, services.transcripts, services.store)
        stop = asyncio.Event()
        task = asyncio.create_task(receipts.run(stop), name="chat-receipts")
        yield
        stop.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    app.cleanup_ctx.append(worker)
