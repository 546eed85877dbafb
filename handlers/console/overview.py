"""Painel and Auditoria: for supervisors only."""

from __future__ import annotations

from aiohttp import web

from handlers.console.render import page
from handlers.console.security import supervisor_only


@supervisor_only
async def dashboard(request: web.Request) -> web.StreamResponse:
    return page(request, "erro.html", status=501, titulo="Em construção", mensagem="Em breve.")


@supervisor_only
async def audit_trail(request: web.Request) -> web.StreamResponse:
    return page(request, "erro.html", status=501, titulo="Em construção", mensagem="Em breve.")
