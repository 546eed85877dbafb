"""Conversas: the list, one conversation (transcript and beneficiary panel) and the hand-off:
Assumir, Enviar, Devolver ao bot. The live updates are in handlers/console/live.py.
"""

from __future__ import annotations

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.chat import texts
from handlers.console.config import AGENT
from handlers.console.live import parse_chat
from handlers.console.render import page
from handlers.console.security import PREFIX
from token_core.chat.conversations import ChatRef, summary
from token_core.errors import DomainError
from token_core.support import views
from token_core.support.desk import NOT_DELIVERED, ChatNotHeld
from token_core.vocabulary import ConversationState

STATES = [s.value for s in ConversationState]
# What the page says after a refused action (?erro=…).
ERRORS = {
    "ocupada": "Outro atendente já assumiu esta conversa.",
    "nao_assumida": "Esta conversa não está com você. Assuma a conversa antes de escrever.",
    "nao_devolvida": "Esta conversa não está com você: só quem a assumiu pode devolvê-la.",
    "vazia": "Escreva a mensagem antes de enviar.",
    "nao_entregue": NOT_DELIVERED,
}


def chat_of(request: web.Request) -> ChatRef:
    chat = parse_chat(request.match_info["canal"], request.match_info["chat"])
    if chat is None:
        raise web.HTTPNotFound()
    return chat


async def listing(request: web.Request) -> web.Response:
    state = request.query.get("estado", "")
    query = request.query.get("q", "").strip()[:40]
    rows = await views.conversations(state if state in STATES else None, query or None)
    return page(
        request,
        "conversas.html",
        conversas=[summary(r) for r in rows],
        estados=STATES,
        estado=state if state in STATES else "",
        q=query,
    )


async def one(request: web.Request) -> web.Response:
    chat = chat_of(request)
    conversations = request.app[SERVICES].desk.conversations
    conversation = await conversations.get(chat)
    if conversation is None:
        raise web.HTTPNotFound()
    entries = await conversations.transcript(chat)
    panel = await views.beneficiary_panel(conversation.beneficiary_id)  # type: ignore[attr-defined]
    return page(
        request,
        "conversa.html",
        conversa=summary(conversation),
        mensagens=entries,
        ultimo=entries[-1].id if entries else 0,
        painel=panel,
        erro=ERRORS.get(request.query.get("erro", "")),
    )


def _back(chat: ChatRef, erro: str | None = None) -> web.HTTPSeeOther:
    url = f"{PREFIX}/conversas/{chat.channel.value}/{chat.chat_id}"
    return web.HTTPSeeOther(f"{url}?erro={erro}" if erro else url)


async def take(request: web.Request) -> web.StreamResponse:
    chat = chat_of(request)
    if await request.app[SERVICES].desk.conversations.get(chat) is None:
        raise web.HTTPNotFound()
    taken = await request.app[SERVICES].desk.take(request[AGENT], chat)
    raise _back(chat, None if taken else "ocupada")


async def send(request: web.Request) -> web.StreamResponse:
    """Enviar: from the page's script (X-CSRF-Token, answers JSON) or a plain form post."""
    chat = chat_of(request)
    form = await request.post()
    text = str(form.get("mensagem", ""))
    erro = None
    if not text.strip():
        erro = "vazia"
    else:
        try:
            await request.app[SERVICES].desk.say(request[AGENT], chat, text)
        except ChatNotHeld:
            erro = "nao_assumida"
        except DomainError:
            erro = "nao_entregue"
    if request.headers.get("X-CSRF-Token"):
        if erro is None:
            return web.json_response({"ok": True})
        return web.json_response({"erro": erro, "mensagem": ERRORS[erro]}, status=409)
    raise _back(chat, erro)


async def give_back(request: web.Request) -> web.StreamResponse:
    chat = chat_of(request)
    back = await request.app[SERVICES].desk.give_back(request[AGENT], chat, texts.HANDOFF_BACK)
    raise _back(chat, None if back else "nao_devolvida")
