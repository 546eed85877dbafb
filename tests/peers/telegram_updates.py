"""Updates as Telegram posts them to a webhook, and the chats, messages and callback queries they
bring into being, so the Bot API peer can answer about them as Telegram would.
"""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

# Not the global generator, which pytest-randomly reseeds: ids must differ between runs and tests.
_random = random.SystemRandom()

# One increasing sequence per test process, starting at random so that update_ids remembered by
# a Redis shared across runs do not collide with this run's.
_update_ids = itertools.count(_random.randrange(10**8, 10**9))


class UpdateBuilder:
    """Builds `Update` JSON with unique increasing `update_id`s and per-chat `message_id`s."""

    def __init__(self) -> None:
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.open_queries: set[str] = set()
        self._last_message_id: dict[int, int] = {}

    def text_update(
        self, chat_id: int, user_id: int, text: str, first_name: str = "Maria"
    ) -> dict[str, Any]:
        """A user's text message; a leading /command carries its bot_command entity."""
        body: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            body["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
        return _update(message=self._user_message(chat_id, user_id, first_name, body))

    def contact_update(
        self,
        chat_id: int,
        user_id: int,
        phone_number: str,
        contact_user_id: int | None,
        first_name: str = "Maria",
    ) -> dict[str, Any]:
        """A shared contact; `contact_user_id` is the contact's Telegram user (None: not a user)."""
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        body = {"contact": contact}
        return _update(message=self._user_message(chat_id, user_id, first_name, body))

    def callback_update(
        self, chat_id: int, user_id: int, data: str, message_id: int, first_name: str = "Maria"
    ) -> dict[str, Any]:
        """A press on a callback button of the bot's message `message_id` (its current state when
        the peer knows it, otherwise an inaccessible message, as Telegram sends for old ones).
        """
        user = self._meet(chat_id, user_id, first_name)
        message = dict(
            self.messages.get((chat_id, message_id))
            or {
                "chat": self.chats[chat_id],
                "message_id": message_id,
                "date": 0,
            }
        )
        query_id = str(_random.getrandbits(63))
        self.open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(chat_id * 7919 % 10**12),
            "data": data,
        }
        return _update(callback_query=query)

    def next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _meet(self, chat_id: int, user_id: int, first_name: str) -> dict[str, Any]:
        self.chats.setdefault(chat_id, {"id": chat_id, "first_name": first_name, "type": "private"})
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "pt-br"}

    def _user_message(
        self, chat_id: int, user_id: int, first_name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        user = self._meet(chat_id, user_id, first_name)
        message_id = self.next_message_id(chat_id)
        message = {
            "message_id": message_id,
            "from": user,
            "chat": self.chats[chat_id],
            "date": int(time.time()),
            **body,
        }
        self.messages[(chat_id, message_id)] = message
        return message


def _update(**body: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), **body}
