"""Signed event callbacks to the dentist system, delivered from the transactional outbox.

Each due event is claimed with a conditional UPDATE that moves its `available_at` one lease
ahead only if nobody changed the row since it was read, so several workers can share one
database without sending an event twice. A 2xx marks it delivered; anything else pushes it back
with exponential backoff. Delivery is at-least-once only across a crash (or a lease outliving
its worker) between the receiver's 2xx and the mark: the receiver dedupes by `id`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import aiohttp
from tortoise.expressions import F
from yarl import URL

from token_core.access.signing import signed_headers
from token_core.outbox import INTERNAL_EVENTS, iso_utc
from token_core.persistence.models import OutboxEvent

logger = logging.getLogger(__name__)

EVENT_HEADER = "X-Odontoken-Evento"
EVENT_ID_HEADER = "X-Odontoken-Evento-Id"
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
                logger.exception("callback dispatch pass failed")
                delivered = 0
            if not delivered:
                try:
                    await asyncio.wait_for(stop.wait(), self._poll_seconds)
                except TimeoutError:
                    pass

    async def _pass(self, limit: int, stop: asyncio.Event | None) -> int:
        now = datetime.now(UTC)
        query = OutboxEvent.filter(delivered_at__isnull=True, available_at__lte=now)
        if self._only is not None:
            query = query.filter(event_type__in=self._only)
        if self._skip:
            query = query.exclude(event_type__in=self._skip)
        due = await query.order_by("id").limit(limit)
        delivered = 0
        for event in due:
            if stop is not None and stop.is_set():
                break
            lease_until = await self._claim(event)
            if lease_until is not None:
                delivered += await self._deliver(event, lease_until)
        return delivered

    async def _claim(self, event: OutboxEvent) -> datetime | None:
        """Take the event for one lease; None when another worker changed it first."""
        lease_until = datetime.now(UTC) + self._lease
        taken = await OutboxEvent.filter(
            id=event.id, available_at=event.available_at, delivered_at__isnull=True
        ).update(available_at=lease_until)
        return lease_until if taken else None

    async def _deliver(self, event: OutboxEvent, lease_until: datetime) -> int:
        error = await self._post(event)
        now = datetime.now(UTC)
        if error is None:
            await OutboxEvent.filter(id=event.id, delivered_at__isnull=True).update(
                delivered_at=now, attempts=F("attempts") + 1
            )
            logger.info("callback %s (%s) delivered", event.event_id, event.event_type)
            return 1
        attempts = event.attempts + 1
        delay = self._backoff(attempts)
        kept = await OutboxEvent.filter(
            id=event.id, available_at=lease_until, delivered_at__isnull=True
        ).update(attempts=attempts, last_error=error, available_at=now + timedelta(seconds=delay))
        if kept:
            logger.warning(
                "callback %s (%s) attempt %d failed: %s; next in %.1f s",
                event.event_id,
                event.event_type,
                attempts,
                error,
                delay,
            )
        else:
            logger.warning("callback %s lease expired during the call", event.event_id)
        return 0

    def _backoff(self, attempts: int) -> float:
        """1 s, 2 s, 4 s … capped at max_backoff, shortened by up to JITTER."""
        base = min(self._max_backoff, FIRST_BACKOFF_SECONDS * 2.0 ** min(attempts - 1, 30))
        return base * (1 - _random.uniform(0, JITTER))


class CallbackDispatcher(OutboxWorker):
    """Posts outbox events to `url`, signed as `client_id`, until the receiver answers 2xx.
    Internal events (`INTERNAL_EVENTS`) are not the dentist system's and are left alone.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        client_id: str,
        secret: str,
        timeout: float,
        max_backoff: float,
        poll_seconds: float,
        lease_seconds: float = 30,
    ) -> None:
        super().__init__(timeout, max_backoff, poll_seconds, lease_seconds, skip=INTERNAL_EVENTS)
        self._session = session
        self._url = url
        self._target = URL(url).raw_path_qs
        self._client_id = client_id
        self._secret = secret

    async def _post(self, event: OutboxEvent) -> str | None:
        """Send one event; None on a 2xx, otherwise a short reason (no URL, no payload)."""
        body = _body(event)
        headers = signed_headers(
            self._client_id, self._secret, str(int(time.time())), "POST", self._target, body
        )
        headers |= {
            EVENT_HEADER: event.event_type,
            EVENT_ID_HEADER: str(event.event_id),
            "Content-Type": "application/json",
        }
        try:
            async with self._session.post(
                self._url, data=body, headers=headers, timeout=self._timeout
            ) as response:
                status = response.status
        except TimeoutError:
            return f"timeout after {self._timeout.total:g} s"
        except aiohttp.ClientError as exc:
            return f"connection error: {type(exc).__name__}"
        return None if 200 <= status < 300 else f"HTTP {status}"


def _body(event: OutboxEvent) -> bytes:
    created = iso_utc(event.created_at)
    document = {
        "id": str(event.event_id),
        "tipo": event.event_type,
        "criado_em": created,
        "dados": event.payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
