"""The SAB actions posted from a beneficiary's page. Each needs a Motivo and is audited by
`SabDesk`. Done: back to the page (the URL says only which action). Refused: the page again
with the message beside the form, keeping what was typed except the CPF. The code given by
phone is the answer to its own POST: shown once, never in a URL, a redirect or the session.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.console.beneficiary_page import carteirinha_of, render
from handlers.console.config import AGENT
from handlers.console.security import PREFIX
from token_core.chat.conversations import ChatRef
from token_core.chat.redaction import mask_sensitive
from token_core.errors import DomainError
from token_core.vocabulary import CHAT_CHANNELS, Channel

_CHAT = re.compile(r"(telegram|whatsapp):([\w:.@+-]{1,64})", re.ASCII)
FormData = Mapping[str, object]


def _text(form: FormData, name: str, limit: int = 500) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _chat(form: FormData) -> ChatRef:
    match = _CHAT.fullmatch(_text(form, "chat", 80))
    if match is None or Channel(match[1]) not in CHAT_CHANNELS:
        raise DomainError("Escolha o chat.")
    return ChatRef(Channel(match[1]), match[2])


def _done(carteirinha: str, what: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PREFIX}/beneficiarios/{carteirinha}?feito={what}#feito")


async def _refused(
    request: web.Request, carteirinha: str, action: str, exc: DomainError, form: FormData
) -> web.Response:
    kept = {
        name: mask_sensitive(_text(form, name))
        for name in ("guia", "motivo", "celular", "email", "chat")
    }
    kept["acao"] = action
    return await render(request, carteirinha, status=422, erro=(action, str(exc)), form=kept)


async def phone_code(request: web.Request) -> web.Response:
    """Gerar código por telefone: the answer page is the only place the code ever appears."""
    carteirinha = carteirinha_of(request)
    form = await request.post()
    desk = request.app[SERVICES].desk
    try:
        given = await desk.phone_code(
            request[AGENT],
            carteirinha,
            _text(form, "cpf", 20),
            _text(form, "guia", 30) or None,
            _text(form, "motivo"),
        )
    except DomainError as exc:
        return await _refused(request, carteirinha, "codigo", exc, form)
    issued = given.issued
    code = {"digitos": issued.code.reveal(), "guia": issued.guide, "ate": issued.expires_at}
    return await render(request, carteirinha, codigo=code)


async def change_mobile(request: web.Request) -> web.StreamResponse:
    carteirinha = carteirinha_of(request)
    form = await request.post()
    desk = request.app[SERVICES].desk
    try:
        await desk.change_mobile(
            request[AGENT], carteirinha, _text(form, "celular", 40), _text(form, "motivo")
        )
    except DomainError as exc:
        return await _refused(request, carteirinha, "celular", exc, form)
    raise _done(carteirinha, "celular")


async def change_email(request: web.Request) -> web.StreamResponse:
    carteirinha = carteirinha_of(request)
    form = await request.post()
    desk = request.app[SERVICES].desk
    try:
        await desk.change_email(
            request[AGENT], carteirinha, _text(form, "email", 300), _text(form, "motivo")
        )
    except DomainError as exc:
        return await _refused(request, carteirinha, "email", exc, form)
    raise _done(carteirinha, "email")


async def unlock_guide(request: web.Request) -> web.StreamResponse:
    carteirinha = carteirinha_of(request)
    form = await request.post()
    desk = request.app[SERVICES].desk
    try:
        numero = _text(form, "guia", 30)
        if not numero:
            raise DomainError("Escolha a guia.")
        unlocked = await desk.unlock_guide(
            request[AGENT], numero, _text(form, "motivo"), carteirinha
        )
    except DomainError as exc:
        return await _refused(request, carteirinha, "guia", exc, form)
    raise _done(carteirinha, "guia" if unlocked else "guia-livre")


async def unlock_linking(request: web.Request) -> web.StreamResponse:
    carteirinha = carteirinha_of(request)
    form = await request.post()
    desk = request.app[SERVICES].desk
    try:
        reason = _text(form, "motivo")
        unlocked = await desk.unlock_linking(request[AGENT], _chat(form), reason, carteirinha)
    except DomainError as exc:
        return await _refused(request, carteirinha, "vinculo", exc, form)
    raise _done(carteirinha, "vinculo" if unlocked else "vinculo-livre")


async def unlink_chat(request: web.Request) -> web.StreamResponse:
    carteirinha = carteirinha_of(request)
    form = await request.post()
    desk = request.app[SERVICES].desk
    try:
        reason = _text(form, "motivo")
        done = await desk.unlink_chat(request[AGENT], _chat(form), reason, carteirinha)
    except DomainError as exc:
        return await _refused(request, carteirinha, "desvincular", exc, form)
    raise _done(carteirinha, "desvinculado" if done else "desvinculado-livre")
