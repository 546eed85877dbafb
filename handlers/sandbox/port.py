"""What the sandbox page needs from the sandbox channel (integrations/sandbox), given by the
wiring (bot/sandbox.py): handlers import no integrations.
"""

from __future__ import annotations

from typing import Protocol


class SandboxChat(Protocol):
    def topic(self, chat_id: str) -> str:
        """The live topic the chat's messages are published on."""

    async def accept(
        self, chat_id: str, *, text: str | None = None, button: str | None = None, contact: bool
    ) -> str | None:
        """Queue what the person sent; its message id, or None when it was dropped."""

    def chat_id(self, carteirinha: str, session: str) -> str | None:
        """The chat of one browser session as one beneficiary; None for a malformed session."""
