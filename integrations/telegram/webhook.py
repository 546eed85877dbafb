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
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return web.json_response(
                {"erro": "NAO_AUTORIZADO", "mensagem": "Token secreto do webhook inválido."},
                status=401,
            )
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError
        except ValueError:
            return web.json_response(
                {"erro": "REQUISICAO_INVALIDA", "mensagem": "Update do Telegram inválido."},
                status=400,
            )
        await channel().accept(data)
        return web.json_response({"ok": True})

    return receive
