"""The sandbox chat (/sandbox): a web page that talks to the chat dialogue as a demo
beneficiary, through the sandbox channel. Development only; it answers only on localhost.

- `GET /sandbox/api/beneficiarios` — the demo beneficiaries the page lists (those with a mobile:
  choosing one stands for having that phone);
- `POST /sandbox/api/mensagens` — what the person typed (`texto`), pressed (`botao`) or shared
  (`contato`), queued for the dialogue; answers the message id (the page may be told to take it
  away, as a chat app deletes the CPF message);
- `GET /sandbox/api/eventos` — the chat's messages as server-sent events (live.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from handlers.sandbox.access import refuse_unless_local
from handlers.sandbox.live import events, setup_live
from handlers.sandbox.port import SandboxChat
from handlers.sandbox.wiring import SANDBOX_CHAT, ChatGetter, chosen_chat
from token_core.demo import demo_beneficiaries
from token_core.registry.identity import Mobile

STATIC = Path(__file__).with_name("static")
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
MAX_TEXT = 1000
MAX_BUTTON = 64
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"erro": "REQUISICAO_INVALIDA" if status == 400 else "RECUSADO", "mensagem": message},
        status=status,
        headers={"Cache-Control": "no-store"},
        dumps=lambda data: json.dumps(data, ensure_ascii=False),
    )


async def page(request: web.Request) -> web.StreamResponse:
    refuse_unless_local(request)
    return web.FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)


async def to_page(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/sandbox")


async def static_file(request: web.Request) -> web.StreamResponse:
    refuse_unless_local(request)
    name = request.match_info["name"]
    if name not in {"sandbox.js", "sandbox.css"}:
        raise web.HTTPNotFound()
    return web.FileResponse(STATIC / name, headers={"X-Content-Type-Options": "nosniff"})


async def people(request: web.Request) -> web.Response:
    refuse_unless_local(request)
    listed = [
        {
            "carteirinha": b.carteirinha,
            "nome": b.name,
            "celular": Mobile(b.mobile).masked,
        }
        for b in await demo_beneficiaries()
        if b.mobile
    ]
    return web.json_response(
        {"beneficiarios": listed},
        headers={"Cache-Control": "no-store"},
        dumps=lambda data: json.dumps(data, ensure_ascii=False),
    )


async def post_message(request: web.Request) -> web.Response:
    refuse_unless_local(request)
    if request.content_type != "application/json":
        return _error(400, "Envie JSON (Content-Type: application/json).")
    try:
        body: Any = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return _error(400, "JSON inválido.")
    if not isinstance(body, dict):
        return _error(400, "Esperado um objeto JSON.")
    chat = await chosen_chat(request, body.get("beneficiario"), body.get("sessao"))
    if chat is None:
        return _error(400, "Escolha um beneficiário da lista.")
    sent = _what_was_sent(body)
    if isinstance(sent, str):
        return _error(400, sent)
    text, button, contact = sent
    channel = request.app[SANDBOX_CHAT].get()
    message_id = await channel.accept(chat, text=text, button=button, contact=contact)
    return web.json_response({"id": message_id}, status=202, headers={"Cache-Control": "no-store"})


def _what_was_sent(body: dict[str, Any]) -> tuple[str | None, str | None, bool] | str:
    """(text, button, contact), or why the body is refused."""
    text, button, contact = body.get("texto"), body.get("botao"), body.get("contato", False)
    if sum(x not in (None, False) for x in (text, button, contact)) != 1:
        return "Envie uma mensagem, um botão ou o contato."
    if text is not None:
        if not isinstance(text, str) or not text.strip():
            return "Escreva a mensagem."
        if len(text) > MAX_TEXT or _CONTROL.search(text):
            return f"Mensagem longa demais ou com caracteres de controle (até {MAX_TEXT})."
        return text.strip(), None, False
    if button is not None:
        if not isinstance(button, str) or not 0 < len(button) <= MAX_BUTTON:
            return "Botão inválido."
        if _CONTROL.search(button):
            return "Botão inválido."
        return None, button, False
    if contact is not True:
        return "Contato inválido."
    return None, None, True


def setup_sandbox_page(app: web.Application, chat: Callable[[], SandboxChat]) -> None:
    app[SANDBOX_CHAT] = ChatGetter(chat)
    app.router.add_get("/sandbox", page)
    app.router.add_get("/sandbox/", to_page)
    app.router.add_get("/sandbox/static/{name}", static_file)
    app.router.add_get("/sandbox/api/beneficiarios", people)
    app.router.add_post("/sandbox/api/mensagens", post_message)
    app.router.add_get("/sandbox/api/eventos", events)
    setup_live(app)
