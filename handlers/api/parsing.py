"""Reading a request body into a schema, with a 400 that says which field and why."""

from __future__ import annotations

import json
import re
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from handlers.api.errors import invalid_request
from handlers.api.schemas import CARTEIRINHA_PATTERN, NUMERO_PATTERN

_NUMERO = re.compile(NUMERO_PATTERN)
_CARTEIRINHA = re.compile(CARTEIRINHA_PATTERN)
M = TypeVar("M", bound=BaseModel)


async def parse_body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise invalid_request("corpo", "JSON inválido") from None
    if not isinstance(data, dict):
        raise invalid_request("corpo", "esperado um objeto JSON")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "corpo"
        raise invalid_request(field, _reason(first["type"], first.get("msg", ""))) from None


def path_carteirinha(request: web.Request) -> str:
    carteirinha = request.match_info["carteirinha"]
    if not _CARTEIRINHA.fullmatch(carteirinha):
        raise invalid_request("carteirinha", "até 20 letras, números, '.' ou '-'")
    return carteirinha


def path_numero(request: web.Request) -> str:
    numero = request.match_info["numero"]
    if not _NUMERO.fullmatch(numero):
        raise invalid_request("numero", "até 30 letras, números, '.', '_' ou '-'")
    return numero


_REASONS = {
    "missing": "campo obrigatório",
    "extra_forbidden": "campo não esperado",
    "string_type": "deve ser texto",
    "string_too_short": "vazio ou curto demais",
    "string_too_long": "longo demais",
    "string_pattern_mismatch": "formato inválido",
    "value_error": "caracteres de controle não são aceitos",
    "literal_error": "valor não aceito",
    "list_type": "deve ser uma lista",
    "too_short": "poucos itens",
    "too_long": "itens demais",
    "model_type": "deve ser um objeto",
    "dict_type": "deve ser um objeto",
}


def _reason(kind: str, fallback: str) -> str:
    return _REASONS.get(kind, fallback or "valor inválido")
