"""WhatsApp's customer-service window: free-form messages reach a person only within 24 hours
of their last message (templates reach them any time). The time of each chat's last message is
kept in the shared store, so every worker knows whether the window is open.
"""

from __future__ import annotations

import time

from token_core.storage.ports import EphemeralStore

WINDOW_SECONDS = 24 * 3600.0


class ServiceWindow:
    def __init__(self, store: EphemeralStore, seconds: float = WINDOW_SECONDS) -> None:
        self._store = store
        self._seconds = seconds

    @staticmethod
    def _key(chat_id: str) -> str:
        return f"wa-window:{chat_id}"

    async def opened(self, chat_id: str, at: float) -> None:
        """The person wrote at `at` (Meta's timestamp): the window runs 24 hours from then."""
        left = at + self._seconds - time.time()
        if left <= 0:
            return  # a message delivered late opens nothing
        current = await self._store.get(self._key(chat_id))
        if current is not None and float(current) >= at:
            return  # an older message handled after a newer one
        await self._store.set(self._key(chat_id), repr(at), left)

    async def is_open(self, chat_id: str) -> bool:
        return await self._store.get(self._key(chat_id)) is not None
