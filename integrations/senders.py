"""Plain delivery settings → one CodeSender per channel. The composition root (bot/) converts its
settings into `SmsConfig` and `EmailConfig`; integrations never import bot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import aiohttp

from integrations.console_outbox import ConsoleSender
from integrations.email_smtp import SmtpEmailSender, SmtpSecurity
from integrations.sms_zenvia import ZenviaSmsSender
from token_core.delivery.port import CodeSender
from token_core.vocabulary import Channel


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsConfig:
    """Field names follow the [sms] settings section."""

    backend: Literal["console", "zenvia"]
    base_url: str
    sender: str
    api_token: str = field(repr=False)
    timeout_seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailConfig:
    """Field names follow the [email] settings section."""

    backend: Literal["console", "smtp"]
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str = field(repr=False)
    smtp_security: SmtpSecurity
    sender: str
    timeout_seconds: float


def build_senders(
    sms: SmsConfig, email: EmailConfig, session: aiohttp.ClientSession, outbox_path: Path
) -> dict[Channel, CodeSender]:
    """SMS and e-mail senders: the console outbox for "console", the real backends otherwise."""
    return {
        Channel.SMS: _sms_sender(sms, session, outbox_path),
        Channel.EMAIL: _email_sender(email, outbox_path),
    }


def _sms_sender(sms: SmsConfig, session: aiohttp.ClientSession, outbox_path: Path) -> CodeSender:
    if sms.backend == "console":
        return ConsoleSender(Channel.SMS, outbox_path)
    if not sms.api_token:
        raise ValueError("sms.api_token is required for the zenvia backend")
    return ZenviaSmsSender(session, sms.base_url, sms.api_token, sms.sender, sms.timeout_seconds)


def _email_sender(email: EmailConfig, outbox_path: Path) -> CodeSender:
    if email.backend == "console":
        return ConsoleSender(Channel.EMAIL, outbox_path)
    return SmtpEmailSender(
        host=email.smtp_host,
        port=email.smtp_port,
        username=email.smtp_username,
        password=email.smtp_password,
        security=email.smtp_security,
        sender=email.sender,
        timeout=email.timeout_seconds,
    )
