"""The aiohttp application: one server for the API, the chat webhooks and the portal.

Resources open and close in `cleanup_ctx`, in order: database, store, HTTP session, services,
background workers.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.composition import build_services, open_store, prepare_data_dir
from bot.handoffs import handoff_expiry
from bot.inbound import setup_inbound, start_consuming
from bot.outbound import build_dispatcher, build_senders
from bot.purging import daily_purge, retention_periods
from bot.readiness import readiness_checks, startup_report
from bot.receipts import setup_receipts
from bot.sandbox import setup_sandbox
from bot.settings import Settings
from bot.telegram import setup_telegram, telegram_sender
from bot.whatsapp import setup_whatsapp, whatsapp_sender
from handlers.api.middleware import json_errors
from handlers.api.routes import MIDDLEWARES, setup_api
from handlers.appkeys import (
    API_CONFIG,
    HTTP_SESSION,
    PORTAL_CONFIG,
    SERVICES,
    ApiConfig,
    PortalConfig,
)
from handlers.console.config import ConsoleConfig
from handlers.console.routes import setup_console
from handlers.console.security import console_guard
from handlers.ops.config import OpsConfig
from handlers.ops.metrics import PrometheusMetrics
from handlers.ops.middleware import count_outages, observe
from handlers.ops.routes import setup_ops
from handlers.portal.routes import setup_portal
from token_core.chat.transcripts import Transcripts
from token_core.persistence import health
from token_core.persistence.database import close_database, open_database
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import Channel

logger = logging.getLogger(__name__)

STORE = web.AppKey("store", EphemeralStore)
MAX_BODY = 64 * 1024


def create_app(settings: Settings, *, manage_database: bool = True) -> web.Application:
    """Build the server. Tests that already hold the database pass manage_database=False."""
    api = list(MIDDLEWARES)
    api.insert(api.index(json_errors) + 1, count_outages)  # counted before they become 503s
    console = [console_guard] if settings.console.enabled else []
    app = web.Application(middlewares=[observe, *api, *console], client_max_size=MAX_BODY)
    metrics = PrometheusMetrics()
    app[API_CONFIG] = ApiConfig(
        clock_skew_seconds=settings.api.clock_skew_seconds,
        idempotency_seconds=settings.api.idempotency_seconds,
        sab_phones=tuple(settings.api.sab_phones),
    )

    async def database(_app: web.Application) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        prepare_data_dir(settings)
        await open_database(settings.database_url)
        yield
        await close_database()

    async def store(app: web.Application) -> AsyncIterator[None]:
        app[STORE] = await open_store(settings)
        yield
        await app[STORE].close()

    async def http(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            app[HTTP_SESSION] = session
            yield

    async def services(app: web.Application) -> AsyncIterator[None]:
        senders = dict(build_senders(settings, app[HTTP_SESSION]))
        if settings.telegram.token:
            senders[Channel.TELEGRAM] = telegram_sender(app, Transcripts(app[STORE], metrics))
        if settings.whatsapp.access_token:
            senders[Channel.WHATSAPP] = whatsapp_sender(app, Transcripts(app[STORE], metrics))
        app[SERVICES] = build_services(settings, app[STORE], senders, metrics)
        if settings.portal.enabled:
            await app[SERVICES].clients.ensure(settings.portal.client_id)
        yield

    async def callbacks(app: web.Application) -> AsyncIterator[None]:
        dispatcher = build_dispatcher(settings, app[HTTP_SESSION])
        if dispatcher is None:
            yield
            return
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop), name="callback-dispatcher")
        yield
        stop.set()
        await task

    handoffs = handoff_expiry(settings.console.handoff_timeout_seconds)
    app.cleanup_ctx.extend([database, store, http, services, callbacks, handoffs])
    if not settings.production:  # daily retention purge; production schedules `odontoken purge`
        app.cleanup_ctx.append(daily_purge(retention_periods(settings)))
    setup_api(app)
    if settings.portal.enabled:
        app[PORTAL_CONFIG] = PortalConfig(client_id=settings.portal.client_id)
        setup_portal(app)
    setup_inbound(app, settings)
    if settings.telegram.token:
        setup_telegram(app, settings)
    if settings.whatsapp.access_token:
        setup_whatsapp(app, settings)
    if settings.sandbox_enabled:
        setup_sandbox(app, settings)
    if settings.console.enabled:
        setup_console(
            app,
            ConsoleConfig(
                cookie_secret=settings.console.cookie_secret or secrets.token_urlsafe(32),
                idle_seconds=settings.console.idle_minutes * 60,
                handoff_timeout_seconds=settings.console.handoff_timeout_seconds,
                login_max_failures=settings.console.login_max_failures,
                login_max_failures_per_address=settings.console.login_max_failures_per_address,
                login_lock_seconds=settings.console.login_lock_seconds,
            ),
        )
    setup_receipts(app)  # after the channels: it starts once their routes are in
    checks = readiness_checks(app, settings)
    setup_ops(
        app,
        OpsConfig(
            checks=checks,
            backlog=health.outbox_backlog,
            metrics_token=settings.metrics.token,
            metrics_port=settings.metrics.port,
        ),
    )
    app.cleanup_ctx.append(startup_report(checks))
    start_consuming(app, settings)  # last: every channel's processor is registered by then
    return app
