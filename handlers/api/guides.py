"""Views of the guide resources: register, read, send a code, validate a code, cancel."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from handlers.api.errors import ApiError, invalid_request
from handlers.api.jsonio import json_response
from handlers.api.parsing import known_carteirinha, parse_body, path_numero
from handlers.api.presenters import canais_out, guia_out
from handlers.api.schemas import (
    CancelamentoIn,
    CancelamentoOut,
    GuiaIn,
    TokenEnviadoOut,
    TokenPedidoIn,
    TokenSabOut,
    ValidacaoIn,
    ValidacaoOut,
)
from handlers.appkeys import API_CONFIG, CLIENT_ID, SERVICES
from token_core.codes.validation import ValidationResult, ValidationStatus
from token_core.delivery.sending import SendRequest, reachability
from token_core.errors import GuideAlreadyValidated, GuideConflict
from token_core.guides.service import GuideDraft
from token_core.registry import beneficiaries
from token_core.vocabulary import Channel, GuideStatus, iso_utc


def actor(request: web.Request) -> str:
    return f"client:{request[CLIENT_ID]}"


def client(request: web.Request) -> str:
    """The signed client: its hourly budgets and its own beneficiary-wide failure counter."""
    return request[CLIENT_ID]


async def put_guide(request: web.Request) -> web.Response:
    numero = path_numero(request)
    body = await parse_body(request, GuiaIn)
    services = request.app[SERVICES]
    draft = GuideDraft(
        numero=numero,
        carteirinha=await known_carteirinha(body.carteirinha),
        dentist_name=body.dentista.nome,
        dentist_cro=body.dentista.cro,
        clinic=body.clinica,
        procedures=[p.model_dump() for p in body.procedimentos],
    )
    guide, created = await services.guides.register(draft, actor(request))
    guide = await services.guides.get(guide.numero)
    reach = await reachability(guide.beneficiary, services.sending.channels)
    out = guia_out(guide, canais_out(reach, request.app[API_CONFIG].sab_phones))
    return json_response(out.model_dump(mode="json"), status=201 if created else 200)


async def get_guide(request: web.Request) -> web.Response:
    guide = await request.app[SERVICES].guides.get(path_numero(request))
    return json_response(guia_out(guide).model_dump(mode="json"))


def sab_message(phones: tuple[str, ...]) -> str:
    """The seed's pop-up words for the SAB channel."""
    numbers = " ou ".join([", ".join(phones[:-1]), phones[-1]] if len(phones) > 1 else phones)
    return (
        "O beneficiário deve fazer contato com o SAB - Serviço de Atendimento ao Beneficiário "
        f"nos números {numbers}. Ao ser atendido, deve selecionar a opção 1, confirmar seus "
        "dados e solicitar o token para dar continuidade à liberação do tratamento."
    )


async def _sab(request: web.Request, numero: str) -> web.Response:
    """canal "sab": nothing is sent; the beneficiary calls the SAB, which gives the code by
    phone (only for a guide that awaits one, of an active beneficiary).
    """
    guide = await request.app[SERVICES].guides.get(numero)
    if guide.status is GuideStatus.VALIDATED:
        raise GuideAlreadyValidated(guide.validated_at)
    if guide.status is not GuideStatus.AWAITING_TOKEN:
        raise GuideConflict("Esta guia não está aguardando token.")
    await beneficiaries.active(guide.beneficiary.carteirinha)
    phones = request.app[API_CONFIG].sab_phones
    out = TokenSabOut(canal="sab", telefones=list(phones), mensagem=sab_message(phones))
    return json_response(out.model_dump(mode="json"), status=202)


async def post_token(request: web.Request) -> web.Response:
    numero = path_numero(request)
    body = await parse_body(request, TokenPedidoIn)
    if body.canal == "sab":
        return await _sab(request, numero)
    receipt = await request.app[SERVICES].sending.send(
        SendRequest(numero, Channel(body.canal), body.celular, body.email, body.cpf),
        actor(request),
        client=client(request),
    )
    out = TokenEnviadoOut(
        canal=body.canal, destino=receipt.destination, expira_em=receipt.expires_at
    )
    return json_response(out.model_dump(mode="json"), status=202)


async def post_validation(request: web.Request) -> web.Response:
    numero = path_numero(request)
    body = await parse_body(request, ValidacaoIn)
    validator = request.app[SERVICES].validator
    result = await validator.validate(
        numero, body.token, None, actor(request), client=client(request)
    )
    if result.status is ValidationStatus.VALID:
        assert result.validated_at and result.validation_code
        out = ValidacaoOut(
            numero=numero,
            status="VALIDADA",
            validada_em=result.validated_at,
            codigo_validacao=result.validation_code,
        )
        return json_response(out.model_dump(mode="json"))
    raise validation_error(result, validator.digits)


async def post_cancellation(request: web.Request) -> web.Response:
    """Cancel a guide awaiting a token (its code stops working; `guia.cancelada` goes out).
    Asked again, the same answer: the guide is cancelled already."""
    numero = path_numero(request)
    body = await parse_body(request, CancelamentoIn)
    guides = request.app[SERVICES].guides
    guide = await guides.get(numero)
    if guide.status is not GuideStatus.CANCELLED:
        guide = await guides.cancel(numero, actor(request), body.motivo)
    assert guide.cancelled_at is not None
    out = CancelamentoOut(numero=numero, status="CANCELADA", cancelada_em=guide.cancelled_at)
    return json_response(out.model_dump(mode="json"))


def _iso(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment else None


def validation_error(result: ValidationResult, digits: int) -> ApiError:
    """The answer for each refused validation, as the dentist system expects it."""
    match result.status:
        case ValidationStatus.MALFORMED:
            return invalid_request("token", f"o token tem {digits} dígitos numéricos")
        case ValidationStatus.INVALID:
            return ApiError(
                422,
                "TOKEN_INVALIDO",
                "Token inválido. Confira os números com o beneficiário.",
                tentativas_restantes=result.failures_left,
            )
        case ValidationStatus.EXPIRED:
            return ApiError(
                410, "TOKEN_EXPIRADO", "Este token expirou. Peça um novo código ao beneficiário."
            )
        case ValidationStatus.ALREADY_USED:
            return ApiError(
                409,
                "TOKEN_JA_UTILIZADO",
                "Este token já foi utilizado. Cada código vale uma única vez.",
            )
        case ValidationStatus.ALREADY_VALIDATED:
            return ApiError(
                409,
                "GUIA_JA_VALIDADA",
                "Esta guia já foi validada.",
                validada_em=_iso(result.validated_at),
                codigo_validacao=result.validation_code,
            )
        case ValidationStatus.GUIDE_LOCKED:
            return ApiError(
                423,
                "GUIA_BLOQUEADA",
                "Guia bloqueada por excesso de tentativas. Tente após o horário "
                "indicado ou peça o desbloqueio ao SAB.",
                desbloqueio_em=_iso(result.locked_until),
            )
        case ValidationStatus.NOT_AWAITING:
            return ApiError(409, "GUIA_NAO_AGUARDA_TOKEN", "Esta guia não está aguardando token.")
        case ValidationStatus.GUIDE_NOT_FOUND:
            return ApiError(404, "GUIA_NAO_ENCONTRADA", "Guia não encontrada.")
    raise AssertionError(result.status)
