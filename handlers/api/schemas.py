"""Request and response bodies of the dentist API (pt-BR field names, TISS/PIX style).

The same models validate requests and produce the OpenAPI components.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Letters, digits, ".", "_" or "-", but not only dots ("." and ".." are path segments).
NUMERO_PATTERN = r"^(?!\.+$)[A-Za-z0-9._-]{1,30}$"
CARTEIRINHA_PATTERN = r"^[0-9A-Za-z.-]{1,20}$"
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


class Dentista(_In):
    nome: str = Field(min_length=1, max_length=200)
    cro: str = Field(pattern=r"^[A-Z]{2}-[0-9]{1,8}$", description="UF-número, ex.: SP-12345")


class Procedimento(_In):
    codigo: str = Field(min_length=1, max_length=20)
    descricao: str = Field(min_length=1, max_length=200)


class GuiaIn(_In):
    carteirinha: str = Field(pattern=CARTEIRINHA_PATTERN)
    dentista: Dentista
    clinica: str = Field(default="", max_length=200)
    procedimentos: list[Procedimento] = Field(min_length=1, max_length=50)


class TokenPedidoIn(_In):
    canal: Literal["sms", "email", "telegram", "whatsapp", "sab"] = Field(
        description='"sab": nenhum código é enviado; a resposta traz os telefones do SAB'
    )
    celular: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=254)
    cpf: str | None = Field(default=None, max_length=20)


class ValidacaoIn(_In):
    token: str = Field(min_length=1, max_length=20)


class Destino(_Out):
    destino: str


class Sab(_Out):
    telefones: list[str]


class CanaisOut(_Out):
    padrao: Literal["sms", "email", "telegram", "whatsapp", "app", "sab"] | None
    sms: Destino | None
    email: Destino | None
    telegram: bool
    whatsapp: bool
    sab: Sab


class GuiaOut(_Out):
    numero: str
    status: Literal["AGUARDANDO_TOKEN", "VALIDADA", "CANCELADA"]
    carteirinha: str
    dentista: Dentista
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


class ValidacaoOut(_Out):
    numero: str
    status: Literal["VALIDADA"]
    validada_em: datetime
    codigo_validacao: str = Field(max_length=10)


class Erro(BaseModel):
    erro: str
    mensagem: str
    model_config = ConfigDict(extra="allow")
