"""Demo data for the embedded default: a few beneficiaries and guides awaiting a token.

The CPFs and phones are made up (valid check digits, reserved-looking numbers) and are listed
in the README so a developer can walk the flows by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from token_core.guides.service import GuideDraft, GuideService
from token_core.keyring import Keyring
from token_core.persistence.models import Beneficiary, Guide
from token_core.registry.importer import ImportReport, import_registry

DEMO_REGISTRY = """carteirinha,cpf,nome,celular,email
0001000100010,529.982.247-25,Maria das Graças Souza,(41) 98857-5949,maria.souza@example.com.br
0001000100028,168.995.350-09,João Pedro Albuquerque,(11) 99123-4567,joao.pedro@example.com.br
0001000100036,071.469.870-94,Ana Beatriz Lima,(93) 99559-5999,
0001000100044,390.533.447-05,Carlos Eduardo Nascimento,,carlos.nascimento@example.com.br
"""

DEMO_GUIDES = [
    GuideDraft(
        "GTO-2026-000101",
        "0001000100010",
        "Dra. Helena Martins",
        "PR-12345",
        "Clínica Sorriso Curitiba",
        [
            {"codigo": "81000065", "descricao": "Consulta odontológica inicial"},
            {"codigo": "84000031", "descricao": "Profilaxia: polimento coronário"},
        ],
    ),
    GuideDraft(
        "GTO-2026-000102",
        "0001000100028",
        "Dr. Rafael Oliveira",
        "SP-67890",
        "OdontoVida Paulista",
        [{"codigo": "85100099", "descricao": "Restauração em resina (1 face)"}],
    ),
    GuideDraft(
        "GTO-2026-000103",
        "0001000100036",
        "Dra. Luiza Carvalho",
        "PA-11223",
        "Clínica Dente Feliz",
        [{"codigo": "82000034", "descricao": "Exodontia simples de permanente"}],
    ),
]


@dataclass(frozen=True, slots=True)
class DemoSummary:
    registry: ImportReport
    beneficiaries: list[Beneficiary]
    guides: list[Guide]


async def load_demo(keyring: Keyring, guides: GuideService) -> DemoSummary:
    """Load (or refresh) the demo data; running it twice changes nothing."""
    report = await import_registry(DEMO_REGISTRY.splitlines(), keyring)
    for draft in DEMO_GUIDES:
        existing = await Guide.get_or_none(numero=draft.numero)
        if existing is None:
            await guides.register(draft, actor="demo")
    carteirinhas = [g.carteirinha for g in DEMO_GUIDES] + ["0001000100044"]
    return DemoSummary(
        report,
        await Beneficiary.filter(carteirinha__in=carteirinhas).order_by("carteirinha"),
        await Guide.filter(numero__in=[g.numero for g in DEMO_GUIDES])
        .order_by("numero")
        .select_related("beneficiary"),
    )
