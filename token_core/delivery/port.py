"""The port for sending a code to a person, and the message it carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from token_core.codes.generation import SecretCode
from token_core.errors import DomainError
from token_core.vocabulary import Channel


class DeliveryFailed(DomainError):
    """The channel did not take the message. The text is for the log and audit, never a code."""


@dataclass(frozen=True, slots=True)
class GuideSummary:
    numero: str
    dentist_name: str
    dentist_cro: str
    clinic: str
    procedures: list[str] = field(default_factory=list)
    registered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CodeMessage:
    """What a beneficiary receives: the code, how long it lasts, what it authorises."""

    channel: Channel
    destination: str  # E.164 mobile for SMS, address for e-mail
    beneficiary_name: str
    code: SecretCode
    expires_at: datetime
    ttl_minutes: int
    guide: GuideSummary | None = None


class CodeSender(Protocol):
    """Delivers a code message on one channel; raises DeliveryFailed when it cannot."""

    async def send(self, message: CodeMessage) -> None: ...
