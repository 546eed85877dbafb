"""The live hub: each worker subscribes once per topic to the store's publish/subscribe (so what
any worker handles reaches every console) and fans the events out to its open pages
(handlers/console/live.py writes them as server-sent events).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from aiohttp import web

from handlers.appkeys import SERVICES
from token_core.chat.conversations import LIVE_TOPIC as CONVERSATIONS_TOPIC
from token_core.chat.conversations import ChatRef
from token_core.chat.transcripts import LIVE_TOPIC as TRANSCRIPTS_TOPIC
from token_core.storage.ports import EphemeralStore

logger = logging.getLogger(__name__)
QUEUE_SIZE = 500
END: tuple[str, dict[str, Any]] = ("", {})


class Listener:
    """One open page: the events it wants, queued until its stream writes them."""

    def __init__(self, chat: ChatRef | None) -> None:
        self.chat_key = chat.key if chat else None
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(QUEUE_SIZE)
        self.behind = False  # events were lost: the page must reconnect and catch up

    def offer(self, kind: str, data: dict[str, Any]) -> None:
        if self.chat_key is None:
            if kind != "conversa":
                return  # the list needs no transcript lines
        elif f"{data.get('canal')}:{data.get('chat')}" != self.chat_key:
            return
        try:
            self.queue.put_nowait((kind, data))
        except asyncio.QueueFull:
            self.end(behind=True)

    def end(self, behind: bool = False) -> None:
        self.behind = self.behind or behind
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(END)


class LiveHub:
    """One subscription per topic for the whole worker."""

    def __init__(self, store: EphemeralStore) -> None:
        self._store = store
        self._listeners: set[Listener] = set()
        self._pumps: list[asyncio.Task[None]] = []
        self.closing = False

    def start(self) -> None:
        self._pumps = [
            asyncio.create_task(self._pump(CONVERSATIONS_TOPIC, "conversa"), name="live-conv"),
            asyncio.create_task(self._pump(TRANSCRIPTS_TOPIC, "mensagem"), name="live-msg"),
        ]

    async def _pump(self, topic: str, kind: str) -> None:
        while True:
            try:
                async for raw in self._store.subscribe(topic):
                    try:
                        data = json.loads(raw)
                    except ValueError:
                        continue
                    if not isinstance(data, dict):
                        continue
                    for listener in tuple(self._listeners):
                        listener.offer(kind, data)
            except Exception:
                logger.warning("live topic %s lost; subscribing again", topic, exc_info=True)
            # Events may have been missed: every open page reconnects and catches up.
            for listener in tuple(self._listeners):
                listener.end(behind=True)
            await asyncio.sleep(1)

    @contextlib.contextmanager
    def listen(self, chat: ChatRef | None) -> Iterator[Listener]:
        listener = Listener(chat)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    @property
    def open_streams(self) -> int:
        return len(self._listeners)

    def shutting_down(self) -> None:
        self.closing = True
        for listener in tuple(self._listeners):
            listener.end()

    async def close(self) -> None:
        self.shutting_down()
        for task in self._pumps:
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)


HUB = web.AppKey("console_live", LiveHub)


def setup_live(app: web.Application) -> None:
    """The hub starts with the services and stops with them; open streams end at shutdown."""

    async def hub(app: web.Application) -> AsyncIterator[None]:
        app[HUB] = LiveHub(app[SERVICES].store)
        app[HUB].start()
        yield
        await app[HUB].close()

    async def end_streams(app: web.Application) -> None:
        if HUB in app:
            app[HUB].shutting_down()

    app.cleanup_ctx.append(hub)
    app.on_shutdown.append(end_streams)
