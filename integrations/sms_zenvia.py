"""SMS through the Zenvia API v2 (POST {base_url}/v2/channels/sms/messages)."""

from __future__ import annotations

import logging

import aiohttp

from integrations.messages import render_sms
from token_core.delivery.port import CodeMessage, DeliveryFailed
from token_core.registry.identity import Mobile

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/v2/channels/sms/messages"


class ZenviaSmsSender:
    """Sends the code SMS; an answer other than 2xx, a timeout or a lost connection fails."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_token: str,
        sender: str,
        timeout: float,
    ) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + MESSAGES_PATH
        self._api_token = api_token
        self._sender = sender
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: CodeMessage) -> None:
        masked = Mobile(message.destination).masked
        payload = {
            "from": self._sender,
            "to": message.destination.removeprefix("+"),
            "contents": [{"type": "text", "text": render_sms(message)}],
        }
        try:
            async with self._session.post(
                self._url,
                json=payload,
                headers={"X-API-TOKEN": self._api_token},
                timeout=self._timeout,
            ) as response:
                status = response.status
        except TimeoutError:
            reason = "sms gateway timed out"
        except aiohttp.ClientError as exc:
            reason = f"sms gateway unreachable ({type(exc).__name__})"
        else:
            if 200 <= status < 300:
                logger.info("sms sent to %s", masked)
                return
            reason = f"sms gateway answered {status}"
        logger.warning("sms to %s failed: %s", masked, reason)
        raise DeliveryFailed(reason)
