"""Same-origin proxy from the portal page to the signed API, so the browser holds no secret.

Only the four calls the page makes are forwarded. Each is signed with the portal's API client
and sent over HTTP to this server's own socket; the API's status and JSON body come back
unchanged. Everything else under /portal/api/ is a JSON 404.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
import time
import uuid

import aiohttp
from aiohttp import web

from handlers.api.schemas import NUMERO_PATTERN
from handlers.appkeys import HTTP_SESSION, PORTAL_CONFIG, SERVICES
from token_core.access.signing import signed_headers
from token_core.storage.ports import EphemeralStore

logger = logging.getLogger(__name__)

PREFIX = "/portal/api"
_NUMERO = re.compile(NUMERO_PATTERN, re.ASCII)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
_CARTEIRINHA = re.compile(r"[A-Za-z0-9]{1,20}", re.ASCII)
_TIMEOUT = aiohttp.ClientTimeout(total=20)
_MAX_SECONDS_AHEAD = 30
_NO_STORE = {"Cache-Control": "no-store"}


def _error(status: int, code: str, message: str, **extra: str) -> web.Response:
    body = {"erro": code, "mensagem": message, **extra}
    return web.json_response(body, status=status, headers=_NO_STORE)


def _bad_path(field: str, reason: str) -> web.Response:
    return _error(
        400, "REQUISICAO_INVALIDA", f"Requisição inválida: {field}: {reason}", campo=field
    )


def _guide_target(request: web.Request, tail: str = "") -> str | None:
    numero = request.match_info["numero"]
    return f"/api/v1/guias/{numero}{tail}" if _NUMERO.fullmatch(numero) else None


async def get_guide(request: web.Request) -> web.Response:
    target = _guide_target(request)
    if target is None:
        return _bad_path("numero", "até 30 letras, números, '.', '_' ou '-'")
    return await forward(request, "GET", target)


async def get_channels(request: web.Request) -> web.Response:
    carteirinha = request.match_info["carteirinha"]
    if not _CARTEIRINHA.fullmatch(carteirinha):
        return _bad_path("carteirinha", "até 20 letras ou números")
    return await forward(request, "GET", f"/api/v1/beneficiarios/{carteirinha}/canais")


async def post_token(request: web.Request) -> web.Response:
    target = _guide_target(request, "/token")
    if target is None:
        return _bad_path("numero", "até 30 letras, números, '.', '_' ou '-'")
    return await forward(request, "POST", target)


async def post_validation(request: web.Request) -> web.Response:
    target = _guide_target(request, "/validacao")
    if target is None:
        return _bad_path("numero", "até 30 letras, números, '.', '_' ou '-'")
    return await forward(request, "POST", target)


async def not_found(_request: web.Request) -> web.Response:
    return _error(404, "RECURSO_NAO_ENCONTRADO", "Recurso não encontrado.")


def peer_is_loopback(peername: object) -> bool:
    """Whether a socket's peer address (`transport.get_extra_info("peername")`) is this
    machine: 127.0.0.0/8 or ::1, also written as an IPv4-mapped IPv6 address.
    """
    if not isinstance(peername, tuple) or not peername:
        return False
    try:
        address = ipaddress.ip_address(str(peername[0]).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def is_local(request: web.Request) -> bool:
    """The portal has no login: it answers only a browser on this machine (the connection's
    peer address, never a header the caller writes) that names this machine (a rebound DNS
    name or another site's page gets 403).
    """
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not peer_is_loopback(peer) or request.url.host not in LOOPBACK_HOSTS:
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin == f"{request.url.scheme}://{request.url.raw_authority}"


def _own_origin(request: web.Request) -> str | None:
    """The socket this request arrived on: never the Host header, which the caller controls."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not isinstance(sockname, tuple) or len(sockname) < 2:
        return None
    host = str(sockname[0])
    return f"http://[{host}]:{sockname[1]}" if ":" in host else f"http://{host}:{sockname[1]}"


async def _fresh_timestamp(
    store: EphemeralStore, client_id: str, method: str, target: str, body: bytes
) -> int | None:
    """Now, or the next free second: the API accepts a signature once, so the same request twice
    in one second (a double click) needs another timestamp. The shared store makes every worker
    agree on which seconds are taken.
    """
    now = int(time.time())
    digest = hashlib.sha256(f"{method}\n{target}\n".encode() + body).hexdigest()
    for ts in range(now, now + _MAX_SECONDS_AHEAD):
        if await store.set_if_absent(
            f"portal:ts:{client_id}:{ts}:{digest}", uuid.uuid4().hex, ts - now + 2
        ):
            return ts
    return None


async def forward(request: web.Request, method: str, target: str) -> web.Response:
    """Sign `method target` as the portal client, call the API, and return its answer."""
    if not is_local(request):
        return _error(403, "PORTAL_SOMENTE_LOCAL", "O portal de referência só atende em localhost.")
    if method == "POST" and request.content_type != "application/json":
        return _error(415, "TIPO_NAO_SUPORTADO", "Envie o corpo como application/json.")
    body = await request.read() if method == "POST" else b""
    client_id = request.app[PORTAL_CONFIG].client_id
    services = request.app[SERVICES]
    secrets = await services.clients.secrets_for(client_id)
    origin = _own_origin(request)
    if not secrets or origin is None:
        logger.error("portal cannot call the API (client %s, origin %s)", client_id, origin)
        return _error(503, "PORTAL_INDISPONIVEL", "O portal não está configurado para a API.")
    ts = await _fresh_timestamp(services.store, client_id, method, target, body)
    if ts is None:
        return _error(429, "LIMITE_EXCEDIDO", "Muitas requisições iguais. Aguarde um instante.")
    headers = {"Content-Type": "application/json"}
    headers |= signed_headers(client_id, secrets[0], str(ts), method, target, body)
    try:
        async with request.app[HTTP_SESSION].request(
            method, origin + target, data=body, headers=headers, timeout=_TIMEOUT
        ) as answer:
            raw, status, kind = await answer.read(), answer.status, answer.content_type
            retry_after = answer.headers.get("Retry-After")
    except (aiohttp.ClientError, TimeoutError):
        logger.warning("portal call %s %s failed", method, target, exc_info=True)
        return _error(502, "API_INDISPONIVEL", "A API não respondeu. Tente novamente em instantes.")
    if kind != "application/json":
        logger.error("portal call %s %s answered %s %s", method, target, status, kind)
        return _error(502, "API_INDISPONIVEL", "Resposta inesperada da API.")
    headers = _NO_STORE | ({"Retry-After": retry_after} if retry_after else {})
    return web.Response(status=status, body=raw, content_type="application/json", headers=headers)


def setup_proxy(app: web.Application) -> None:
    app.router.add_get(PREFIX + "/guias/{numero}", get_guide, allow_head=False)
    app.router.add_get(
        PREFIX + "/beneficiarios/{carteirinha}/canais", get_channels, allow_head=False
    )
    app.router.add_post(PREFIX + "/guias/{numero}/token", post_token)
    app.router.add_post(PREFIX + "/guias/{numero}/validacao", post_validation)
    app.router.add_route("*", PREFIX + "/{tail:.*}", not_found)
