"""Every API error is `{"erro": CODE, "mensagem": "<pt-BR>", ...}`; domain errors map here."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handlers.api.jsonio import json_response
from token_core.delivery.contacts import DataMismatch
from token_core.delivery.port import DeliveryFailed
from token_core.errors import (
    BeneficiaryInactive,
    BeneficiaryNotFound,
    ChangeOnlyBySab,
    ChannelUnavailable,
    ContactRequired,
    CpfMismatch,
    DomainError,
    GuideAlreadyValidated,
    GuideConflict,
    GuideNotFound,
    InvalidCpf,
    InvalidEmail,
    InvalidPhone,
    RateLimited,
    Unavailable,
)
from token_core.vocabulary import iso_utc


class ApiError(Exception):
    """Raised by views; the error middleware turns it into the JSON answer."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def response(self) -> web.Response:
        body = {"erro": self.code, "mensagem": self.message, **self.extra}
        headers = {}
        if self.status in (429, 503) and "tentar_apos_segundos" in self.extra:
            headers["Retry-After"] = str(self.extra["tentar_apos_segundos"])
        return json_response(body, status=self.status, headers=headers)


def invalid_request(field: str, reason: str) -> ApiError:
    return ApiError(
        400,
        "REQUISICAO_INVALIDA",
        f"Requisição inválida: {field}: {reason}",
        campo=field,
        motivo=reason,
    )


def unavailable() -> ApiError:
    """503 for an outage: the outcome is unknown to us and the same request is safe to retry."""
    return ApiError(
        503,
        "SERVICO_INDISPONIVEL",
        str(Unavailable()),
        tentar_apos_segundos=Unavailable.RETRY_AFTER_SECONDS,
    )


def from_domain(exc: DomainError) -> ApiError:
    """The HTTP answer for a domain error raised by the core."""
    message = str(exc)
    match exc:
        case GuideNotFound():
            return ApiError(404, "GUIA_NAO_ENCONTRADA", message)
        case BeneficiaryNotFound() | BeneficiaryInactive():
            return ApiError(422, "BENEFICIARIO_INVALIDO", message)
        case GuideAlreadyValidated():
            validated = exc.validated_at
            return ApiError(
                409,
                "GUIA_JA_VALIDADA",
                message,
                validada_em=iso_utc(validated) if validated else None,
            )
        case GuideConflict():
            return ApiError(409, "GUIA_CONFLITANTE", message)
        case DataMismatch() | CpfMismatch() | ChangeOnlyBySab():
            # One answer, one message, whichever datum was wrong: no CPF oracle.
            return ApiError(422, "DADOS_NAO_CONFEREM", str(DataMismatch()))
        case ChannelUnavailable():
            return ApiError(422, "CANAL_INDISPONIVEL", message)
        case ContactRequired():
            return ApiError(422, "CONTATO_OBRIGATORIO", message, campo=exc.field)
        case InvalidCpf():
            return ApiError(422, "DADOS_INVALIDOS", message, campo="cpf")
        case InvalidPhone():
            return ApiError(422, "DADOS_INVALIDOS", message, campo="celular")
        case InvalidEmail():
            return ApiError(422, "DADOS_INVALIDOS", message, campo="email")
        case RateLimited():
            return ApiError(
                429,
                "LIMITE_EXCEDIDO",
                message,
                tentar_apos=iso_utc(exc.retry_at),
                tentar_apos_segundos=exc.retry_after_seconds(),
            )
        case Unavailable():
            return unavailable()
        case DeliveryFailed():
            return ApiError(
                502,
                "FALHA_NO_ENVIO",
                "Não foi possível enviar o novo token; um código enviado antes continua "
                "valendo. Tente novamente ou use outro canal.",
            )
    return ApiError(422, "OPERACAO_RECUSADA", message)
