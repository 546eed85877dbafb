"""A flooding chat is capped: it is told once to wait, what goes beyond the cap is dropped and
audited, and other chats are answered without waiting behind it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.chat import texts
from tests.e2e.test_telegram import SECRET, TOKEN, TelegramChat
from tests.peers.telegram_api import TelegramApi
from tests.support.server import RunningServer, running_server, server_settings
from tests.support.waiting import wait_until
from token_core.persistence.models import AuditEvent
from token_core.vocabulary import AuditKind

CAP = 20


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramApi]:
    async with TelegramApi(token=TOKEN) as peer:
        yield peer


@pytest.fixture
async def server(tmp_path: Path, telegram: TelegramApi) -> AsyncIterator[RunningServer]:
    settings = server_settings(
        tmp_path,
        telegram={
            "token": TOKEN,
            "base_url": f"{telegram.base_url}/bot",
            "webhook_secret": SECRET,
            "max_messages_per_second": 0,
        },
        chat={"backlog_cap": CAP},
    )
    async with running_server(settings) as running:
        yield running


async def test_a_flood_is_capped_and_other_chats_do_not_wait_behind_it(
    server: RunningServer, telegram: TelegramApi
) -> None:
    flood, quiet = TelegramChat(server, telegram), TelegramChat(server, telegram)
    statuses = [
        await flood.post(telegram.text_update(flood.chat_id, flood.user_id, f"oi {n}"))
        for n in range(CAP + 15)
    ]
    assert set(statuses) == {200}  # acknowledged, so Telegram does not resend them
    [welcome] = await quiet.say("/start")
    assert welcome["text"] == texts.WELCOME

    # The quiet chat was answered while the flooding chat still had its line to work through.
    def answered() -> list[object]:
        return [m for m in telegram.sent(flood.chat_id) if m["text"] != texts.FLOOD]

    assert len(answered()) < CAP
    actor = f"chat:telegram:{flood.chat_id}"

    async def accounted() -> bool:
        dropped = await AuditEvent.filter(actor=actor, kind=AuditKind.CHAT_UPDATE_DROPPED).count()
        return len(answered()) + dropped == CAP + 15

    await wait_until(accounted, within=30)  # every update answered, or dropped and audited
    assert len(answered()) >= CAP
    notices = [m for m in telegram.sent(flood.chat_id) if m["text"] == texts.FLOOD]
    assert len(notices) == 1
