"""Conversations as support sees them: one row per chat with its last message and who answers
it (the bot, nobody yet, an agent). Every change is published on the `conversations` topic so
every console, on every worker, sees it at once.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from token_core.persistence.models import Conversation, TranscriptEntry
from token_core.persistence.transactions import DuplicateKey
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import (
    BRASILIA,
    CHAT_CHANNELS,
    Channel,
    ConversationState,
    iso_utc,
    utc_now,
)

LIVE_TOPIC = "conversations"
_BOT, _WAITING = ConversationState.BOT.value, ConversationState.WAITING.value
_WITH_AGENT, _CLOSED = ConversationState.WITH_AGENT.value, ConversationState.CLOSED.value
TRANSCRIPT_PAGE = 200


@dataclass(frozen=True, slots=True)
class ChatRef:
    channel: Channel
    chat_id: str

    @property
    def key(self) -> str:
        return f"{self.channel.value}:{self.chat_id}"


class Conversations:
    def __init__(self, store: EphemeralStore) -> None:
        self._store = store

    async def get(self, chat: ChatRef) -> Conversation | None:
        return await Conversation.get_or_none(
            channel=chat.channel, chat_id=chat.chat_id
        ).select_related("beneficiary")

    async def state(self, chat: ChatRef) -> ConversationState:
        row = await Conversation.get_or_none(channel=chat.channel, chat_id=chat.chat_id)
        return ConversationState(row.state) if row else ConversationState.BOT

    async def _ensure(self, chat: ChatRef, beneficiary_id: int | None) -> str:
        """The chat's row exists (made now if need be); its state."""
        row = await Conversation.get_or_none(channel=chat.channel, chat_id=chat.chat_id)
        if row is not None:
            return row.state
        try:
            await Conversation.create(
                channel=chat.channel, chat_id=chat.chat_id, beneficiary_id=beneficiary_id
            )
        except DuplicateKey:
            return await self._ensure(chat, beneficiary_id)  # another message or worker won
        return _BOT

    async def touch(
        self, chat: ChatRef, beneficiary_id: int | None, masked_text: str, at: datetime
    ) -> None:
        """Record the chat's latest (already masked) message; a closed chat that speaks again is
        the bot's again. One read and one write; the live summary is built from what is in hand.
        """
        row = await Conversation.get_or_none(
            channel=chat.channel, chat_id=chat.chat_id
        ).select_related("beneficiary")
        if row is None:
            await self._ensure(chat, beneficiary_id)
            row = await self.get(chat)
            assert row is not None
        changes: dict[str, Any] = {"last_at": at, "last_text": masked_text[:200]}
        if beneficiary_id is not None and row.beneficiary_id != beneficiary_id:  # type: ignore[attr-defined]
            changes["beneficiary_id"] = beneficiary_id
        if row.state == _CLOSED:
            changes["state"] = _BOT
        await Conversation.filter(id=row.id).update(**changes)
        if "beneficiary_id" in changes:
            await self._publish(chat)  # the beneficiary changed: read it for the summary
            return
        for name, value in changes.items():
            setattr(row, name, value)
        await self._store.publish(LIVE_TOPIC, json.dumps(summary(row), ensure_ascii=False))

    async def request_human(
        self, chat: ChatRef, beneficiary_id: int | None, *, fraud: bool = False
    ) -> bool:
        """Ask for a person: `aguardando atendente`, unless an agent already holds the chat.
        Asking again while waiting keeps the first request's time (the expiry counts from it).
        """
        await self._ensure(chat, beneficiary_id)
        rows = Conversation.filter(channel=chat.channel, chat_id=chat.chat_id)
        if fraud:
            await rows.update(fraud=True)
        await rows.filter(state__in=(_BOT, _CLOSED)).update(state=_WAITING, requested_at=utc_now())
        await self._publish(chat)
        return await rows.filter(state=_WAITING).exists()

    async def take(self, chat: ChatRef, agent_login: str) -> bool:
        """An agent takes the chat over (the bot stops); False when another agent holds it
        (a conditional update: of two agents pressing at once, one wins).
        """
        await self._ensure(chat, None)
        taken = await Conversation.filter(
            channel=chat.channel, chat_id=chat.chat_id, state__in=(_BOT, _WAITING, _CLOSED)
        ).update(state=_WITH_AGENT, agent_login=agent_login, taken_at=utc_now(), requested_at=None)
        if taken:
            await self._publish(chat)
        return bool(taken)

    async def held_by(self, chat: ChatRef) -> str | None:
        """The login of the agent answering the chat, if any."""
        row = await Conversation.get_or_none(
            channel=chat.channel, chat_id=chat.chat_id, state=_WITH_AGENT
        )
        return row.agent_login if row else None

    async def give_back(self, chat: ChatRef, agent_login: str | None) -> bool:
        """Hand the chat back to the bot (only its agent, or anyone with agent_login=None)."""
        query = Conversation.filter(channel=chat.channel, chat_id=chat.chat_id, state=_WITH_AGENT)
        if agent_login is not None:
            query = query.filter(agent_login=agent_login)
        back = await query.update(state=_BOT, agent_login=None, requested_at=None)
        if back:
            await self._publish(chat)
        return bool(back)

    async def expire_waiting(
        self, older_than: datetime, channels: Collection[Channel]
    ) -> list[ChatRef]:
        """Hand-offs on `channels` nobody took in time go back to the bot; the chats that did
        (once each, whichever worker runs this).
        """
        waiting = await Conversation.filter(
            state=_WAITING, requested_at__lte=older_than, channel__in=list(channels)
        ).values_list("channel", "chat_id", "requested_at")
        expired = []
        for channel, chat_id, requested_at in waiting:
            moved = await Conversation.filter(
                channel=channel, chat_id=chat_id, state=_WAITING, requested_at=requested_at
            ).update(state=_BOT, requested_at=None)
            if moved:
                chat = ChatRef(Channel(str(channel)), str(chat_id))
                expired.append(chat)
                await self._publish(chat)
        return expired

    async def close(self, chat: ChatRef) -> None:
        """The chat was unlinked: nothing more to answer there."""
        await Conversation.filter(channel=chat.channel, chat_id=chat.chat_id).update(
            state=_CLOSED, agent_login=None, requested_at=None
        )
        await self._publish(chat)

    async def transcript(
        self, chat: ChatRef, after_id: int = 0, limit: int = TRANSCRIPT_PAGE
    ) -> list[TranscriptEntry]:
        """The chat's latest masked lines (after `after_id`, when given), oldest first."""
        rows = await (
            TranscriptEntry.filter(channel=chat.channel, chat_id=chat.chat_id, id__gt=after_id)
            .order_by("-id")
            .limit(limit)
        )
        return list(reversed(rows))

    async def _publish(self, chat: ChatRef) -> None:
        row = await self.get(chat)
        if row is not None:
            await self._store.publish(LIVE_TOPIC, json.dumps(summary(row), ensure_ascii=False))


def summary(row: Conversation) -> dict[str, Any]:
    """What a console shows of a conversation: the beneficiary only as first name and card
    (never a CPF or phone), the last message as stored (masked), times in Brasília.
    """
    ben = row.beneficiary if row.beneficiary_id else None  # type: ignore[attr-defined]
    return {
        "canal": row.channel.value,
        "canal_nome": CHAT_CHANNELS.get(row.channel, row.channel.value),
        "chat": row.chat_id,
        "estado": row.state,
        "agente": row.agent_login,
        "beneficiario": ben.name.split()[0] if ben and ben.name.strip() else None,
        "carteirinha": ben.carteirinha if ben else None,
        "ultima": row.last_text,
        "ultima_em": iso_utc(row.last_at) if row.last_at else None,
        "quando": f"{row.last_at.astimezone(BRASILIA):%d/%m %H:%M}" if row.last_at else "",
        "fraude": row.fraud,
    }
