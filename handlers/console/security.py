"""The console's edge: every page needs a signed-in agent (except the login page and the static
files), every state-changing request a CSRF token, and no request may come from another Origin.
Supervisor pages refuse an `atendente` with 403.

Origin: a request that names another origin is refused, whatever its method. A state-changing
request that names none (old browsers, privacy tools) must show a same-origin `Sec-Fetch-Site`
or `Referer`; with neither it is refused too. Behind a proxy that ends TLS, the browser's origin
is `https://` + the same host: that one is ours as well (no header is trusted for it).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from functools import wraps

from aiohttp import web
from aiohttp.typedefs import Handler

from handlers.appkeys import SERVICES
from handlers.console.config import AGENT, CONSOLE_CONFIG, CSRF, SESSION_ID
from handlers.console.render import page
from handlers.console.sessions import COOKIE, ConsoleSessions

PREFIX = "/atendimento"
# Routes anyone may reach, by the resource they resolved to (not by a prefix of the raw path).
PUBLIC = {f"{PREFIX}/entrar", f"{PREFIX}/static"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSIONS = web.AppKey("console_sessions", ConsoleSessions)


def own_origins(request: web.Request) -> set[str]:
    host = request.host.lower()
    return {f"{request.scheme}://{host}", f"https://{host}"}


def _foreign(request: web.Request) -> bool:
    """A request that says it comes from another site (or, changing state, says nothing)."""
    ours = own_origins(request)
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.lower() not in ours
    if request.method in SAFE_METHODS:
        return False
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site != "same-origin"
    referer = request.headers.get("Referer", "").lower()
    return not any(referer.startswith(o + "/") for o in ours)


def _public(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    return resource is not None and resource.canonical in PUBLIC


def forbidden(request: web.Request, message: str) -> web.Response:
    return page(request, "erro.html", status=403, titulo="Acesso negado", mensagem=message)


def _signed_out(request: web.Request) -> web.StreamResponse:
    if request.method in SAFE_METHODS and request.headers.get("Accept") != "text/event-stream":
        response = web.Response(status=303, headers={"Location": f"{PREFIX}/entrar"})
    else:
        response = web.json_response(
            {"erro": "NAO_AUTENTICADO", "mensagem": "Sua sessão expirou. Entre de novo."},
            status=401,
        )
    if COOKIE in request.cookies:
        clear_session_cookie(request, response)
    return response


@web.middleware
async def console_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        return await handler(request)
    if _foreign(request):
        return forbidden(request, "Requisição de outra origem recusada.")
    if _public(request):
        return await handler(request)
    sessions = request.app[SESSIONS]
    loaded = await sessions.load(request.cookies.get(COOKIE))
    if loaded is None:
        return _signed_out(request)
    sid, stored, csrf = loaded
    # The agent as the registry has it now: a disabled agent's session ends at the next
    # request, and a changed role counts at once.
    agent = await request.app[SERVICES].agents.get(stored.login)
    if agent is None:
        await sessions.end(sid)
        return _signed_out(request)
    request[SESSION_ID], request[AGENT], request[CSRF] = sid, agent, csrf
    if request.method not in SAFE_METHODS:
        given = request.headers.get("X-CSRF-Token")
        if given is None:
            form = await request.post()
            given = str(form.get("csrf", ""))
        if not hmac.compare_digest(given.encode("utf-8", "replace"), csrf.encode()):
            return forbidden(request, "Formulário expirado ou inválido. Recarregue a página.")
    return await handler(request)


async def still_signed_in(request: web.Request) -> bool:
    """For a long-lived answer (the live stream): the session and its agent still stand."""
    if not await request.app[SESSIONS].alive(request[SESSION_ID]):
        return False
    return await request.app[SERVICES].agents.get(request[AGENT].login) is not None


class SessionWatch:
    """`await watch.ok()` in a stream's loop: False once Sair or a disabled agent ended its
    session (looked up at most every `every` seconds).
    """

    def __init__(self, request: web.Request, every: float = 2.0) -> None:
        self._request = request
        self._every = every
        self._checked = time.monotonic()

    async def ok(self) -> bool:
        now = time.monotonic()
        if now - self._checked < self._every:
            return True
        self._checked = now
        return await still_signed_in(self._request)


def supervisor_only(
    view: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @wraps(view)
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not request[AGENT].supervisor:
            return forbidden(request, "Esta página é só para supervisores.")
        return await view(request)

    return guarded


def _secure(request: web.Request) -> bool:
    """Served over TLS: here, or at a proxy that says so (a false claim only costs the client
    its own cookie).
    """
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


def set_session_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        path=PREFIX,
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
        max_age=int(request.app[CONSOLE_CONFIG].idle_seconds * 4),
    )


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(
        COOKIE, path=PREFIX, httponly=True, samesite="Strict", secure=_secure(request)
    )
