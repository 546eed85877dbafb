"""An SMTP server (aiosmtpd) on 127.0.0.1 that records each message, parsed, and can refuse
the next recipients.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

from tests.peers.base import HOST, free_port


@dataclass(frozen=True)
class ReceivedEmail:
    envelope_from: str
    envelope_to: list[str]
    subject: str
    to: str
    sender: str
    text: str
    html: str
    message: EmailMessage


class _Recorder:
    """aiosmtpd's handler: its hooks are called by name."""

    def __init__(self) -> None:
        self.messages: list[ReceivedEmail] = []
        self.refuse = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse:
            self.refuse -= 1
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        self.messages.append(
            ReceivedEmail(
                envelope_from=envelope.mail_from,
                envelope_to=list(envelope.rcpt_tos),
                subject=str(parsed["Subject"]),
                to=str(parsed["To"]),
                sender=str(parsed["From"]),
                text=text.get_content() if text is not None else "",
                html=html.get_content() if html is not None else "",
                message=parsed,
            )
        )
        return "250 Message accepted"


class SmtpServer:
    """`async with SmtpServer() as smtp:` gives `.host`, `.port` and `.messages`."""

    host = HOST

    def __init__(self) -> None:
        self.port = free_port()
        self._recorder = _Recorder()
        self._controller = Controller(self._recorder, hostname=self.host, port=self.port)

    @property
    def messages(self) -> list[ReceivedEmail]:
        return self._recorder.messages

    def refuse_next_recipients(self, count: int = 1) -> None:
        """Answer 550 to the next `count` RCPT TO commands."""
        self._recorder.refuse += count

    async def __aenter__(self) -> SmtpServer:
        # The controller runs its own loop in a thread; start() blocks until it answers.
        await asyncio.to_thread(self._controller.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self._controller.stop)
