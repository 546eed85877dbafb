"""Entrar / Sair. A wrong password and an unknown login get the same words; repeated failures
lock the login and the address for a while (counted in the store, on every worker).
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.console.config import CONSOLE_CONFIG, SESSION_ID
from handlers.console.render import page
from handlers.console.security import PREFIX, SESSIONS, set_session_cookie
from handlers.console.sessions import COOKIE
from token_core import audit
from token_core.vocabulary import AuditKind, format_retry, utc_now

WRONG = "Usuário ou senha incorretos."


async def login_page(request: web.Request) -> web.Response:
    return page(request, "entrar.html", erro=None, usuario="")


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    login_name = str(form.get("usuario", "")).strip().lower()[:40]
    password = str(form.get("senha", ""))
    services = request.app[SERVICES]
    config = request.app[CONSOLE_CONFIG]
    address = request.remote or "?"
    by_login = f"console-login:{login_name}"
    by_address = f"console-login-ip:{address}"
    wait = await services.store.blocked(by_login, config.login_max_failures)
    wait = wait or await services.store.blocked(by_address, config.login_max_failures_per_address)
    if wait is not None:
        until = format_retry(utc_now() + timedelta(seconds=wait))
        message = f"Muitas tentativas. Tente de novo após {until}."
        return page(request, "entrar.html", status=429, erro=message, usuario=login_name)
    agent = await services.agents.authenticate(login_name, password) if login_name else None
    if agent is None:
        await services.store.hit(by_login, config.login_max_failures, config.login_lock_seconds)
        await services.store.hit(
            by_address, config.login_max_failures_per_address, config.login_lock_seconds
        )
        await audit.For(f"console:{address}").record(
            AuditKind.AGENT_LOGIN_FAILED, usuario=login_name
        )
        return page(request, "entrar.html", status=401, erro=WRONG, usuario=login_name)
    await services.store.delete(f"rate:{by_login}")
    cookie, _csrf = await request.app[SESSIONS].create(agent)
    await audit.For(agent.actor).record(AuditKind.AGENT_LOGIN)
    response = web.HTTPSeeOther(f"{PREFIX}/conversas")
    set_session_cookie(request, response, cookie)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    await request.app[SESSIONS].end(request[SESSION_ID])
    response = web.HTTPSeeOther(f"{PREFIX}/entrar")
    response.del_cookie(COOKIE, path=PREFIX)
    raise response
