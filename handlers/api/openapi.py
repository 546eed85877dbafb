"""The OpenAPI 3.1 description of the API, built from the same models that validate it."""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from handlers.api import schemas as s
from handlers.api.jsonio import json_response
from token_core.access.signing import CLIENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

_MODELS: list[type[BaseModel]] = [
    s.GuiaIn,
    s.TokenPedidoIn,
    s.ValidacaoIn,
    s.CancelamentoIn,
    s.TokenAppIn,
    s.GuiaOut,
    s.CanaisOut,
    s.TokenEnviadoOut,
    s.TokenSabOut,
    s.ValidacaoOut,
    s.CancelamentoOut,
    s.TokenAppOut,
    s.Erro,
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Requisição inválida (campo e motivo)",
        401: "Não autorizado",
        403: "Papel do cliente não permitido nesta chamada",
        404: "Não encontrado",
        409: "Conflito",
        410: "Token expirado",
        413: "Corpo grande demais",
        422: "Recusado pela regra de negócio",
        423: "Guia bloqueada",
        429: "Limite excedido",
        502: "Falha no envio",
    }
    base = (400, 401, 403, 413)
    return {str(code): _json("Erro", text[code]) for code in sorted({*base, *statuses})}


_NUMERO = {
    "name": "numero",
    "in": "path",
    "required": True,
    "description": "o número da guia; espaços em volta são ignorados",
    "schema": {"type": "string", "pattern": s.NUMERO_PATH_PATTERN},
}
_CARTEIRINHA = {
    "name": "carteirinha",
    "in": "path",
    "required": True,
    "description": "espaços são ignorados; pontos e hífens também, quando o cadastro não os tem",
    "schema": {"type": "string", "pattern": s.CARTEIRINHA_TYPED_PATTERN},
}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": "^[!-~]{1,100}$"},
}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


@cache
def build_spec() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "validation") for m in _MODELS], ref_template="#/components/schemas/{model}"
    )
    paths = {
        "/api/v1/guias/{numero}": {
            "parameters": [_NUMERO],
            "put": {
                "summary": "Registra a guia (AGUARDANDO_TOKEN)",
                "operationId": "registrarGuia",
                "requestBody": _body("GuiaIn"),
                "responses": {
                    "201": _json("GuiaOut", "Guia registrada"),
                    "200": _json("GuiaOut", "Mesma guia, já registrada"),
                    **_errors(409, 422),
                },
            },
            "get": {
                "summary": "Consulta a guia",
                "operationId": "consultarGuia",
                "responses": {"200": _json("GuiaOut", "A guia"), **_errors(404)},
            },
        },
        "/api/v1/guias/{numero}/token": {
            "parameters": [_NUMERO],
            "post": {
                "summary": "Envia um token ao beneficiário",
                "operationId": "enviarToken",
                "parameters": [_IDEMPOTENCY],
                "requestBody": _body("TokenPedidoIn"),
                "responses": {
                    "202": {
                        "description": "Token enviado; com canal sab, os telefones do SAB "
                        "(nenhum código é enviado)",
                        "content": {
                            "application/json": {
                                "schema": {"oneOf": [_ref("TokenEnviadoOut"), _ref("TokenSabOut")]}
                            }
                        },
                    },
                    **_errors(404, 409, 422, 429, 502),
                },
            },
        },
        "/api/v1/guias/{numero}/validacao": {
            "parameters": [_NUMERO],
            "post": {
                "summary": "Valida o token informado pelo beneficiário",
                "operationId": "validarToken",
                "parameters": [_IDEMPOTENCY],
                "requestBody": _body("ValidacaoIn"),
                "responses": {
                    "200": _json("ValidacaoOut", "Guia VALIDADA"),
                    **_errors(404, 409, 410, 422, 423, 429),
                },
            },
        },
        "/api/v1/guias/{numero}/cancelamento": {
            "parameters": [_NUMERO],
            "post": {
                "summary": "Cancela a guia aguardando token (o código dela deixa de valer)",
                "operationId": "cancelarGuia",
                "parameters": [_IDEMPOTENCY],
                "requestBody": _body("CancelamentoIn"),
                "responses": {
                    "200": _json("CancelamentoOut", "Guia CANCELADA (também se já estava)"),
                    **_errors(404, 409, 422),
                },
            },
        },
        "/api/v1/beneficiarios/{carteirinha}/canais": {
            "parameters": [_CARTEIRINHA],
            "get": {
                "summary": "Canais que alcançam o beneficiário",
                "operationId": "canais",
                "responses": {"200": _json("CanaisOut", "Canais"), **_errors(404)},
            },
        },
        "/api/v1/beneficiarios/{carteirinha}/token": {
            "parameters": [_CARTEIRINHA],
            "post": {
                "summary": "Gera um token para o beneficiário logado no app (papel app)",
                "description": "A única resposta que traz o código. Só para clientes com papel "
                "app; não aceita Idempotency-Key.",
                "operationId": "gerarTokenApp",
                "requestBody": _body("TokenAppIn"),
                "responses": {
                    "201": _json("TokenAppOut", "O código, o que ele libera e até quando"),
                    **_errors(404, 409, 422, 429),
                },
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "odontoken — API do sistema do dentista", "version": "1"},
        "servers": [{"url": "/"}],
        "security": [{"cliente": [], "timestamp": [], "assinatura": []}],
        "paths": paths,
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {
                "cliente": {"type": "apiKey", "in": "header", "name": CLIENT_HEADER},
                "timestamp": {"type": "apiKey", "in": "header", "name": TIMESTAMP_HEADER},
                "assinatura": {
                    "type": "apiKey",
                    "in": "header",
                    "name": SIGNATURE_HEADER,
                    "description": "sha256=HMAC-SHA256(segredo, timestamp\\nMÉTODO\\n"
                    "caminho?consulta\\ncorpo) em hexadecimal",
                },
            },
        },
    }


async def openapi_json(_request: web.Request) -> web.Response:
    return json_response(build_spec())
