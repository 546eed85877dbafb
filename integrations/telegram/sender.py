"""The dentist system's "send by Telegram": the code card goes to the beneficiary's linked chat."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram.error import TelegramError

from integrations.telegram.channel import TelegramChannel
from token_core.chat.messages import Outgoing
from token_core.chat.transcripts import Transcripts
from token_core.delivery.port import CodeMessage, DeliveryFailed
from token_core.vocabulary import Channel, Direction

logger = logging.getLogger(__name__)


class TelegramCodeSender:
    """A CodeSender; `destination` is the chat id, `render` builds the card (the dialogue's)."""

    def __init__(
        self,
        channel: Callable[[], TelegramChannel],
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
        except TelegramError as exc:
            raise DeliveryFailed(f"telegram answered {type(exc).__name__}") from None
        try:
            await self._transcripts.record(
                Channel.TELEGRAM,
                message.destination,
                Direction.OUT,
                card.text,
                codes=[message.code.reveal()],
            )
        except Exception:  # the card is delivered: a missing transcript line must not revoke it
            logger.exception("transcript of a pushed card failed")
