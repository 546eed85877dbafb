"""`/webhooks/whatsapp`: Meta's verification handshake (GET) and its notifications (POST),
each authenticated by `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`.
The signature is checked over the raw bytes, in constant time, before anything is parsed.
Every message of a batch is queued; statuses go to the delivery audit; the answer is 200 once
all is stored (Meta resends what gets anything else, so malformed items are skipped, not
refused).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from integrations.whatsapp.channel import WhatsAppChannel
from integrations.whatsapp.parse import WaStatus, read_batch
from token_core import audit
from token_core.vocabulary import AuditKind, Channel

logger = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
PREFIX = "sha256="

Handler = Callable[[web.Request], Awaitable[web.Response]]


def signature_ok(header: str | None, body: bytes, app_secret: str) -> bool:
    """Whether `header` is `sha256=` and the hex HMAC-SHA256 of `body` under `app_secret`."""
    if not header or not app_secret or not header.startswith(PREFIX):
        return False
    try:  # aiohttp keeps a header's non-UTF-8 bytes as surrogates: anything not ASCII is wrong
        given = header[len(PREFIX) :].encode("ascii")
    except UnicodeEncodeError:
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(given.lower(), expected)


def verification_view(verify_token: str) -> Handler:
    """GET: answer `hub.challenge` when Meta shows our verify token, 403 otherwise."""

    async def verify(request: web.Request) -> web.Response:
        query = request.query
        given = query.get("hub.verify_token", "").encode("utf-8", "surrogateescape")
        if (
            verify_token
            and query.get("hub.mode") == "subscribe"
            and hmac.compare_digest(given, verify_token.encode())
        ):
            return web.Response(text=query.get("hub.challenge", ""), content_type="text/plain")
        return web.Response(status=403, text="Forbidden", content_type="text/plain")

    return verify


def notification_view(
    channel: Callable[[], WhatsAppChannel], app_secret: str, phone_number_id: str
) -> Handler:
    """POST: check the signature, then queue every message and audit every status."""

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        if not signature_ok(request.headers.get(SIGNATURE_HEADER), body, app_secret):
            return web.json_response(
                {"erro": "NAO_AUTORIZADO", "mensagem": "Assinatura do webhook inválida."},
                status=401,
            )
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
            return web.json_response(
                {"erro": "REQUISICAO_INVALIDA", "mensagem": "Notificação do WhatsApp inválida."},
                status=400,
            )
        batch = read_batch(data, phone_number_id)
        if batch.skipped:
            logger.warning("whatsapp notification: skipped %s", "; ".join(batch.skipped[:5]))
        running = channel()
        for message in batch.messages:
            await running.accept(message)
        for status in batch.statuses:
            await _audit_status(running, status)
        return web.json_response({"ok": True})

    return receive


async def _audit_status(channel: WhatsAppChannel, status: WaStatus) -> None:
    chat_id = channel.sealer.chat_id(status.recipient) or "?"
    trail = audit.For(f"chat:{Channel.WHATSAPP.value}:{chat_id}", channel=Channel.WHATSAPP)
    detail = {"erro": status.error_code} if status.error_code is not None else {}
    await trail.record(AuditKind.CHAT_DELIVERY_STATUS, reason=status.status, **detail)
