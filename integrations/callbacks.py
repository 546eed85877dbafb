"""Signed event callbacks to the dentist system, delivered from the transactional outbox by an
`OutboxWorker` (claim for one lease, backoff). A 2xx from the configured URL marks an event
delivered; anything else pushes it back, a redirect too: it is never followed (a 302 to a login
page answering 200 is not the dentist system taking the event). Delivery is at-least-once only
across a crash (or a lease outliving its worker) between the receiver's 2xx and the mark: the
receiver dedupes by `id`.
"""

from __future__ import annotations

import json
import logging
import time

import aiohttp
from aiohttp import hdrs
from yarl import URL

from integrations.outbox_worker import OutboxWorker
from token_core.access.signing import signed_headers
from token_core.persistence.models import OutboxEvent
from token_core.vocabulary import INTERNAL_EVENTS, iso_utc

logger = logging.getLogger(__name__)

EVENT_HEADER = "X-Odontoken-Evento"
EVENT_ID_HEADER = "X-Odontoken-Evento-Id"


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
        """Send one event; None on a 2xx, otherwise a short reason (no URL, no payload). A 3xx is
        logged with where it pointed (no query string: it may hold a token).
        """
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
                self._url,
                data=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                location = response.headers.get(hdrs.LOCATION, "")
        except TimeoutError:
            return f"timeout after {self._timeout.total:g} s"
        except aiohttp.ClientError as exc:
            return f"connection error: {type(exc).__name__}"
        if 300 <= status < 400:
            logger.warning(
                "event %s (%s): the receiver answered %d redirecting to %s; not followed",
                event.event_id,
                event.event_type,
                status,
                _loggable(location),
            )
            return f"HTTP {status} (redirect not followed)"
        return None if 200 <= status < 300 else f"HTTP {status}"


def _loggable(location: str) -> str:
    """A Location for the log: no query string, fragment or user info (they may hold tokens),
    ASCII and short.
    """
    target = location.split("#", 1)[0].split("?", 1)[0]
    scheme, separator, rest = target.partition("://")
    if separator:
        authority, slash, path = rest.partition("/")
        target = f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"
    return target.encode("ascii", "backslashreplace").decode()[:200] or "(no Location)"


def _body(event: OutboxEvent) -> bytes:
    created = iso_utc(event.created_at)
    document = {
        "id": str(event.event_id),
        "tipo": event.event_type,
        "criado_em": created,
        "dados": event.payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
