"""The API's edge: JSON errors for everything under /api, request signatures, idempotency."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from handlers.api.errors import ApiError, from_domain, unavailable
from handlers.api.roles import CLIENT_ROLE
from handlers.appkeys import API_CONFIG, CLIENT_ID, SERVICES
from token_core.access.signing import (
    CLIENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_matches,
)
from token_core.errors import DomainError
from token_core.faults import is_outage

logger = logging.getLogger(__name__)
API_PREFIX = "/api/"
SIGNED_PREFIX = "/api/v1/"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Answers that say "not now" are not kept for an Idempotency-Key: a retry should try again.
RETRYABLE = {423, 429}
# How long a key stays "in progress" if its worker dies before answering.
PENDING_SECONDS = 60
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,100}", re.ASCII)
_DUMMY_SECRET = ["not-a-client-secret"]
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
# What a signed header may hold: visible ASCII. aiohttp keeps other bytes as lone surrogates
# (surrogateescape), which no store, database or HMAC can take.
_VISIBLE = re.compile(r"[\x21-\x7e]+", re.ASCII)


def error_response(exc: Exception) -> web.Response:
    """The JSON answer for an ApiError or a domain error."""
    if isinstance(exc, DomainError):
        exc = from_domain(exc)
    assert isinstance(exc, ApiError)
    return exc.response()


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    try:
        return await handler(request)
    except (ApiError, DomainError) as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {
            404: "RECURSO_NAO_ENCONTRADO",
            405: "METODO_NAO_PERMITIDO",
            413: "REQUISICAO_GRANDE_DEMAIS",
        }.get(exc.status, "REQUISICAO_INVALIDA")
        return ApiError(exc.status, code, exc.reason).response()
    except Exception as exc:
        if is_outage(exc):
            logger.warning("outage on %s %s: %s", request.method, request.path, type(exc).__name__)
            return unavailable().response()
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return ApiError(
            500, "ERRO_INTERNO", "Erro interno. Tente novamente em instantes."
        ).response()


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "NAO_AUTORIZADO", message)


@web.middleware
async def signatures(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every call under /api/v1/ must be signed by a known client, fresh and not replayed."""
    if not request.path.startswith(SIGNED_PREFIX):
        return await handler(request)
    client_id = request.headers.get(CLIENT_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not client_id or not timestamp or not given:
        raise _unauthorized(
            "Faltam os cabeçalhos de autenticação (cliente, timestamp e assinatura)."
        )
    if not all(_VISIBLE.fullmatch(value) for value in (client_id, timestamp, given)):
        raise _unauthorized(
            "Os cabeçalhos de autenticação aceitam apenas caracteres ASCII visíveis."
        )
    if not _TIMESTAMP.fullmatch(timestamp):
        raise _unauthorized("Timestamp inválido: use segundos Unix.")
    skew = request.app[API_CONFIG].clock_skew_seconds
    if abs(time.time() - int(timestamp)) > skew:
        raise _unauthorized("Timestamp fora da janela permitida: confira o relógio do sistema.")
    services = request.app[SERVICES]
    credentials = await services.clients.credentials_for(client_id[:64])
    secrets = credentials.secrets if credentials else []
    body = await request.read()
    ok = signature_matches(
        secrets or _DUMMY_SECRET, given, timestamp, request.method, request.raw_path, body
    )
    if not (ok and secrets):
        raise _unauthorized("Assinatura inválida ou cliente desconhecido.")
    replay_key = f"replay:{client_id}:{hashlib.sha256(given.encode()).hexdigest()}"
    if not await services.store.set_if_absent(replay_key, uuid.uuid4().hex, 2 * skew):
        raise _unauthorized("Requisição repetida: cada assinatura vale uma única vez.")
    request[CLIENT_ID] = client_id
    if credentials is not None:
        request[CLIENT_ROLE] = credentials.role  # each view says which roles it serves
    return await handler(request)


@web.middleware
async def idempotency(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A POST repeated with the same Idempotency-Key and body gets the first answer again."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if request.method != "POST" or key is None or not request.path.startswith(SIGNED_PREFIX):
        return await handler(request)
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(
            400,
            "REQUISICAO_INVALIDA",
            "Idempotency-Key inválida (1 a 100 caracteres visíveis).",
            campo=IDEMPOTENCY_HEADER,
            motivo="formato inválido",
        )
    services = request.app[SERVICES]
    store = services.store
    ttl = request.app[API_CONFIG].idempotency_seconds
    # Keyed: the body may hold a code or a CPF, so an unkeyed hash would be guessable.
    fingerprint = services.keyring.fingerprint(
        request.raw_path.encode() + b"\n" + await request.read()
    )
    slot = f"idem:{request[CLIENT_ID]}:{hashlib.sha256(key.encode()).hexdigest()}"
    pending = json.dumps(
        {"state": "pending", "fingerprint": fingerprint, "owner": uuid.uuid4().hex}
    )
    if not await store.set_if_absent(slot, pending, min(PENDING_SECONDS, ttl)):
        return await _replay(await store.get(slot), fingerprint)
    try:
        response = await handler(request)
    except (ApiError, DomainError) as exc:
        response = error_response(exc)
    except BaseException:
        await store.delete(slot)
        raise
    assert isinstance(response, web.Response) and isinstance(response.body, bytes)
    if response.status >= 500 or response.status in RETRYABLE:
        await store.delete(slot)  # the same key may try again later
        return response
    done = {
        "state": "done",
        "fingerprint": fingerprint,
        "status": response.status,
        "body": response.body.decode(),
    }
    await store.set(slot, json.dumps(done), ttl)
    return response


async def _replay(saved: str | None, fingerprint: str) -> web.Response:
    if saved is None:
        raise ApiError(409, "IDEMPOTENCIA_EM_ANDAMENTO", "Requisição em andamento; tente de novo.")
    first = json.loads(saved)
    if first["fingerprint"] != fingerprint:
        raise ApiError(
            422, "IDEMPOTENCIA_CONFLITANTE", "Esta Idempotency-Key já foi usada com outro conteúdo."
        )
    if first["state"] != "done":
        raise ApiError(
            409,
            "IDEMPOTENCIA_EM_ANDAMENTO",
            "Requisição com esta Idempotency-Key ainda em andamento.",
        )
    return web.Response(
        status=first["status"],
        body=first["body"].encode(),
        content_type="application/json",
        headers={"Idempotency-Replayed": "true"},
    )
