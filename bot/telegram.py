"""Wiring the Telegram channel into the app: route, start/stop, receipts, polling, sender."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator

from aiohttp import web
from telegram.error import BadRequest, Forbidden

from bot.inbound import INBOUND, PROCESSORS
from bot.receipts import RECEIPT_ROUTES
from bot.settings import Settings
from handlers.appkeys import HTTP_SESSION, SERVICES
from handlers.chat import texts
from handlers.chat.dialogue import Dialogue
from handlers.chat.token_flow import card_for_message
from integrations.chat_receipts import ReceiptRoute
from integrations.telegram.channel import TelegramChannel
from integrations.telegram.sender import TelegramCodeSender
from integrations.telegram.webhook import WEBHOOK_PATH, webhook_view
from token_core.chat.transcripts import Transcripts
from token_core.vocabulary import Channel

logger = logging.getLogger(__name__)
TG = Channel.TELEGRAM
TELEGRAM = web.AppKey("telegram", TelegramChannel)


def telegram_sender(app: web.Application, transcripts: Transcripts) -> TelegramCodeSender:
    return TelegramCodeSender(lambda: app[TELEGRAM], card_for_message, transcripts)


def setup_telegram(app: web.Application, settings: Settings) -> None:
    """Add the webhook route and the channel's lifecycle (call only when a token is set)."""
    # Opt in to PTB 23's timedelta durations now: with the old int form, every RetryAfter the
    # rate limiter handles raises a deprecation warning (v22.2+).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    tg = settings.telegram
    app.router.add_post(WEBHOOK_PATH, webhook_view(lambda: app[TELEGRAM], tg.webhook_secret))

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        services = app[SERVICES]
        dialogue = Dialogue(services, ttl_minutes=max(round(settings.tokens.ttl_seconds / 60), 1))
        channel = TelegramChannel.build(
            tg.token,
            tg.base_url,
            app[HTTP_SESSION],
            dialogue,
            services.store,
            texts.ERROR,
            tg.max_messages_per_second,
            inbound=app[INBOUND],
            flood_text=texts.FLOOD,
        )
        app[TELEGRAM] = channel
        app[PROCESSORS][TG] = channel.process  # the inbound consumer hands updates back here
        webhook = f"{tg.public_url.rstrip('/')}{WEBHOOK_PATH}" if tg.public_url else None
        await channel.start(webhook if tg.mode == "webhook" else None, tg.webhook_secret)
        services.desk.outbound[TG] = channel  # agents' messages and notices go out here
        stop = asyncio.Event()
        deletions = asyncio.create_task(channel.run_deletions(stop), name="tg-deletions")
        # Receipts: the shared worker (bot/receipts.py); a chat gone or blocking the bot is skipped.
        app[RECEIPT_ROUTES][TG] = ReceiptRoute(
            channel.send, lambda exc: isinstance(exc, (BadRequest, Forbidden))
        )
        tasks = [deletions]
        if tg.mode == "polling":
            logger.warning("Telegram in polling mode: for development only")
            tasks.append(asyncio.create_task(channel.poll(stop), name="tg-polling"))
        yield
        services.desk.outbound.pop(TG, None)  # a stopping channel takes no more messages
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await channel.stop()

    app.cleanup_ctx.append(lifecycle)
