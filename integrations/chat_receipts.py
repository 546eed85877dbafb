"""Receipts to every chat channel: a `recibo.chat` event (written with the validation) is
claimed once, with the outbox's lease, retry and backoff, and sent to each chat linked to the
guide's beneficiary on every running channel. A chat already served is remembered for the
event, so a retry (another channel failed) does not send it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from integrations.outbox_worker import OutboxWorker
from token_core.chat.messages import Outgoing
from token_core.chat.transcripts import Transcripts
from token_core.persistence.models import OutboxEvent
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import Channel, Direction, EventType

logger = logging.getLogger(__name__)
SERVED_SECONDS = 7 * 86400.0

# (guide number, channel) → (chat id, message) for every chat that gets the receipt
ReceiptMessages = Callable[[str, Channel], Awaitable[list[tuple[str, Outgoing]]]]


@dataclass(frozen=True, slots=True)
class ReceiptRoute:
    """How one channel sends, and which of its failures will never mend (skip that chat)."""

    send: Callable[[str, Outgoing], Awaitable[object]]
    permanent: Callable[[BaseException], bool]


class ChatReceiptWorker(OutboxWorker):
    def __init__(
        self,
        routes: Mapping[Channel, ReceiptRoute],
        messages: ReceiptMessages,
        transcripts: Transcripts,
        store: EphemeralStore,
    ) -> None:
        super().__init__(
            timeout=20,
            max_backoff=300,
            poll_seconds=0.5,
            lease_seconds=60,
            only={EventType.CHAT_RECEIPT.value},
        )
        self._routes = routes  # filled by each chat channel as it starts
        self._messages = messages
        self._transcripts = transcripts
        self._store = store

    async def _post(self, event: OutboxEvent) -> str | None:
        numero = str(event.payload["numero"])
        retry: str | None = None
        for channel, route in list(self._routes.items()):
            for chat_id, out in await self._messages(numero, channel):
                served = f"receipt-served:{event.event_id}:{channel.value}:{chat_id}"
                if await self._store.get(served) is not None:
                    continue
                try:
                    await route.send(chat_id, out)
                except Exception as exc:
                    if route.permanent(exc):
                        logger.warning(
                            "receipt for guide %s not deliverable on %s (%s)",
                            numero,
                            channel.value,
                            type(exc).__name__,
                        )
                        continue
                    retry = f"{channel.value}: {type(exc).__name__}"
                    continue
                await self._store.set(served, "1", SERVED_SECONDS)
                await self._transcripts.record(channel, chat_id, Direction.OUT, out.text)
        return retry
