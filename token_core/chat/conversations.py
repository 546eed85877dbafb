"""Conversations as support sees them: one row per chat with its last message and who answers
it (the bot, nobody yet, an agent). Every change is published on the `conversations` topic so
every console, on every worker, sees it at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from token_core.persistence.models import Conversation
from token_core.persistence.transactions import DuplicateKey
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import Channel, ConversationState, iso_utc, utc_now

LIVE_TOPIC = "conversations"
_ANSWERING = (ConversationState.BOT.value, ConversationState.WAITING.value)


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

    async def _ensure(self, chat: ChatRef, beneficiary_id: int | None) -> None:
        if await Conversation.exists(channel=chat.channel, chat_id=chat.chat_id):
            return
        try:
            await Conversation.create(
                channel=chat.channel, chat_id=chat.chat_id, beneficiary_id=beneficiary_id
            )
        except DuplicateKey:
            pass  # created a moment ago by another message or worker

    async def touch(
        self, chat: ChatRef, beneficiary_id: int | None, masked_text: str, at: datetime
    ) -> None:
        """Record the chat's latest (already masked) message."""
        await self._ensure(chat, beneficiary_id)
        changes: dict[str, Any] = {"last_at": at, "last_text": masked_text[:200]}
        if beneficiary_id is not None:
            changes["beneficiary_id"] = beneficiary_id
        await Conversation.filter(channel=chat.channel, chat_id=chat.chat_id).update(**changes)

    async def request_human(
        self, chat: ChatRef, beneficiary_id: int | None, *, fraud: bool = False
    ) -> bool:
        """Ask for a person: `aguardando atendente` unless an agent already holds the chat."""
        await self._ensure(chat, beneficiary_id)
        changes: dict[str, Any] = {
            "state": ConversationState.WAITING.value,
            "requested_at": utc_now(),
        }
        if fraud:
            changes["fraud"] = True
        moved = await Conversation.filter(
            channel=chat.channel, chat_id=chat.chat_id, state__in=_ANSWERING
        ).update(**changes)
        if not moved and fraud:
            await Conversation.filter(channel=chat.channel, chat_id=chat.chat_id).update(fraud=True)
        await self._publish(chat)
        return bool(moved)

    async def take(self, chat: ChatRef, agent_login: str) -> bool:
        """An agent takes the chat over (the bot stops); False when another agent holds it."""
        await self._ensure(chat, None)
        taken = await Conversation.filter(
            channel=chat.channel,
            chat_id=chat.chat_id,
            state__in=(*_ANSWERING, ConversationState.CLOSED.value),
        ).update(
            state=ConversationState.WITH_AGENT.value, agent_login=agent_login, taken_at=utc_now()
        )
        if taken:
            await self._publish(chat)
        return bool(taken)

    async def give_back(self, chat: ChatRef, agent_login: str | None) -> bool:
        """Hand the chat back to the bot (only its agent, or anyone with agent_login=None)."""
        query = Conversation.filter(
            channel=chat.channel, chat_id=chat.chat_id, state=ConversationState.WITH_AGENT.value
        )
        if agent_login is not None:
            query = query.filter(agent_login=agent_login)
        back = await query.update(
            state=ConversationState.BOT.value, agent_login=None, requested_at=None
        )
        if back:
            await self._publish(chat)
        return bool(back)

    async def expire_waiting(self, older_than: datetime) -> list[ChatRef]:
        """Hand-offs nobody took in time go back to the bot; the chats that did (once each,
        whichever worker runs this).
        """
        waiting = await Conversation.filter(
            state=ConversationState.WAITING.value, requested_at__lte=older_than
        ).values_list("channel", "chat_id", "requested_at")
        expired = []
        for channel, chat_id, requested_at in waiting:
            moved = await Conversation.filter(
                channel=channel,
                chat_id=chat_id,
                state=ConversationState.WAITING.value,
                requested_at=requested_at,
            ).update(state=ConversationState.BOT.value, requested_at=None)
            if moved:
                chat = ChatRef(Channel(str(channel)), str(chat_id))
                expired.append(chat)
                await self._publish(chat)
        return expired

    async def close(self, chat: ChatRef) -> None:
        """The chat was unlinked: nothing more to answer there."""
        await Conversation.filter(channel=chat.channel, chat_id=chat.chat_id).update(
            state=ConversationState.CLOSED.value, agent_login=None, requested_at=None
        )
        await self._publish(chat)

    async def _publish(self, chat: ChatRef) -> None:
        row = await self.get(chat)
        if row is not None:
            await self._store.publish(LIVE_TOPIC, json.dumps(summary(row), ensure_ascii=False))


def summary(row: Conversation) -> dict[str, Any]:
    """What a console shows of a conversation (masked data only)."""
    ben = row.beneficiary if row.beneficiary_id else None  # type: ignore[attr-defined]
    return {
        "canal": row.channel.value,
        "chat": row.chat_id,
        "estado": row.state,
        "agente": row.agent_login,
        "beneficiario": ben.name.split()[0] if ben else None,
        "carteirinha": ben.carteirinha if ben else None,
        "ultima": row.last_text,
        "ultima_em": iso_utc(row.last_at) if row.last_at else None,
        "fraude": row.fraud,
    }
