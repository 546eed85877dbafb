"""Reading a request body into a schema, with a 400 that says which field and why."""

from __future__ import annotations

import json
import re
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from handlers.api.errors import invalid_request
from handlers.api.schemas import CARTEIRINHA_PATTERN, CARTEIRINHA_RULE, NUMERO_PATTERN
from handlers.api.typed_forms import without_separators, without_spaces
from token_core.registry import beneficiaries

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
    """The carteirinha in the path, spaces removed (see `known_carteirinha` for the rest)."""
    carteirinha = without_spaces(request.match_info["carteirinha"])
    if not _CARTEIRINHA.fullmatch(carteirinha):
        raise invalid_request("carteirinha", CARTEIRINHA_RULE)
    return carteirinha


async def known_carteirinha(typed: str) -> str:
    """The carteirinha as registered: as typed (spaces already removed) when a beneficiary has
    it, else without dots and hyphens when one has that (`0001.0001.0001-0`), else as typed."""
    if await beneficiaries.by_carteirinha(typed) is not None:
        return typed
    compact = without_separators(typed)
    if compact and compact != typed and await beneficiaries.by_carteirinha(compact) is not None:
        return compact
    return typed


def path_numero(request: web.Request) -> str:
    """The guide number in the path; surrounding spaces are ignored."""
    numero = request.match_info["numero"].strip(" ")
    if not _NUMERO.fullmatch(numero):
        raise invalid_request(
            "numero", "até 30 letras, números, '.', '_' ou '-' (espaços em volta são ignorados)"
        )
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
