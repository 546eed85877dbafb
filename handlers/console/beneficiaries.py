"""Beneficiários: search, a beneficiary's page, and the SAB actions (each with a reason)."""

from __future__ import annotations

from aiohttp import web

from handlers.console.render import page


async def search(request: web.Request) -> web.Response:
    return page(request, "erro.html", status=501, titulo="Em construção", mensagem="Em breve.")
