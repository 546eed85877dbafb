"""POST /webhooks/telegram: Telegram's calls, authenticated by the secret token header."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from integrations.telegram.channel import TelegramChannel

logger = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_view(
    channel: Callable[[], TelegramChannel], secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The route's handler; `channel` gives the running channel (built at start-up)."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not _same_secret(given, secret):
            return web.json_response(
                {"erro": "NAO_AUTORIZADO", "mensagem": "Token secreto do webhook inválido."},
                status=401,
            )
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError
        except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
            return web.json_response(
                {"erro": "REQUISICAO_INVALIDA", "mensagem": "Update do Telegram inválido."},
                status=400,
            )
        # A malformed update is dropped inside (logged), yet answered 200 all the same: Telegram
        # resends an update until it gets a 2xx, and resending will not mend it.
        await channel().accept(data)
        return web.json_response({"ok": True})

    return receive


def _same_secret(given: str, secret: str) -> bool:
    """Constant-time; aiohttp keeps a header's non-UTF-8 bytes as surrogates, so compare bytes."""
    try:
        raw = given.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(raw, secret.encode())
