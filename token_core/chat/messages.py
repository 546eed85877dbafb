"""The chat port: plain messages between the dialogue (handlers/chat) and the channel adapters
(integrations/telegram, …). An adapter turns platform updates into `Incoming`, gives them to a
`ChatHandler` and renders the `Outgoing` messages of its `Reply` (text, buttons, a token card).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from token_core.codes.generation import SecretCode
from token_core.codes.issuance import IssuedCode
from token_core.vocabulary import Channel


@dataclass(frozen=True, slots=True)
class Incoming:
    channel: Channel
    chat_id: str
    user_id: str
    text: str | None = None
    contact_phone: str | None = None  # a shared contact card's number
    contact_is_own: bool = False  # the contact belongs to the sender (Telegram: user_id match)
    proven_phone: str | None = None  # a number the channel itself proves (WhatsApp sender)
    callback_data: str | None = None  # a button press
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str | None = None  # sent back as Incoming.callback_data
    copy_code: SecretCode | None = None  # a "copy" button carrying the code


@dataclass(frozen=True, slots=True)
class Outgoing:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()  # inline rows under the message
    ask_contact: str | None = None  # label of a "share my contact" button
    menu: tuple[str, ...] = ()  # a persistent keyboard of shortcuts
    remove_keyboard: bool = False
    code: SecretCode | None = None  # the message carries a code: protect it, delete at expiry
    expires_at: datetime | None = None
    issued: IssuedCode | None = field(default=None, repr=False)  # confirm or fail its delivery
    delete_message_id: str | None = None  # a message of the chat to delete (the user's CPF)


@dataclass(frozen=True, slots=True)
class Reply:
    messages: tuple[Outgoing, ...] = ()
    notice: str | None = None  # a short answer to a button press (toast)


class ChatHandler(Protocol):
    """What an adapter talks to: the dialogue."""

    async def handle(self, msg: Incoming) -> Reply: ...

    async def delivered(self, out: Outgoing, channel: Channel, error: str | None = None) -> None:
        """Whether a message carrying a code reached the chat (if not, the code is revoked)."""


class ChatOutbound(Protocol):
    """A channel's way to write to a chat outside a reply (an agent's message, a notice)."""

    async def send(self, chat_id: str, out: Outgoing) -> object: ...
