"""Settings → delivery senders and the callback dispatcher (the adapters live in integrations/)."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from bot.settings import ConfigError, Settings
from integrations.callbacks import CallbackDispatcher
from integrations.senders import EmailConfig, SmsConfig
from integrations.senders import build_senders as _build_senders
from token_core.delivery.port import CodeSender
from token_core.vocabulary import Channel

OUTBOX_FILE = "outbox.txt"


def build_senders(
    settings: Settings, session: aiohttp.ClientSession
) -> Mapping[Channel, CodeSender]:
    """SMS and e-mail senders; the console backends write to app.data_dir/outbox.txt."""
    try:
        return _build_senders(
            SmsConfig(**settings.sms.model_dump()),
            EmailConfig(**settings.email.model_dump()),
            session,
            settings.app.data_dir / OUTBOX_FILE,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def build_dispatcher(
    settings: Settings, session: aiohttp.ClientSession
) -> CallbackDispatcher | None:
    """The outbox dispatcher, or None when no callbacks.url is set."""
    cb = settings.callbacks
    if not cb.url:
        return None
    return CallbackDispatcher(
        session,
        url=cb.url,
        client_id=cb.client_id,
        secret=cb.secret,
        timeout=cb.timeout_seconds,
        max_backoff=cb.max_backoff_seconds,
        poll_seconds=cb.poll_seconds,
        # A claim must outlive one attempt, or a slow call would let another worker resend.
        lease_seconds=max(30.0, 3 * cb.timeout_seconds),
    )
