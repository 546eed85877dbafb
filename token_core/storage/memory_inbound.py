"""In-process inbound queue (the embedded default): per-chat lines in memory, one process only;
lost on restart, like the rest of the in-process store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from token_core.chat.inbound import Handler, InboundUpdate, Pushed

logger = logging.getLogger(__name__)


class InProcessInbound:
    def __init__(self, backlog_cap: int = 50, seen_seconds: float = 86400) -> None:
        self._cap = backlog_cap
        self._seen_seconds = seen_seconds
        self._seen: dict[str, float] = {}
        self._lines: dict[str, deque[InboundUpdate]] = {}
        self._capped: set[str] = set()
        self._ready: asyncio.Queue[str] = asyncio.Queue()

    async def push(self, update: InboundUpdate) -> Pushed:
        now = time.monotonic()
        if len(self._seen) > 100_000:
            self._seen = {k: t for k, t in self._seen.items() if t > now}
        seen_key = f"{update.channel.value}:{update.update_id}"
        if self._seen.get(seen_key, 0) > now:
            return Pushed.DUPLICATE
        self._seen[seen_key] = now + self._seen_seconds
        chat = f"{update.channel.value}:{update.chat_id}"
        line = self._lines.get(chat)
        if line is not None and len(line) >= self._cap:
            if chat in self._capped:
                return Pushed.OVER_CAP
            self._capped.add(chat)
            return Pushed.OVER_CAP_FIRST
        if line is None:
            line = self._lines[chat] = deque()
            self._ready.put_nowait(chat)
        line.append(update)
        return Pushed.QUEUED

    async def run(self, handle: Handler, stop: Callable[[], bool]) -> None:
        slots = asyncio.Semaphore(256)
        running: set[asyncio.Task[None]] = set()
        try:
            while not stop():
                try:
                    chat = await asyncio.wait_for(self._ready.get(), 0.2)
                except TimeoutError:
                    continue
                await slots.acquire()
                task = asyncio.create_task(self._drain(chat, handle, slots))
                running.add(task)
                task.add_done_callback(running.discard)
        finally:
            await asyncio.gather(*running, return_exceptions=True)

    async def _drain(self, chat: str, handle: Handler, slots: asyncio.Semaphore) -> None:
        """Handle one chat's line in order, until it is empty."""
        try:
            line = self._lines[chat]
            while line:
                try:
                    await handle(line[0])
                except Exception:
                    logger.exception("inbound update of chat %s failed", chat)
                line.popleft()
            del self._lines[chat]
            self._capped.discard(chat)
        finally:
            slots.release()

    async def close(self) -> None:
        self._lines.clear()
