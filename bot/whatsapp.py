"""Wiring the WhatsApp channel into the app: routes, start/stop, receipts, the code sender."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from bot.inbound import INBOUND, PROCESSORS
from bot.receipts import RECEIPT_ROUTES
from bot.settings import Settings
from handlers.appkeys import HTTP_SESSION, SERVICES
from handlers.chat import texts
from handlers.chat.dialogue import Dialogue
from handlers.chat.token_flow import card_for_message
from integrations.chat_receipts import ReceiptRoute
from integrations.whatsapp.addresses import Sealer, UnknownChat
from integrations.whatsapp.channel import WhatsAppChannel
from integrations.whatsapp.graph import GraphClient, OutsideWindow, Undeliverable
from integrations.whatsapp.render import OtpTemplate, WhatsAppTexts
from integrations.whatsapp.sender import WhatsAppCodeSender
from integrations.whatsapp.webhook import WEBHOOK_PATH, notification_view, verification_view
from token_core.chat.transcripts import Transcripts
from token_core.keyring import Keyring
from token_core.vocabulary import Channel

WA = Channel.WHATSAPP
WHATSAPP = web.AppKey("whatsapp", WhatsAppChannel)
SEALER_LABEL = b"odontoken/whatsapp-chat/v1"


def whatsapp_texts() -> WhatsAppTexts:
    """The dialogue's words, changed where WhatsApp's rules differ."""
    return WhatsAppTexts(
        unsupported=texts.WA_UNSUPPORTED,
        menu_button=texts.WA_MENU_BUTTON,
        error=texts.ERROR,
        flood=texts.FLOOD,
        replaced={
            texts.ASK_CPF: texts.WA_ASK_CPF,
            texts.CPF_DELETED: texts.WA_CPF_NOT_DELETED,
            texts.WELCOME: texts.WA_SHARE_CONTACT,
            texts.SHARE_OWN_CONTACT: texts.WA_SHARE_OWN_CONTACT,
            texts.UNLINKED.format(canal="WhatsApp"): texts.WA_UNLINKED,
        },
        short_labels={texts.NOT_MINE_BUTTON: texts.WA_NOT_MINE_BUTTON},
    )


def whatsapp_sealer(keyring: Keyring) -> Sealer:
    """Chat ids and queued payloads under a key derived from the pepper."""
    return Sealer(bytes.fromhex(keyring.fingerprint(SEALER_LABEL)))


def whatsapp_sender(app: web.Application, transcripts: Transcripts) -> WhatsAppCodeSender:
    return WhatsAppCodeSender(lambda: app[WHATSAPP], card_for_message, transcripts)


def _permanent(exc: BaseException) -> bool:
    """A receipt that cannot reach this chat however often it is tried."""
    return isinstance(exc, (OutsideWindow, Undeliverable, UnknownChat))


def setup_whatsapp(app: web.Application, settings: Settings) -> None:
    """Add the webhook routes and the channel's lifecycle (call only when a token is set)."""
    wa = settings.whatsapp
    app.router.add_get(WEBHOOK_PATH, verification_view(wa.verify_token))
    app.router.add_post(
        WEBHOOK_PATH, notification_view(lambda: app[WHATSAPP], wa.app_secret, wa.phone_number_id)
    )

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        services = app[SERVICES]
        dialogue = Dialogue(services, ttl_minutes=max(round(settings.tokens.ttl_seconds / 60), 1))
        graph = GraphClient(
            app[HTTP_SESSION],
            base_url=wa.base_url,
            api_version=wa.api_version,
            phone_number_id=wa.phone_number_id,
            access_token=wa.access_token,
            timeout=wa.timeout_seconds,
        )
        channel = WhatsAppChannel(
            graph,
            dialogue,
            services.store,
            whatsapp_sealer(services.keyring),
            whatsapp_texts(),
            OtpTemplate(wa.otp_template, wa.otp_template_language),
            app[INBOUND],
        )
        app[WHATSAPP] = channel
        app[PROCESSORS][WA] = channel.process  # the inbound consumer hands messages back here
        services.desk.outbound[WA] = channel  # agents' messages and notices go out here
        app[RECEIPT_ROUTES][WA] = ReceiptRoute(channel.send, _permanent)
        yield
        services.desk.outbound.pop(WA, None)  # a stopping channel takes no more messages
        app[RECEIPT_ROUTES].pop(WA, None)

    app.cleanup_ctx.append(lifecycle)
