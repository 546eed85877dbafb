"""The API takes what dentist systems send as people type it: the CRO in its usual forms (kept
as `UF-número`), a carteirinha with dots or spaces, a guide number with spaces around it; and
refuses anything else with a 400 that names the accepted forms.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import World
from tests.support import refs
from tests.support.server import RunningServer
from token_core.persistence.models import Guide

ACCEPTED = [
    ("CRO-PR 12345", "PR-12345"),
    ("CRO/PR 12.345", "PR-12345"),
    ("PR 12345", "PR-12345"),
    ("12345-PR", "PR-12345"),
    ("12345/PR", "PR-12345"),
    ("pr-12345", "PR-12345"),
    ("PR-12345", "PR-12345"),
    ("  cro pr nº 12345 ", "PR-12345"),
    ("CROSP1", "SP-1"),
    ("1.234.567 CRO-DF", "DF-1234567"),
    ("to 00042", "TO-00042"),
]
REFUSED = [
    ("XX-12345", "UF do CRO desconhecida (XX)"),
    ("CRO-ZZ 12345", "UF do CRO desconhecida (ZZ)"),
    ("CRO 12345", "CRO não reconhecido"),
    ("PR", "CRO não reconhecido"),
    ("PR-123456789", "CRO não reconhecido"),
    ("PR 12.3456", "CRO não reconhecido"),
    ("P-R 12345", "CRO não reconhecido"),
    ("12345", "CRO não reconhecido"),
]


def guide_body(carteirinha: str, cro: str = "PR-12345") -> dict[str, Any]:
    return {
        "carteirinha": carteirinha,
        "dentista": {"nome": "Dra. Helena Martins", "cro": cro},
        "procedimentos": [{"codigo": "81000065", "descricao": "Consulta inicial"}],
    }


@pytest.mark.parametrize(("typed", "kept"), ACCEPTED, ids=[typed for typed, _ in ACCEPTED])
async def test_a_cro_as_written_is_accepted_and_kept_as_uf_dash_number(
    server: RunningServer, world: World, typed: str, kept: str
) -> None:
    ben = await world.beneficiary()
    numero = refs.guide_number()
    created = await server.call(
        "PUT", f"/api/v1/guias/{numero}", guide_body(ben.carteirinha, typed)
    )
    assert created.status == 201, created.body
    assert created.body["dentista"]["cro"] == kept
    assert (await Guide.get(numero=numero)).dentist_cro == kept
    read = await server.call("GET", f"/api/v1/guias/{numero}")
    assert read.body["dentista"]["cro"] == kept
    # The canonical form again is the same guide (200), not a conflict.
    same = await server.call("PUT", f"/api/v1/guias/{numero}", guide_body(ben.carteirinha, kept))
    assert same.status == 200, same.body


@pytest.mark.parametrize(("typed", "reason"), REFUSED, ids=[typed for typed, _ in REFUSED])
async def test_anything_else_is_a_400_that_names_the_accepted_forms_and_registers_nothing(
    server: RunningServer, world: World, typed: str, reason: str
) -> None:
    ben = await world.beneficiary()
    numero = refs.guide_number()
    refused = await server.call(
        "PUT", f"/api/v1/guias/{numero}", guide_body(ben.carteirinha, typed)
    )
    assert refused.status == 400
    assert refused.body["erro"] == "REQUISICAO_INVALIDA"
    assert refused.body["campo"] == "dentista.cro"
    assert refused.body["motivo"].startswith(reason)
    for form in ("PR-12345", "CRO-PR 12345", "CRO/PR 12.345", "PR 12345", "12345/PR"):
        assert form in refused.body["motivo"]
    assert await Guide.get_or_none(numero=numero) is None


async def test_a_carteirinha_with_dots_or_spaces_finds_the_beneficiary(
    server: RunningServer, world: World
) -> None:
    ben = await world.beneficiary()
    digits = ben.carteirinha
    dotted = f"{digits[:4]}.{digits[4:8]}.{digits[8:12]}-{digits[12:]}"
    spaced = f" {digits[:4]} {digits[4:8]} {digits[8:]} "
    for typed in (dotted, spaced):
        numero = refs.guide_number()
        created = await server.call("PUT", f"/api/v1/guias/{numero}", guide_body(typed))
        assert created.status == 201, created.body
        assert created.body["carteirinha"] == digits
        channels = await server.call("GET", f"/api/v1/beneficiarios/{quote(typed)}/canais")
        assert channels.status == 200, channels.body
        assert channels.body["sms"]["destino"].startswith("(41) 9****-")


async def test_a_carteirinha_registered_with_dots_keeps_them(
    server: RunningServer, world: World
) -> None:
    ben = await world.beneficiary()
    ben.carteirinha = f"{ben.carteirinha[:8]}.{ben.carteirinha[8:]}"
    await ben.save()
    created = await server.call(
        "PUT", f"/api/v1/guias/{refs.guide_number()}", guide_body(ben.carteirinha)
    )
    assert created.status == 201 and created.body["carteirinha"] == ben.carteirinha


async def test_an_unknown_or_unreadable_carteirinha_is_refused(
    server: RunningServer, world: World
) -> None:
    unknown = await server.call("PUT", f"/api/v1/guias/{refs.guide_number()}", guide_body("9999"))
    assert (unknown.status, unknown.body["erro"]) == (422, "BENEFICIARIO_INVALIDO")
    long = "1" * 21
    refused = await server.call("PUT", f"/api/v1/guias/{refs.guide_number()}", guide_body(long))
    assert (refused.status, refused.body["campo"]) == (400, "carteirinha")
    assert "espaços são ignorados" in refused.body["motivo"]


async def test_a_guide_number_with_spaces_around_it_is_the_same_guide(
    server: RunningServer, world: World
) -> None:
    guide = await world.guide()
    spaced = quote(f"  {guide.numero} ")
    read = await server.call("GET", f"/api/v1/guias/{spaced}")
    assert read.status == 200 and read.body["numero"] == guide.numero
    inner = await server.call("GET", f"/api/v1/guias/{quote('GTO 1')}")
    assert (inner.status, inner.body["campo"]) == (400, "numero")


async def test_a_guide_needs_at_least_one_procedure(server: RunningServer, world: World) -> None:
    ben = await world.beneficiary()
    body = guide_body(ben.carteirinha) | {"procedimentos": []}
    refused = await server.call("PUT", f"/api/v1/guias/{refs.guide_number()}", body)
    assert (refused.status, refused.body["campo"]) == (400, "procedimentos")
