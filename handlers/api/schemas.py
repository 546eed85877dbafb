"""Request and response bodies of the dentist API (pt-BR field names, TISS/PIX style).

The same models validate requests and produce the OpenAPI components.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from handlers.api.typed_forms import CRO_EXAMPLES, UnreadableCro, canonical_cro, without_spaces

# Letters, digits, ".", "_" or "-", but not only dots ("." and ".." are path segments).
NUMERO_PATTERN = r"^(?!\.+$)[A-Za-z0-9._-]{1,30}$"
# The same, as the API reads it in a path: surrounding spaces are ignored.
NUMERO_PATH_PATTERN = r"^ *(?!\.+ *$)[A-Za-z0-9._-]{1,30} *$"
CARTEIRINHA_PATTERN = r"^[0-9A-Za-z.-]{1,20}$"
# As typed: spaces anywhere are ignored (at most 20 characters without them).
CARTEIRINHA_TYPED_PATTERN = r"^[0-9A-Za-z. -]{1,40}$"
CARTEIRINHA_RULE = "até 20 letras, números, '.' ou '-' (espaços são ignorados)"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: object) -> object:
        if isinstance(value, str) and _CONTROL.search(value):
            raise ValueError("caracteres de controle não são aceitos")
        return value


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def typed_carteirinha(value: str) -> str:
    """A carteirinha field as the dentist system sends it, spaces removed."""
    compact = without_spaces(value)
    if not re.fullmatch(CARTEIRINHA_PATTERN, compact):
        raise PydanticCustomError("carteirinha", CARTEIRINHA_RULE)
    return compact


class Dentista(_In):
    nome: str = Field(min_length=1, max_length=200)
    cro: str = Field(
        min_length=1,
        max_length=40,
        description="UF e número do CRO como o dentista escreve ("
        + CRO_EXAMPLES
        + "); guardado e devolvido como UF-número, ex.: PR-12345",
    )

    @field_validator("cro", mode="after")
    @classmethod
    def _canonical_cro(cls, value: str) -> str:
        try:
            return canonical_cro(value)
        except UnreadableCro as exc:
            raise PydanticCustomError("cro", str(exc)) from None


class Procedimento(_In):
    codigo: str = Field(min_length=1, max_length=20)
    descricao: str = Field(min_length=1, max_length=200)


class GuiaIn(_In):
    carteirinha: str = Field(
        pattern=CARTEIRINHA_TYPED_PATTERN,
        description="como na carteirinha; espaços são ignorados, e pontos e hífens quando o "
        "cadastro não os tem (ex.: 0001.0001.0001-0)",
    )
    dentista: Dentista
    clinica: str = Field(default="", max_length=200)
    procedimentos: list[Procedimento] = Field(
        min_length=1, max_length=50, description="ao menos um procedimento"
    )

    @field_validator("carteirinha", mode="after")
    @classmethod
    def _carteirinha(cls, value: str) -> str:
        return typed_carteirinha(value)


class TokenPedidoIn(_In):
    canal: Literal["sms", "email", "telegram", "whatsapp", "sab"] = Field(
        description='"sab": nenhum código é enviado; a resposta traz os telefones do SAB'
    )
    celular: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=254)
    cpf: str | None = Field(default=None, max_length=20)


class ValidacaoIn(_In):
    token: str = Field(min_length=1, max_length=20)


class CancelamentoIn(_In):
    motivo: str = Field(min_length=1, max_length=200)


class TokenAppIn(_In):
    model_config = ConfigDict(regex_engine="python-re")  # the guide number's look-ahead

    canal: Literal["app"] = Field(description="o app da operadora (opção “Gerar Token”)")
    guia: str | None = Field(
        default=None,
        pattern=NUMERO_PATTERN,
        description="uma guia aguardando token do beneficiário; sem ela, a única que aguarda, "
        "ou a próxima que o dentista validar",
    )


class Destino(_Out):
    destino: str


class Sab(_Out):
    telefones: list[str]


Padrao = Literal["sms", "email", "telegram", "whatsapp", "app", "sab"]


class CanaisOut(_Out):
    padrao: Padrao | None
    sms: Destino | None
    email: Destino | None
    telegram: bool
    whatsapp: bool
    sab: Sab


class DentistaOut(_Out):
    nome: str
    cro: str = Field(description="UF-número, ex.: PR-12345")


class GuiaOut(_Out):
    numero: str
    status: Literal["AGUARDANDO_TOKEN", "VALIDADA", "CANCELADA"]
    carteirinha: str
    dentista: DentistaOut
    clinica: str
    procedimentos: list[Procedimento]
    criada_em: datetime
    validada_em: datetime | None
    codigo_validacao: str | None = Field(max_length=10)
    canais: CanaisOut | None = None


class TokenEnviadoOut(_Out):
    canal: Literal["sms", "email", "telegram", "whatsapp"]
    destino: str
    expira_em: datetime


class TokenSabOut(_Out):
    """canal "sab": no code is sent; the beneficiary calls the SAB, which gives it by phone."""

    canal: Literal["sab"]
    telefones: list[str]
    mensagem: str


class GuiaResumo(_Out):
    numero: str
    dentista: DentistaOut
    clinica: str
    procedimentos: list[Procedimento]
    criada_em: datetime


class TokenAppOut(_Out):
    """The one answer that carries a code: to the operator's app, for its beneficiary."""

    canal: Literal["app"]
    token: str
    expira_em: datetime
    guia: GuiaResumo | None = Field(
        description="a guia que o código libera; null: a próxima guia que o dentista validar"
    )
    mensagem: str


class CancelamentoOut(_Out):
    numero: str
    status: Literal["CANCELADA"]
    cancelada_em: datetime


class ValidacaoOut(_Out):
    numero: str
    status: Literal["VALIDADA"]
    validada_em: datetime
    codigo_validacao: str = Field(max_length=10)


class Erro(BaseModel):
    erro: str
    mensagem: str
    model_config = ConfigDict(extra="allow")
