"""Conversas: the list (live), one conversation (live transcript, beneficiary panel) and the
hand-off: Assumir, Enviar, Devolver ao bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.chat import texts
from handlers.console.config import AGENT
from handlers.console.render import page
from handlers.console.security import PREFIX
from token_core.chat.conversations import LIVE_TOPIC as CONVERSATIONS_TOPIC
from token_core.chat.conversations import ChatRef, summary
from token_core.chat.transcripts import LIVE_TOPIC as TRANSCRIPTS_TOPIC
from token_core.errors import DomainError
from token_core.persistence.models import TranscriptEntry
from token_core.support import views
from token_core.vocabulary import CHAT_CHANNELS, Channel, ConversationState

STATES = [s.value for s in ConversationState]
_CHAT_ID = re.compile(r"[\w:.@+-]{1,64}", re.ASCII)
KEEPALIVE_SECONDS = 15.0


def chat_of(request: web.Request) -> ChatRef:
    try:
        channel = Channel(request.match_info["canal"])
    except ValueError:
        raise web.HTTPNotFound() from None
    chat_id = request.match_info["chat"]
    if channel not in CHAT_CHANNELS or not _CHAT_ID.fullmatch(chat_id):
        raise web.HTTPNotFound()
    return ChatRef(channel, chat_id)


async def listing(request: web.Request) -> web.Response:
    state = request.query.get("estado", "")
    query = request.query.get("q", "").strip()
    rows = await views.conversations(state if state in STATES else None, query or None)
    return page(
        request,
        "conversas.html",
        conversas=[summary(r) for r in rows],
        estados=STATES,
        estado=state,
        q=query,
    )


async def one(request: web.Request) -> web.Response:
    chat = chat_of(request)
    services = request.app[SERVICES]
    conversation = await services.desk.conversations.get(chat)
    if conversation is None:
        raise web.HTTPNotFound()
    entries = (
        await TranscriptEntry.filter(channel=chat.channel, chat_id=chat.chat_id)
        .order_by("-id")
        .limit(200)
    )
    panel = await views.beneficiary_panel(conversation.beneficiary_id)  # type: ignore[attr-defined]
    return page(
        request,
        "conversa.html",
        conversa=summary(conversation),
        mensagens=list(reversed(entries)),
        painel=panel,
        erro=request.query.get("erro"),
    )


def _back(chat: ChatRef, erro: str | None = None) -> web.HTTPSeeOther:
    url = f"{PREFIX}/conversas/{chat.channel.value}/{chat.chat_id}"
    return web.HTTPSeeOther(f"{url}?erro={erro}" if erro else url)


async def take(request: web.Request) -> web.StreamResponse:
    chat = chat_of(request)
    taken = await request.app[SERVICES].desk.take(request[AGENT], chat)
    raise _back(chat, None if taken else "ocupada")


async def send(request: web.Request) -> web.StreamResponse:
    chat = chat_of(request)
    form = await request.post()
    try:
        await request.app[SERVICES].desk.say(request[AGENT], chat, str(form.get("mensagem", "")))
    except DomainError:
        raise _back(chat, "nao_assumida") from None
    if request.headers.get("X-CSRF-Token"):  # sent by the page's script: no reload needed
        return web.json_response({"ok": True})
    raise _back(chat)


async def give_back(request: web.Request) -> web.StreamResponse:
    chat = chat_of(request)
    await request.app[SERVICES].desk.give_back(request[AGENT], chat, texts.HANDOFF_BACK)
    raise _back(chat)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: conversation changes and new (masked) transcript lines, from every
    worker (the store's publish/subscribe).
    """
    store = request.app[SERVICES].store
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=1000)

    async def pump(topic: str, kind: str) -> None:
        async for message in store.subscribe(topic):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait((kind, message))

    pumps = [
        asyncio.create_task(pump(CONVERSATIONS_TOPIC, "conversa")),
        asyncio.create_task(pump(TRANSCRIPTS_TOPIC, "mensagem")),
    ]
    try:
        await response.write(b": ok\n\n")
        while True:
            try:
                kind, data = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            await response.write(f"event: {kind}\ndata: {data}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
    return response
