"""One chat's updates run in order; a busy chat does not hold the slots other chats need."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update

from integrations.telegram.processor import PerChatUpdateProcessor
from tests.support.waiting import wait_until


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "private")
    return Update(update_id, message=Message(update_id, None, chat))  # type: ignore[arg-type]


async def test_a_flooding_chat_waits_in_its_own_line() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=2)
    order: list[str] = []
    started: list[str] = []
    gate = asyncio.Event()

    async def slow(name: str) -> None:
        started.append(name)
        await gate.wait()
        order.append(name)

    async def fast(name: str) -> None:
        order.append(name)

    flood = [
        asyncio.create_task(processor.process_update(update(i, 1), slow(f"a{i}"))) for i in range(5)
    ]
    # a0 holds a slot; a1-a4 were scheduled with it, so they have queued (in the same turn)
    await wait_until(lambda: started == ["a0"])
    other = asyncio.create_task(processor.process_update(update(99, 2), fast("b")))
    await asyncio.wait_for(other, 1)  # chat 2 is served while chat 1's backlog waits
    gate.set()
    await asyncio.gather(*flood)
    assert order == ["b", "a0", "a1", "a2", "a3", "a4"]
