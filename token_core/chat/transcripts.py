"""Chat transcripts for support: every message in and out, masked, stored and published live."""

from __future__ import annotations

import json
from collections.abc import Iterable

from token_core.chat import links
from token_core.chat.conversations import ChatRef, Conversations
from token_core.chat.redaction import mask_sensitive
from token_core.metrics import NO_METRICS, Metrics
from token_core.persistence.models import TranscriptEntry
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import Channel, Direction, iso_utc

LIVE_TOPIC = "transcripts"


class Transcripts:
    def __init__(self, store: EphemeralStore, metrics: Metrics = NO_METRICS) -> None:
        self._store = store
        self._metrics = metrics
        self.conversations = Conversations(store)

    async def record(
        self,
        channel: Channel,
        chat_id: str,
        direction: Direction,
        text: str,
        *,
        beneficiary_id: int | None = None,
        codes: Iterable[str] = (),
    ) -> TranscriptEntry:
        """Keep and publish the masked form of `text` (`codes` are the codes it carries). A
        message sent without knowing whose chat it is (a receipt, a pushed card) is filed under
        the chat's linked beneficiary.
        """
        if beneficiary_id is None:
            link = await links.active_for(channel, chat_id)
            beneficiary_id = link.beneficiary.id if link else None
        entry = await TranscriptEntry.create(
            channel=channel,
            chat_id=chat_id,
            direction=direction,
            beneficiary_id=beneficiary_id,
            text=mask_sensitive(text, codes),
        )
        if direction is Direction.OUT:
            self._metrics.chat_message_out(channel)
        await self.conversations.touch(
            ChatRef(channel, chat_id), beneficiary_id, entry.text, entry.at
        )
        await self._store.publish(
            LIVE_TOPIC,
            json.dumps(
                {
                    "id": entry.id,
                    "em": iso_utc(entry.at),
                    "canal": channel.value,
                    "chat": chat_id,
                    "direcao": direction.value,
                    "beneficiario_id": beneficiary_id,
                    "texto": entry.text,
                },
                ensure_ascii=False,
            ),
        )
        return entry
