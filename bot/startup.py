"""Start-up work done once per server, not once per worker: under `odontoken serve --workers N`
the gunicorn master does it before forking (bot/gunicorn_conf.py), and the workers are built
with `worker_settings`, which leaves it out.

- Pending database migrations are applied.
- The Telegram webhook is registered (with its secret token) when telegram.public_url is set.
"""

from __future__ import annotations

import os

import aiohttp
from telegram import Bot

from bot.composition import prepare_data_dir
from bot.settings import Settings
from integrations.telegram.channel import ALLOWED_UPDATES
from integrations.telegram.request import AiohttpRequest
from integrations.telegram.webhook import WEBHOOK_PATH
from token_core.persistence.database import migrate


async def register_telegram_webhook(settings: Settings) -> None:
    tg = settings.telegram
    os.environ.setdefault("PTB_TIMEDELTA", "1")  # as bot/telegram.py: PTB 23's durations
    async with aiohttp.ClientSession() as session:
        bot = Bot(tg.token, base_url=tg.base_url, request=AiohttpRequest(session))
        async with bot:  # getMe first: a refused token stops the start here
            await bot.set_webhook(
                f"{tg.public_url.rstrip('/')}{WEBHOOK_PATH}",
                secret_token=tg.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )


async def before_workers(settings: Settings) -> None:
    """The once-per-server work, before any worker starts."""
    prepare_data_dir(settings)
    await migrate(settings.database_url)
    tg = settings.telegram
    if tg.token and tg.mode == "webhook" and tg.public_url:
        await register_telegram_webhook(settings)


def worker_settings(settings: Settings) -> Settings:
    """The settings a worker runs with: the same, less what `before_workers` did for all (the
    webhook registration; a worker registers it only when public_url is set)."""
    telegram = settings.telegram.model_copy(update={"public_url": ""})
    return settings.model_copy(update={"telegram": telegram})
