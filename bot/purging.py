"""The embedded server's daily purge (development): `odontoken purge` once at start-up and then
every day, on any worker. Each pass is idempotent; a marker in the store keeps it to one pass a
day where several workers share the store. A pass that removed something is audited
(`privacy.purged`), every pass is logged. Production schedules `odontoken purge`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot.settings import Settings
from handlers.appkeys import SERVICES
from token_core.privacy.retention import RetentionPeriods, purge_and_record
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import utc_now

logger = logging.getLogger(__name__)
DAY = 86400.0


def retention_periods(settings: Settings) -> RetentionPeriods:
    r = settings.retention
    return RetentionPeriods(
        transcripts_days=r.transcripts_days,
        fraud_notes_days=r.fraud_notes_days,
        audit_details_days=r.audit_details_days,
        delivered_events_days=r.delivered_events_days,
    )


async def purge_once(store: EphemeralStore, periods: RetentionPeriods) -> bool:
    """Today's pass, unless another worker ran it already; whether this one ran it."""
    today = f"retention-purge:{utc_now():%Y-%m-%d}"
    if not await store.set_if_absent(today, uuid.uuid4().hex, DAY * 1.5):
        return False
    counts = await purge_and_record(periods, "system", record_nothing=False)
    logger.info("retention purge: %s", counts.as_detail())
    return True


def daily_purge(
    periods: RetentionPeriods, every: float = DAY
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The loop as a `cleanup_ctx` entry (needs the services, for the store)."""

    async def loop(app: web.Application, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await purge_once(app[SERVICES].store, periods)
            except Exception:
                logger.exception("retention purge failed; next try in a day")
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass

    async def running(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(loop(app, stop), name="retention-purge")
        yield
        stop.set()
        await task

    return running
