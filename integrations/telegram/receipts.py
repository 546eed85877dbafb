"""Receipts to Telegram chats: the `recibo.chat` events (written with the validation) are sent
to the linked chats with the outbox's claim, retry and backoff, so a receipt is not lost to a
restart or an outage.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram.error import BadRequest, Forbidden, TelegramError

from integrations.outbox_worker import OutboxWorker
from integrations.telegram.channel import TelegramChannel
from token_core.chat.messages import Outgoing
from token_core.chat.transcripts import Transcripts
from token_core.persistence.models import OutboxEvent
from token_core.vocabulary import Channel, Direction, EventType

logger = logging.getLogger(__name__)
TG = Channel.TELEGRAM

# (guide number, channel) → (chat id, message) for every chat that gets the receipt
ReceiptMessages = Callable[[str, Channel], Awaitable[list[tuple[str, Outgoing]]]]


class ReceiptWorker(OutboxWorker):
    def __init__(
        self, channel: TelegramChannel, messages: ReceiptMessages, transcripts: Transcripts
    ) -> None:
        super().__init__(
            timeout=20,
            max_backoff=300,
            poll_seconds=0.5,
            lease_seconds=60,
            only={EventType.CHAT_RECEIPT.value},
        )
        self._channel = channel
        self._messages = messages
        self._transcripts = transcripts

    async def _post(self, event: OutboxEvent) -> str | None:
        numero = str(event.payload["numero"])
        for chat_id, out in await self._messages(numero, TG):
            try:
                await self._channel.send(chat_id, out)
            except (BadRequest, Forbidden):
                # The chat is gone or blocked the bot: retrying will not help.
                logger.warning("receipt for guide %s not deliverable to chat %s", numero, chat_id)
                continue
            except TelegramError as exc:
                return f"telegram: {type(exc).__name__}"
            await self._transcripts.record(TG, chat_id, Direction.OUT, out.text)
        return None
