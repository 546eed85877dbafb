"""One message at a time per chat across workers: a busy chat is waited for, never entered
unlocked; a chat held for longer than the wait is answered "envie de novo".
"""

from __future__ import annotations

import asyncio

from bot.composition import Services
from handlers.chat import texts
from handlers.chat.dialogue import Dialogue
from tests.support import refs
from token_core.chat.messages import Incoming
from token_core.persistence.models import TranscriptEntry
from token_core.vocabulary import Channel

TG = Channel.TELEGRAM


def hello(chat_id: str) -> Incoming:
    return Incoming(channel=TG, chat_id=chat_id, user_id="u" + chat_id, text="oi")


async def test_a_message_for_a_busy_chat_waits_for_the_other_worker_to_finish(
    services: Services,
) -> None:
    chat_id = refs.suffix()
    lock = f"chat-lock:telegram:{chat_id}"
    assert await services.store.set_if_absent(lock, "another-worker", 15)

    async def other_worker_finishes() -> None:
        await asyncio.sleep(0.2)
        await services.store.delete_if(lock, "another-worker")

    release = asyncio.create_task(other_worker_finishes())
    reply = await Dialogue(services, 10, busy_wait_seconds=5).handle(hello(chat_id))
    await release
    assert reply.messages[0].text == texts.WELCOME


async def test_a_chat_held_longer_than_the_wait_is_refused_and_nothing_is_handled(
    services: Services,
) -> None:
    chat_id = refs.suffix()
    lock = f"chat-lock:telegram:{chat_id}"
    assert await services.store.set_if_absent(lock, "stuck-worker", 15)

    reply = await Dialogue(services, 10, busy_wait_seconds=0.2).handle(hello(chat_id))

    assert [m.text for m in reply.messages] == [texts.BUSY]
    assert not await TranscriptEntry.filter(chat_id=chat_id).exists()
    assert await services.store.get(lock) == "stuck-worker"  # the holder's lock is untouched
