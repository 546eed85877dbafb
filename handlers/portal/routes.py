"""The reference dentist portal (/portal): the SIO screens in one static page.

The page calls the API like any client would, through the same-origin proxy in `proxy.py`.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from handlers.portal.proxy import is_local, setup_proxy

STATIC = Path(__file__).with_name("static")
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def index(request: web.Request) -> web.StreamResponse:
    if not is_local(request):
        raise web.HTTPForbidden(text="O portal de referência só atende em localhost.")
    return web.FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)


async def to_index(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/portal")


def setup_portal(app: web.Application) -> None:
    app.router.add_get("/portal", index)
    app.router.add_get("/portal/", to_index)
    app.router.add_static("/portal/static", STATIC)
    setup_proxy(app)
