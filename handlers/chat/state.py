"""Dialogue state between messages: in the ephemeral store (shared by every worker), with an
idle lifetime. Holds the step and a keyed hash of the proven phone, never the phone itself.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import Channel

IDLE_SECONDS = 30 * 60


@dataclass(frozen=True, slots=True)
class DialogueState:
    step: str = "start"  # start | awaiting_cpf
    phone_proof: str | None = None


class StateStore:
    def __init__(self, store: EphemeralStore) -> None:
        self._store = store

    @staticmethod
    def _key(channel: Channel, chat_id: str) -> str:
        return f"dialogue:{channel.value}:{chat_id}"

    async def load(self, channel: Channel, chat_id: str) -> DialogueState:
        raw = await self._store.get(self._key(channel, chat_id))
        return DialogueState(**json.loads(raw)) if raw else DialogueState()

    async def save(self, channel: Channel, chat_id: str, state: DialogueState) -> None:
        await self._store.set(self._key(channel, chat_id), json.dumps(asdict(state)), IDLE_SECONDS)

    async def clear(self, channel: Channel, chat_id: str) -> None:
        await self._store.delete(self._key(channel, chat_id))
