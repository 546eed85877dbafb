"""The console's edge: every page needs a signed-in agent (except the login page), every
state-changing request a CSRF token, and no request may come from another Origin.
Supervisor pages refuse an `atendente` with 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import wraps

from aiohttp import web
from aiohttp.typedefs import Handler

from handlers.appkeys import SERVICES
from handlers.console.config import AGENT, CONSOLE_CONFIG, CSRF, SESSION_ID
from handlers.console.render import page
from handlers.console.sessions import COOKIE, ConsoleSessions

PREFIX = "/atendimento"
PUBLIC = {f"{PREFIX}/entrar", f"{PREFIX}/static"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSIONS = web.AppKey("console_sessions", ConsoleSessions)


def own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _foreign(request: web.Request) -> bool:
    """A request that says it comes from another site (or, changing state, says nothing)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin != own_origin(request)
    if request.method in SAFE_METHODS:
        return False
    referer = request.headers.get("Referer", "")
    return not referer.startswith(own_origin(request) + "/")


def forbidden(request: web.Request, message: str) -> web.Response:
    return page(request, "erro.html", status=403, titulo="Acesso negado", mensagem=message)


@web.middleware
async def console_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        return await handler(request)
    if _foreign(request):
        return forbidden(request, "Requisição de outra origem recusada.")
    if any(request.path.startswith(p) for p in PUBLIC):
        return await handler(request)
    loaded = await request.app[SESSIONS].load(request.cookies.get(COOKIE))
    agent = None
    if loaded is not None:
        sid, agent, csrf = loaded
        # A disabled agent's session ends at the next request.
        if await request.app[SERVICES].agents.get(agent.login) is None:
            await request.app[SESSIONS].end(sid)
            agent = None
    if agent is None or loaded is None:
        if request.method in SAFE_METHODS and request.headers.get("Accept") != "text/event-stream":
            raise web.HTTPSeeOther(f"{PREFIX}/entrar")
        return web.json_response(
            {"erro": "NAO_AUTENTICADO", "mensagem": "Sua sessão expirou. Entre de novo."},
            status=401,
        )
    request[SESSION_ID], request[AGENT], request[CSRF] = loaded[0], agent, loaded[2]
    if request.method not in SAFE_METHODS:
        given = request.headers.get("X-CSRF-Token")
        if given is None:
            form = await request.post()
            given = str(form.get("csrf", ""))
        if not hmac.compare_digest(given.encode("utf-8", "replace"), csrf.encode()):
            return forbidden(request, "Formulário expirado ou inválido. Recarregue a página.")
    return await handler(request)


def supervisor_only(
    view: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @wraps(view)
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not request[AGENT].supervisor:
            return forbidden(request, "Esta página é só para supervisores.")
        return await view(request)

    return guarded


def set_session_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        path=PREFIX,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        max_age=int(request.app[CONSOLE_CONFIG].idle_seconds * 4),
    )
