"""Development delivery: the rendered message is appended to an outbox file instead of sent.

This is the one place a plaintext code is written down, and only with the console backend (the
settings refuse it in production). The log says where the message went, never what it says.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from integrations.messages import render_email, render_sms
from token_core.delivery.port import CodeMessage
from token_core.registry.identity import Mobile, mask_email
from token_core.vocabulary import Channel

logger = logging.getLogger(__name__)


class ConsoleSender:
    """Writes each message for `channel` to `outbox_path` (file mode 0600)."""

    def __init__(self, channel: Channel, outbox_path: Path) -> None:
        self._channel = channel
        self._path = outbox_path

    async def send(self, message: CodeMessage) -> None:
        masked = _masked(self._channel, message.destination)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        entry = f"=== {stamp} {self._channel.value} to {masked} ===\n{self._render(message)}\n\n"
        await asyncio.to_thread(_append, self._path, entry)
        logger.warning(
            "console %s backend: the message for %s went to the outbox file %s (development only)",
            self._channel.value,
            masked,
            self._path,
        )

    def _render(self, message: CodeMessage) -> str:
        if self._channel is Channel.EMAIL:
            email = render_email(message)
            return f"Assunto: {email.subject}\n\n{email.text}"
        return render_sms(message)


def _masked(channel: Channel, destination: str) -> str:
    if channel is Channel.EMAIL:
        return mask_email(destination)
    if channel is Channel.SMS:
        return Mobile(destination).masked
    return "chat"


def _append(path: Path, entry: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with open(fd, "a", encoding="utf-8") as outbox:
        outbox.write(entry)
