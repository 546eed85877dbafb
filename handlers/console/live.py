"""The console's live parts: server-sent events at /atendimento/eventos, fed by the worker's
live hub (handlers/console/live_hub.py: what any worker handles reaches every console).

The list page gets conversation changes; a conversation page (`?conversa=canal:chat&desde=ID`)
gets that chat's changes and masked transcript lines, first those after `desde` (or the
browser's Last-Event-ID when it reconnects), so nothing said between rendering and connecting
is lost.

A stream ends when its browser goes away (noticed within a second), when the server shuts down
(`on_shutdown`, before aiohttp waits for open requests), when the agent's session ends, or when
it falls behind (its browser reconnects and catches up).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.console.config import AGENT, SESSION_ID
from handlers.console.live_hub import END, HUB, Listener, setup_live
from handlers.console.security import SESSIONS
from token_core.chat.conversations import ChatRef, summary
from token_core.vocabulary import CHAT_CHANNELS, Channel, iso_utc

__all__ = ["events", "parse_chat", "setup_live"]
KEEPALIVE_SECONDS = 15.0
TICK_SECONDS = 1.0
RETRY_MS = 2000
_CHAT_ID = re.compile(r"[\w:.@+-]{1,64}", re.ASCII)


def parse_chat(canal: str, chat_id: str) -> ChatRef | None:
    """A chat named in a URL, or None when it names no chat channel or an odd id."""
    try:
        channel = Channel(canal)
    except ValueError:
        return None
    if channel not in CHAT_CHANNELS or not _CHAT_ID.fullmatch(chat_id):
        return None
    return ChatRef(channel, chat_id)


def _frame(kind: str, data: dict[str, Any]) -> bytes:
    """One event; a transcript line carries its id (the browser's Last-Event-ID)."""
    shown = {k: v for k, v in data.items() if k != "beneficiario_id"}
    head = f"id: {shown['id']}\n" if kind == "mensagem" and "id" in shown else ""
    return f"{head}event: {kind}\ndata: {json.dumps(shown, ensure_ascii=False)}\n\n".encode()


def _after(request: web.Request) -> int:
    """The last transcript line the page has: ?desde=, or Last-Event-ID on a reconnect."""
    seen = 0
    for value in (request.query.get("desde", ""), request.headers.get("Last-Event-ID", "")):
        if value.isdigit() and len(value) < 19:
            seen = max(seen, int(value))
    return seen


async def events(request: web.Request) -> web.StreamResponse:
    chat = None
    if wanted := request.query.get("conversa"):
        canal, _, chat_id = wanted.partition(":")
        if (chat := parse_chat(canal, chat_id)) is None:
            raise web.HTTPNotFound()
    hub = request.app[HUB]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    with hub.listen(chat) as listener:  # before catching up: nothing falls in between
        await response.prepare(request)
        try:
            await response.write(f"retry: {RETRY_MS}\n\n".encode())
            replayed = await _catch_up(request, response, chat) if chat else set()
            await _relay(request, response, listener, replayed)
        except ConnectionResetError:
            return response  # the browser went away mid-write
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


async def _catch_up(request: web.Request, response: web.StreamResponse, chat: ChatRef) -> set[int]:
    """The chat as it is now, and the lines the page has not shown yet."""
    conversations = request.app[SERVICES].desk.conversations
    row = await conversations.get(chat)
    if row is not None:
        await response.write(_frame("conversa", summary(row)))
    sent = set()
    for entry in await conversations.transcript(chat, after_id=_after(request)):
        line = {
            "id": entry.id,
            "em": iso_utc(entry.at),
            "canal": chat.channel.value,
            "chat": chat.chat_id,
            "direcao": entry.direction.value,
            "texto": entry.text,
        }
        await response.write(_frame("mensagem", line))
        sent.add(entry.id)
    return sent


async def _relay(
    request: web.Request, response: web.StreamResponse, listener: Listener, replayed: set[int]
) -> None:
    session = _SessionWatch(request)
    idle = 0.0
    while not request.app[HUB].closing and not listener.behind:
        transport = request.transport
        if transport is None or transport.is_closing():
            return  # the browser went away
        if not await session.ok():  # Sair, or the agent was disabled
            await response.write(b"event: sessao\ndata: {}\n\n")
            return
        try:
            kind, data = await asyncio.wait_for(listener.queue.get(), TICK_SECONDS)
        except TimeoutError:
            idle += TICK_SECONDS
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                await response.write(b": keep-alive\n\n")
            continue
        if (kind, data) == END:
            return
        if kind == "mensagem" and data.get("id") in replayed:
            continue
        await response.write(_frame(kind, data))
        idle = 0.0


class _SessionWatch:
    """`await ok()` before a stream writes: False once Sair or a disabled agent ended the
    session (looked up, without refreshing it, at most every `every` seconds).
    """

    def __init__(self, request: web.Request, every: float = 2.0) -> None:
        self._request = request
        self._every = every
        self._checked = time.monotonic()

    async def ok(self) -> bool:
        if time.monotonic() - self._checked < self._every:
            return True
        self._checked = time.monotonic()
        app = self._request.app
        if not await app[SESSIONS].alive(self._request[SESSION_ID]):
            return False
        return await app[SERVICES].agents.get(self._request[AGENT].login) is not None
