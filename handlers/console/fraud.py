"""Relatos de fraude: the queue of "não reconheço" reports and their resolution."""

from __future__ import annotations

from aiohttp import web

from handlers.console.render import page


async def queue(request: web.Request) -> web.Response:
    return page(request, "erro.html", status=501, titulo="Em construção", mensagem="Em breve.")
