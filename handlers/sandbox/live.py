"""The sandbox chat's messages as server-sent events (`GET /sandbox/api/eventos`).

On connecting, the stream subscribes to the chat's live topic and waits until its own echo comes
back (the subscription is then surely active), sends what the chat said before as the masked
transcript (`historico`), then `pronto` (the page may send from then on), then each message as
the channel publishes it. A stream ends when its browser goes away (noticed within a second) or
when the server shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.sandbox.access import refuse_unless_local
from handlers.sandbox.wiring import SANDBOX_CHAT, chosen_chat
from token_core.chat.conversations import ChatRef
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import Channel, Direction, iso_utc

TICK_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
ECHO_EVERY_SECONDS = 0.05
ECHO_WITHIN_SECONDS = 5.0
QUEUE_SIZE = 200


class _Streams:
    """The open streams of this worker, each ended by setting its event."""

    def __init__(self) -> None:
        self.open: set[asyncio.Event] = set()


STREAMS = web.AppKey("sandbox_streams", _Streams)
_SSE_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
}


def _frame(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    refuse_unless_local(request)
    chat = await chosen_chat(
        request, request.query.get("beneficiario"), request.query.get("sessao")
    )
    if chat is None:
        raise web.HTTPBadRequest(text="Escolha um beneficiário da lista.")
    store = request.app[SERVICES].store
    topic = request.app[SANDBOX_CHAT].get().topic(chat)
    closing = asyncio.Event()
    request.app[STREAMS].open.add(closing)
    queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
    pump = asyncio.create_task(_pump(store.subscribe(topic), queue), name="sandbox-stream")
    response = web.StreamResponse(headers=_SSE_HEADERS)
    try:
        await response.prepare(request)
        await response.write(b"retry: 2000\n\n")
        if not await _subscribed(store, topic, queue):
            return response  # the page reconnects
        await _history(request, response, chat)
        await response.write(_frame({"tipo": "pronto"}))
        await _relay(request, response, queue, closing)
    except ConnectionResetError:
        return response  # the browser went away mid-write
    finally:
        request.app[STREAMS].open.discard(closing)
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


async def _pump(messages: AsyncIterator[str], queue: asyncio.Queue[str]) -> None:
    async for message in messages:
        try:
            queue.put_nowait(message)
        except asyncio.QueueFull:  # the page fell behind: end its stream (it reconnects)
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()
            queue.put_nowait("")
            return


async def _subscribed(store: EphemeralStore, topic: str, queue: asyncio.Queue[str]) -> bool:
    """Publish an echo until it comes back: from then on nothing published is missed."""
    nonce = uuid.uuid4().hex
    echo = json.dumps({"tipo": "eco", "eco": nonce})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ECHO_WITHIN_SECONDS
    while loop.time() < deadline:
        await store.publish(topic, echo)
        try:
            while True:
                message = await asyncio.wait_for(queue.get(), ECHO_EVERY_SECONDS)
                if message == echo:
                    return True
        except TimeoutError:
            continue
    return False


async def _history(request: web.Request, response: web.StreamResponse, chat: str) -> None:
    """The chat's masked transcript: what was said before this page connected."""
    conversations = request.app[SERVICES].transcripts.conversations
    for entry in await conversations.transcript(ChatRef(Channel.SANDBOX, chat)):
        if entry.direction is Direction.IN and entry.text.startswith("[botão "):
            continue  # a button press, not something the person wrote
        line = {
            "tipo": "historico",
            "direcao": entry.direction.value,
            "texto": entry.text,
            "em": iso_utc(entry.at),
        }
        await response.write(_frame(line))


async def _relay(
    request: web.Request,
    response: web.StreamResponse,
    queue: asyncio.Queue[str],
    closing: asyncio.Event,
) -> None:
    idle = 0.0
    while not closing.is_set():
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        try:
            message = await asyncio.wait_for(queue.get(), TICK_SECONDS)
        except TimeoutError:
            idle += TICK_SECONDS
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                await response.write(b": keep-alive\n\n")
            continue
        if not message:
            return  # fell behind: the page reconnects and reads the transcript
        data = json.loads(message)
        if data.get("tipo") == "eco":
            continue  # another page's subscription check
        await response.write(_frame(data))
        idle = 0.0


def setup_live(app: web.Application) -> None:
    """Streams end before aiohttp waits for open requests at shutdown."""
    app[STREAMS] = _Streams()

    async def end_streams(app: web.Application) -> None:
        for closing in list(app[STREAMS].open):
            closing.set()

    app.on_shutdown.append(end_streams)
