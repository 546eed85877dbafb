"""Entrar / Sair. A wrong password and an unknown login get the same words, status and work;
repeated failures lock the login and the address for a while (counted in the store, on every
worker), and while locked even the right password waits.

What was typed as the login is never kept as typed (a person may type a CPF there): the
counters use a keyed digest of it and the audit a masked form.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.console.config import CONSOLE_CONFIG, SESSION_ID
from handlers.console.render import page
from handlers.console.security import (
    PREFIX,
    SESSIONS,
    clear_session_cookie,
    set_session_cookie,
)
from handlers.console.sessions import COOKIE
from token_core import audit
from token_core.chat.redaction import mask_sensitive
from token_core.vocabulary import AuditKind, format_retry, utc_now

WRONG = "Usuário ou senha incorretos."
MAX_LOGIN = 40


def _see_other(location: str) -> web.Response:
    """A 303 returned (not raised), so the cookie set on it is certainly sent."""
    return web.Response(status=303, headers={"Location": location})


def _counter(login_name: str) -> str:
    return "console-login:" + hashlib.sha256(login_name.encode()).hexdigest()[:32]


async def login_page(request: web.Request) -> web.Response:
    return page(request, "entrar.html", erro=None, usuario="")


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    login_name = str(form.get("usuario", "")).strip().lower()[:MAX_LOGIN]
    password = str(form.get("senha", ""))[:1024]
    services = request.app[SERVICES]
    config = request.app[CONSOLE_CONFIG]
    address = request.remote or "?"
    by_login = _counter(login_name)
    by_address = f"console-login-ip:{address}"
    wait = await services.store.blocked(by_login, config.login_max_failures)
    wait = wait or await services.store.blocked(by_address, config.login_max_failures_per_address)
    if wait is not None:
        until = format_retry(utc_now() + timedelta(seconds=wait))
        message = f"Muitas tentativas. Tente de novo após {until}."
        return page(request, "entrar.html", status=429, erro=message, usuario=login_name)
    # The same work whether the login exists or not (an unknown one is checked against a dummy
    # hash), and an empty one too.
    agent = await services.agents.authenticate(login_name, password)
    if agent is None:
        await services.store.hit(by_login, config.login_max_failures, config.login_lock_seconds)
        await services.store.hit(
            by_address, config.login_max_failures_per_address, config.login_lock_seconds
        )
        await audit.For(f"console:{address}").record(
            AuditKind.AGENT_LOGIN_FAILED, usuario=mask_sensitive(login_name)
        )
        return page(request, "entrar.html", status=401, erro=WRONG, usuario=login_name)
    await services.store.delete(f"rate:{by_login}")
    sessions = request.app[SESSIONS]
    previous = sessions.session_id(request.cookies.get(COOKIE))
    if previous is not None:  # never carry a session over a sign-in
        await sessions.end(previous)
    cookie, _csrf = await sessions.create(agent)
    await audit.For(agent.actor).record(AuditKind.AGENT_LOGIN)
    response = _see_other(f"{PREFIX}/conversas")
    set_session_cookie(request, response, cookie)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    await request.app[SESSIONS].end(request[SESSION_ID])
    response = _see_other(f"{PREFIX}/entrar")
    clear_session_cookie(request, response)
    return response
