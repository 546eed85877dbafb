"""Wiring the sandbox chat into the app (development only): the page's routes, the channel's
start/stop, its place among the inbound processors, the agents' outbound and the receipts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from bot.inbound import INBOUND, PROCESSORS
from bot.receipts import RECEIPT_ROUTES
from bot.settings import Settings
from handlers.appkeys import SERVICES
from handlers.chat import texts
from handlers.chat.dialogue import Dialogue
from handlers.sandbox.routes import setup_sandbox_page
from integrations.chat_receipts import ReceiptRoute
from integrations.sandbox.addresses import PayloadSealer
from integrations.sandbox.channel import SandboxChannel
from token_core.keyring import Keyring
from token_core.vocabulary import Channel

SB = Channel.SANDBOX
SANDBOX = web.AppKey("sandbox", SandboxChannel)
SEALER_LABEL = b"odontoken/sandbox-chat/v1"


def sandbox_sealer(keyring: Keyring) -> PayloadSealer:
    return PayloadSealer(bytes.fromhex(keyring.fingerprint(SEALER_LABEL)))


def setup_sandbox(app: web.Application, settings: Settings) -> None:
    """Add the page and the channel's lifecycle (call only when the sandbox is on)."""
    setup_sandbox_page(app, lambda: app[SANDBOX])

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        services = app[SERVICES]
        dialogue = Dialogue(services, ttl_minutes=max(round(settings.tokens.ttl_seconds / 60), 1))
        channel = SandboxChannel(
            dialogue,
            services.store,
            app[INBOUND],
            sandbox_sealer(services.keyring),
            # The chat proves the number with every message, as WhatsApp does: the first
            # answer greets and asks the CPF.
            replaced={texts.ASK_CPF: texts.WA_ASK_CPF},
            error_text=texts.ERROR,
            flood_text=texts.FLOOD,
        )
        app[SANDBOX] = channel
        app[PROCESSORS][SB] = channel.process  # the inbound consumer hands messages back here
        services.desk.outbound[SB] = channel  # agents' messages and notices go out here
        app[RECEIPT_ROUTES][SB] = ReceiptRoute(channel.send, lambda _exc: False)
        yield
        services.desk.outbound.pop(SB, None)  # a stopping channel takes no more messages
        app[RECEIPT_ROUTES].pop(SB, None)

    app.cleanup_ctx.append(lifecycle)
