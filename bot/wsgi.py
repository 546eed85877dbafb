"""The app factory gunicorn calls in each worker (aiohttp's `GunicornWebWorker`):

    gunicorn -c python:bot.gunicorn_conf --workers 4 bot.wsgi:app_factory

Nothing is built at import: each worker reads the settings and opens its own pools when it
calls the factory, after the fork. `odontoken serve --workers N` runs exactly that.
"""

from __future__ import annotations

from aiohttp import web

from bot.app import create_app
from bot.logs import configure_logging
from bot.settings import load_settings
from bot.startup import worker_settings


async def app_factory() -> web.AppRunner:
    settings = load_settings()
    configure_logging(settings.app.log_level, settings.log_format)  # kept if the master did it
    return web.AppRunner(
        create_app(worker_settings(settings)),
        # SIGTERM: stop accepting, let requests in flight finish for this long, then close.
        shutdown_timeout=settings.server.shutdown_timeout_seconds,
        handle_signals=False,  # the gunicorn worker owns the signals
    )
