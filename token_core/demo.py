"""Demo data for the embedded default: a few beneficiaries and guides awaiting a token.

The CPFs and phones are made up (valid check digits, reserved-looking numbers) and are listed
in the README so a developer can walk the flows by hand. `reset_demo` makes the walk repeatable:
the demo guides await a token again, with no live code, lock or chat link left from before;
no other data is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from token_core import audit
from token_core.chat import links
from token_core.chat.conversations import ChatRef, Conversations
from token_core.codes.single_use import Scope
from token_core.guides.service import GuideDraft, GuideService
from token_core.keyring import Keyring
from token_core.persistence.models import Beneficiary, ChatLink, Guide
from token_core.registry.importer import ImportReport, import_registry
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, Channel, GuideStatus, utc_now

DEMO_REGISTRY = """carteirinha,cpf,nome,celular,email
0001000100010,529.982.247-25,Maria das Graças Souza,(41) 98857-5949,maria.souza@example.com.br
0001000100028,168.995.350-09,João Pedro Albuquerque,(11) 99123-4567,joao.pedro@example.com.br
0001000100036,071.469.870-94,Ana Beatriz Lima,(93) 99559-5999,
0001000100044,390.533.447-05,Carlos Eduardo Nascimento,,carlos.nascimento@example.com.br
"""
DEMO_CARTEIRINHAS = tuple(line.split(",")[0] for line in DEMO_REGISTRY.splitlines()[1:])

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


@dataclass(frozen=True, slots=True)
class DemoReset:
    guides_reopened: int  # demo guides that were VALIDADA or CANCELADA
    links_revoked: int  # chat links of the demo beneficiaries


async def load_demo(
    keyring: Keyring, guides: GuideService, *, reset_store: EphemeralStore | None = None
) -> DemoSummary:
    """Load (or refresh) the demo data; running it twice changes nothing. With `reset_store`,
    then put the demo guides back as new (`reset_demo`)."""
    report = await import_registry(DEMO_REGISTRY.splitlines(), keyring)
    for draft in DEMO_GUIDES:
        existing = await Guide.get_or_none(numero=draft.numero)
        if existing is None:
            await guides.register(draft, actor="demo")
    if reset_store is not None:
        await reset_demo(reset_store)
    return DemoSummary(
        report,
        await Beneficiary.filter(carteirinha__in=DEMO_CARTEIRINHAS).order_by("carteirinha"),
        await Guide.filter(numero__in=[g.numero for g in DEMO_GUIDES])
        .order_by("numero")
        .select_related("beneficiary"),
    )


async def reset_demo(store: EphemeralStore, actor: str = "demo") -> DemoReset:
    """The demo guides back in AGUARDANDO_TOKEN; their live codes revoked (the guide's and the
    beneficiary's "next guide" code), their locks and failure counts lifted, the demo
    beneficiaries' issue limit, chat links and default channel cleared. Nothing else changes.

    The store is the one given: a server running on the in-process store keeps its own until it
    restarts (scripts/run resets at every start).
    """
    numeros = [g.numero for g in DEMO_GUIDES]
    now = utc_now()
    reopened = (
        await Guide.filter(numero__in=numeros)
        .exclude(status=GuideStatus.AWAITING_TOKEN)
        .update(
            status=GuideStatus.AWAITING_TOKEN,
            validated_at=None,
            validation_code=None,
            validated_channel=None,
            cancelled_at=None,
            updated_at=now,
        )
    )
    for draft in DEMO_GUIDES:
        await store.revoke_code(Scope(draft.carteirinha, draft.numero))
        await store.unlock_guide(draft.carteirinha, draft.numero)
        await store.delete(f"fraud:{draft.carteirinha}:{draft.numero}")
    for carteirinha in DEMO_CARTEIRINHAS:
        await store.revoke_code(Scope(carteirinha, None))
        await store.delete(f"rate:issue:{carteirinha}")  # the issue limit's window (store.hit)
        await store.delete(f"fraud:{carteirinha}:*")
    chats = await ChatLink.filter(
        beneficiary__carteirinha__in=DEMO_CARTEIRINHAS, revoked_at=None
    ).values_list("channel", "chat_id")
    revoked = await links.revoke_of_carteirinhas(DEMO_CARTEIRINHAS, now)
    conversations = Conversations(store)
    for channel, chat_id in chats:
        await conversations.close(ChatRef(Channel(str(channel)), str(chat_id)))
    await Beneficiary.filter(carteirinha__in=DEMO_CARTEIRINHAS).update(default_channel=None)
    await audit.For(actor).record(
        AuditKind.DEMO_RESET, guides=numeros, reopened=reopened, links_revoked=revoked
    )
    return DemoReset(reopened, revoked)


async def demo_beneficiaries() -> list[Beneficiary]:
    """The demo beneficiaries as registered now, by carteirinha."""
    return await Beneficiary.filter(carteirinha__in=DEMO_CARTEIRINHAS, active=True).order_by(
        "carteirinha"
    )
