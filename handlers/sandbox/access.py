"""The sandbox has no login: it answers only a browser on this machine that names this machine
(the peer address, the Host and, when sent, the Origin all on loopback) — another site's page or
a rebound DNS name gets 403.
"""

from __future__ import annotations

from aiohttp import web

LOOPBACK_PEERS = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def is_local(request: web.Request) -> bool:
    if request.remote not in LOOPBACK_PEERS or request.url.host not in LOOPBACK_HOSTS:
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.raw_authority}"


def refuse_unless_local(request: web.Request) -> None:
    if not is_local(request):
        raise web.HTTPForbidden(text="O sandbox do chat só atende em localhost.")
