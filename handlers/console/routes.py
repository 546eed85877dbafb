"""Routes of the support console under /atendimento."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.console import auth, beneficiaries, conversations, fraud, live, overview
from handlers.console.config import CONSOLE_CONFIG, ConsoleConfig
from handlers.console.security import PREFIX, SESSIONS
from handlers.console.sessions import ConsoleSessions

STATIC = Path(__file__).with_name("static")


async def home(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(f"{PREFIX}/conversas")


def setup_console(app: web.Application, config: ConsoleConfig) -> None:
    """Add the console's routes; call `start_console` once the services exist."""
    app[CONSOLE_CONFIG] = config
    r = app.router
    r.add_get(PREFIX, home, allow_head=False)
    r.add_get(f"{PREFIX}/entrar", auth.login_page, allow_head=False)
    r.add_post(f"{PREFIX}/entrar", auth.login)
    r.add_post(f"{PREFIX}/sair", auth.logout)
    r.add_get(f"{PREFIX}/conversas", conversations.listing, allow_head=False)
    r.add_get(f"{PREFIX}/eventos", live.events, allow_head=False)
    chat = f"{PREFIX}/conversas/{{canal}}/{{chat}}"
    r.add_get(chat, conversations.one, allow_head=False)
    r.add_post(f"{chat}/assumir", conversations.take)
    r.add_post(f"{chat}/mensagem", conversations.send)
    r.add_post(f"{chat}/devolver", conversations.give_back)
    # Beneficiários and the SAB actions (handlers/console/beneficiaries.py)
    r.add_get(f"{PREFIX}/beneficiarios", beneficiaries.search, allow_head=False)
    person = f"{PREFIX}/beneficiarios/{{carteirinha}}"
    r.add_get(person, beneficiaries.one, allow_head=False)
    r.add_post(f"{person}/codigo", beneficiaries.phone_code)
    r.add_post(f"{person}/celular", beneficiaries.change_mobile)
    r.add_post(f"{person}/email", beneficiaries.change_email)
    r.add_post(f"{person}/desbloquear-guia", beneficiaries.unlock_guide)
    r.add_post(f"{person}/desbloquear-vinculo", beneficiaries.unlock_linking)
    r.add_post(f"{person}/desvincular", beneficiaries.unlink_chat)
    # Relatos de fraude (handlers/console/fraud.py)
    r.add_get(f"{PREFIX}/fraudes", fraud.queue, allow_head=False)
    r.add_post(f"{PREFIX}/fraudes/{{relato}}/resolver", fraud.resolve)
    # Supervisors (handlers/console/overview.py)
    r.add_get(f"{PREFIX}/painel", overview.dashboard, allow_head=False)
    r.add_get(f"{PREFIX}/auditoria", overview.audit_trail, allow_head=False)
    r.add_static(f"{PREFIX}/static", STATIC)

    async def sessions(app: web.Application):  # type: ignore[no-untyped-def]
        app[SESSIONS] = ConsoleSessions(
            app[SERVICES].store, config.cookie_secret, config.idle_seconds
        )
        yield

    app.cleanup_ctx.append(sessions)
    live.setup_live(app)  # the live stream (handlers/console/live.py)
