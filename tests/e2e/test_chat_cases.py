"""One list of conversations (tests/support/conversations.py), played on every chat channel:
the same dialogue reached through Telegram's Bot API peer and through the Graph API peer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import World
from tests.peers.graph_api import GraphApi
from tests.peers.telegram_api import TelegramApi
from tests.support.chat_drivers import (
    TG_TOKEN,
    TelegramUser,
    WhatsAppUser,
    telegram_settings,
    whatsapp_settings,
)
from tests.support.conversations import CONVERSATIONS, ChatDriver, Conversation, run
from tests.support.server import RunningServer, running_server, server_settings
from token_core.persistence.models import OutboxEvent


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramApi]:
    async with TelegramApi(token=TG_TOKEN) as peer:
        yield peer


@pytest.fixture
async def graph() -> AsyncIterator[GraphApi]:
    async with GraphApi() as peer:
        yield peer


@pytest.fixture
async def server(
    tmp_path: Path, telegram: TelegramApi, graph: GraphApi
) -> AsyncIterator[RunningServer]:
    """Both channels on one server, as a deployment runs them."""
    await OutboxEvent.filter(event_type="recibo.chat", delivered_at=None).update(
        delivered_at=datetime.now(UTC)
    )
    settings = server_settings(
        tmp_path, telegram=telegram_settings(telegram), whatsapp=whatsapp_settings(graph)
    )
    async with running_server(settings) as running:
        yield running


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=lambda c: c.name.replace(" ", "-"))
@pytest.mark.parametrize("channel", ["telegram", "whatsapp"])
async def test_conversation(
    conversation: Conversation,
    channel: str,
    server: RunningServer,
    telegram: TelegramApi,
    graph: GraphApi,
    world: World,
) -> None:
    driver: ChatDriver = (
        TelegramUser(server, telegram) if channel == "telegram" else WhatsAppUser(server, graph)
    )
    await run(conversation, driver, world)


async def test_a_person_without_a_visible_number_has_the_same_conversation(
    server: RunningServer, graph: GraphApi, world: World
) -> None:
    """A WhatsApp user who hides their number shares it with WhatsApp's own button first."""
    for conversation in CONVERSATIONS[:2]:
        await run(conversation, WhatsAppUser(server, graph, hidden=True), world)
