"""The base of every worker that drains the transactional outbox (dentist callbacks, chat
receipts): each due event is claimed for one lease, so several workers can share one database
without handling an event twice; a failure pushes it back with exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import aiohttp

from token_core import outbox
from token_core.persistence.models import OutboxEvent

logger = logging.getLogger(__name__)

FIRST_BACKOFF_SECONDS = 1.0
JITTER = 0.1  # up to 10 % shorter, so retries of a burst spread out

_random = random.SystemRandom()


class OutboxWorker:
    """Claims due outbox events of its kinds one at a time (a lease, so several workers can run)
    and hands each to `_post` until it succeeds, backing off between attempts.
    """

    def __init__(
        self,
        timeout: float,
        max_backoff: float,
        poll_seconds: float,
        lease_seconds: float = 30,
        *,
        only: Collection[str] | None = None,
        skip: Collection[str] = (),
    ) -> None:
        if lease_seconds <= timeout:
            raise ValueError("lease_seconds must exceed timeout, or a slow call loses its claim")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_backoff = max_backoff
        self._poll_seconds = poll_seconds
        self._lease = timedelta(seconds=lease_seconds)
        self._only = list(only) if only is not None else None
        self._skip = list(skip)

    async def _post(self, event: OutboxEvent) -> str | None:
        """Deliver one event; None when done, otherwise a short reason to retry later."""
        raise NotImplementedError

    async def dispatch_due(self, limit: int = 50) -> int:
        """One pass over the due events, in id order; returns how many were delivered."""
        return await self._pass(limit, None)

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set, resting `poll_seconds` after a pass that delivered none."""
        while not stop.is_set():
            try:
                delivered = await self._pass(50, stop)
            except Exception:
                logger.exception("outbox dispatch pass failed")
                delivered = 0
            if not delivered:
                try:
                    await asyncio.wait_for(stop.wait(), self._poll_seconds)
                except TimeoutError:
                    pass

    async def _pass(self, limit: int, stop: asyncio.Event | None) -> int:
        delivered = 0
        for event in await outbox.due(limit, only=self._only, skip=self._skip):
            if stop is not None and stop.is_set():
                break
            lease_until = datetime.now(UTC) + self._lease
            if await outbox.claim(event, lease_until):
                delivered += await self._deliver(event, lease_until)
        return delivered

    async def _deliver(self, event: OutboxEvent, lease_until: datetime) -> int:
        error = await self._post(event)
        now = datetime.now(UTC)
        if error is None:
            await outbox.mark_delivered(event, now)
            logger.info("event %s (%s) delivered", event.event_id, event.event_type)
            return 1
        attempts = event.attempts + 1
        delay = self._backoff(attempts)
        later = now + timedelta(seconds=delay)
        if await outbox.retry_later(event, lease_until, attempts, error, later):
            logger.warning(
                "event %s (%s) attempt %d failed: %s; next in %.1f s",
                event.event_id,
                event.event_type,
                attempts,
                error,
                delay,
            )
        else:
            logger.warning("event %s lease expired during the call", event.event_id)
        return 0

    def _backoff(self, attempts: int) -> float:
        """1 s, 2 s, 4 s … capped at max_backoff, shortened by up to JITTER."""
        base = min(self._max_backoff, FIRST_BACKOFF_SECONDS * 2.0 ** min(attempts - 1, 30))
        return base * (1 - _random.uniform(0, JITTER))
