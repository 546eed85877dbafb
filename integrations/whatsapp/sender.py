"""The dentist system's "send by WhatsApp": the code goes in the authentication template to the
beneficiary's linked chat, which reaches them outside the 24-hour window too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from integrations.whatsapp.addresses import UnknownChat
from integrations.whatsapp.channel import WhatsAppChannel
from integrations.whatsapp.graph import GraphError
from token_core.chat.messages import Outgoing
from token_core.chat.transcripts import Transcripts
from token_core.delivery.port import CodeMessage, DeliveryFailed
from token_core.vocabulary import Channel, Direction

logger = logging.getLogger(__name__)


class WhatsAppCodeSender:
    """A CodeSender; `destination` is the chat id, `render` builds the card (the dialogue's)."""

    def __init__(
        self,
        channel: Callable[[], WhatsAppChannel],
        render: Callable[[CodeMessage], Outgoing],
        transcripts: Transcripts,
    ) -> None:
        self._channel = channel
        self._render = render
        self._transcripts = transcripts

    async def send(self, message: CodeMessage) -> None:
        card = self._render(message)
        try:
            await self._channel().send(message.destination, card)
        except GraphError as exc:
            raise DeliveryFailed(f"whatsapp answered {exc.code or 'nothing'}") from None
        except UnknownChat:
            raise DeliveryFailed("whatsapp: not a chat of this server") from None
        try:
            await self._transcripts.record(
                Channel.WHATSAPP,
                message.destination,
                Direction.OUT,
                card.text,
                codes=[message.code.reveal()],
            )
        except Exception:  # the code is delivered: a missing transcript line must not revoke it
            logger.exception("transcript of a pushed card failed")
