"""The Graph API's messages endpoint: `POST {base_url}/{api_version}/{phone_number_id}/messages`
with the Bearer token, over the app's aiohttp session. Meta's error codes become behaviour:

- 130429 / 131056 (throughput, pair rate): wait and retry, a bounded number of times;
- 131047 (outside the 24-hour window): `OutsideWindow`, for the caller to decide;
- 131026 (undeliverable): `Undeliverable`;
- 190 (access token expired or invalid): `TokenExpired`, an ERROR log and `healthy = False`.

Bodies are never logged: they carry codes and numbers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

THROTTLED = frozenset({130429, 131056})
OUTSIDE_WINDOW = 131047
UNDELIVERABLE = 131026
TOKEN_EXPIRED = 190


class GraphError(Exception):
    """Meta refused a message (its error `code`), or could not be reached (`code` None)."""

    def __init__(self, code: int | None, detail: str) -> None:
        super().__init__(f"graph error {code}: {detail}" if code is not None else detail)
        self.code = code


class OutsideWindow(GraphError):
    """Free-form messages reach a person only within 24 hours of their last message."""


class Undeliverable(GraphError):
    """The number is not on WhatsApp, or cannot take the message."""


class TokenExpired(GraphError):
    """The access token no longer works: nothing goes out until it is replaced."""


_ERRORS: dict[int, type[GraphError]] = {
    OUTSIDE_WINDOW: OutsideWindow,
    UNDELIVERABLE: Undeliverable,
    TOKEN_EXPIRED: TokenExpired,
}


class GraphClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        api_version: str,
        phone_number_id: str,
        access_token: str,
        timeout: float = 10,
        retries: int = 3,
        first_backoff: float = 0.5,
    ) -> None:
        self._session = session
        self._url = f"{base_url.rstrip('/')}/{api_version}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = retries
        self._first_backoff = first_backoff
        self.healthy = True  # False once Meta said the token expired (for a readiness check)

    async def send(self, message: dict[str, Any]) -> str:
        """Send one message (addressing and content fields); Meta's message id on success."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **message}
        kind = str(message.get("type"))
        for attempt in range(self._retries + 1):
            status, answer = await self._post(body)
            if status < 300:
                self.healthy = True
                try:
                    return str(answer["messages"][0]["id"])
                except (KeyError, IndexError, TypeError):
                    raise GraphError(None, "answer without a message id") from None
            code, detail = _error_of(answer)
            if code in THROTTLED and attempt < self._retries:
                delay = self._first_backoff * 2**attempt
                logger.warning("whatsapp %s throttled (%s); retrying in %.1f s", kind, code, delay)
                await asyncio.sleep(delay)
                continue
            if code == TOKEN_EXPIRED:
                self.healthy = False
                logger.error(
                    "WhatsApp access token refused (Graph error 190): no WhatsApp message goes "
                    "out until whatsapp.access_token is replaced"
                )
            else:
                logger.warning("whatsapp %s refused: HTTP %s, Graph error %s", kind, status, code)
            raise _ERRORS.get(code or 0, GraphError)(code, detail)
        raise AssertionError("unreachable")

    async def _post(self, body: dict[str, Any]) -> tuple[int, Any]:
        try:
            async with self._session.post(
                self._url, json=body, headers=self._headers, timeout=self._timeout
            ) as resp:
                return resp.status, await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            logger.warning("Graph API unreachable: %s", type(exc).__name__)
            raise GraphError(None, f"unreachable: {type(exc).__name__}") from None


def _error_of(answer: Any) -> tuple[int | None, str]:
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return None, "unexpected answer"
    code = error.get("code")
    detail = str(error.get("message", ""))[:200]
    return (code if isinstance(code, int) and not isinstance(code, bool) else None), detail
