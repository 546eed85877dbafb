"""A person's requests (LGPD art. 18): export everything held about them, then erase it. After
the erasure the leak search (the whole database dump and the ephemeral store) finds nothing of
the person: no name, CPF, mobile, e-mail or chat id, and the card only on their registry row,
which the guides still point to; the audit trail reads as one pseudonymous person.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.composition import Services
from tests.conftest import World
from tests.support import backends, refs
from token_core import audit
from token_core.chat import links
from token_core.codes.validation import ValidationStatus
from token_core.keyring import Keyring
from token_core.persistence.models import (
    AuditEvent,
    Beneficiary,
    ChatLink,
    FraudReport,
    Guide,
    TranscriptEntry,
)
from token_core.privacy import erasure, subject
from token_core.registry.beneficiaries import find_by_cpf
from token_core.registry.identity import Cpf, Mobile, mask_email
from token_core.storage.memory import InProcessStore
from token_core.storage.ports import EphemeralStore
from token_core.storage.redis_store import RedisStore
from token_core.vocabulary import AuditKind, Channel, Direction

ODONTOKEN = str(Path(sys.executable).parent / "odontoken")
TG = Channel.TELEGRAM


@dataclass
class Person:
    ben: Beneficiary
    cpf: Cpf
    mobile: Mobile
    guide: Guide
    chat: str

    @property
    def card(self) -> str:
        return self.ben.carteirinha

    def traces(self) -> dict[str, str]:
        """What must not be found anywhere once the person is erased (the card aside)."""
        return {
            "name": self.ben.name,
            "CPF digits": self.cpf.digits,
            "CPF formatted": self.cpf.formatted,
            "CPF masked": self.cpf.masked,
            "mobile": self.mobile.e164,
            "mobile digits": self.mobile.e164[3:],
            "e-mail": str(self.ben.email),
            "chat id": self.chat,
        }


async def a_person_who_used_everything(services: Services, keyring: Keyring) -> Person:
    """A beneficiary who chatted (before and after linking), got a code, had a wrong one typed,
    said "não reconheço", whose hand-off expired and who typed a wrong CPF on the e-mail path."""
    tail = refs.suffix()
    cpf, mobile = Cpf.parse(refs.cpf()), Mobile.parse(refs.mobile())
    ben = await Beneficiary.create(
        carteirinha=refs.carteirinha(),
        cpf_hash=keyring.cpf_lookup(cpf.digits),
        cpf_masked=cpf.masked,
        name=f"Quitéria Albuquerque {tail}",
        mobile=mobile.e164,
        email=f"quiteria.{tail}@example.com.br",
        mobile_source="registry",
        email_source="registry",
    )
    guide = await World(services, keyring).guide(ben)
    chat = str(random.SystemRandom().randrange(10**11, 10**12))  # not the reseeded global one
    actor = f"chat:{TG.value}:{chat}"
    record = services.transcripts.record
    await record(TG, chat, Direction.IN, "/start")
    await record(TG, chat, Direction.IN, cpf.formatted)
    await links.link(TG, chat, ben)
    await audit.For(actor, carteirinha=ben.carteirinha, channel=TG).record(AuditKind.CHAT_LINKED)
    await record(TG, chat, Direction.OUT, f"Pronto, {ben.name.split()[0]}!", beneficiary_id=ben.id)
    issued = await services.issuer.for_guide(guide.numero, TG, actor=actor)
    await services.issuer.record_delivery(issued, TG, actor=actor)
    wrong = "000000" if issued.code.reveal() != "000000" else "111111"
    result = await services.validator.validate(guide.numero, wrong, Channel.SMS, "sio")
    assert result.status is ValidationStatus.INVALID
    report = await services.fraud.report(ben, guide.numero, TG, chat)
    assert report is not None
    await FraudReport.filter(id=report.id).update(
        note=f"Falei com {ben.name} pelo telefone",
        outcome="procedente",
        resolved_at=datetime.now(UTC),
    )
    await audit.For("system", channel=TG).record(AuditKind.HANDOFF_EXPIRED, chat=chat)
    await services.store.hit(f"cpf-mismatch:{ben.carteirinha}", 5, 3600)
    await services.store.set(f"dialogue:{TG.value}:{chat}", '{"step": "menu"}', 600)
    await ben.refresh_from_db()
    return Person(ben, cpf, mobile, guide, chat)


async def store_text(store: EphemeralStore) -> str:
    if isinstance(store, RedisStore):
        return repr(await backends.redis_dump(store.prefix))
    assert isinstance(store, InProcessStore)
    return repr(store.snapshot())


async def test_export_holds_everything_about_the_person_with_contacts_masked_by_default(
    services: Services, keyring: Keyring
) -> None:
    person = await a_person_who_used_everything(services, keyring)

    data = await subject.export(person.card)
    full = await subject.export(person.card, full_contacts=True)

    assert data is not None and full is not None
    assert data["cadastro"] | {"criado_em": None, "atualizado_em": None} == {
        "nome": person.ben.name,
        "cpf": person.cpf.masked,
        "celular": person.mobile.masked,
        "celular_origem": "registry",
        "email": mask_email(str(person.ben.email)),
        "email_origem": "registry",
        "ativo": True,
        "canal_padrao": "telegram",
        "criado_em": None,
        "atualizado_em": None,
    }
    assert (full["cadastro"]["celular"], full["cadastro"]["email"]) == (
        person.mobile.e164,
        person.ben.email,
    )
    assert [link["chat"] for link in data["vinculos_chat"]] == [person.chat]
    assert [g["numero"] for g in data["guias"]] == [person.guide.numero]
    kinds = {e["tipo"] for e in data["auditoria"]}
    assert {"chat.linked", "token.issued", "token.rejected", "fraud.reported"} <= kinds
    assert "chat.handoff_expired" in kinds  # found by the chat in its detail
    texts = [t["texto"] for t in data["transcricoes"]]
    assert texts[:2] == ["/start", person.cpf.masked]  # before linking, as stored (masked)
    assert [r["nota"] for r in data["relatos_fraude"]] == [
        f"Falei com {person.ben.name} pelo telefone"
    ]
    assert [c["chat"] for c in data["conversas"]] == [person.chat]
    assert [e["tipo"] for e in data["eventos_enviados"]] == ["fraude.reportada"]
    assert person.cpf.digits not in json.dumps(data) and person.mobile.e164 not in json.dumps(data)
    assert await subject.export("NAO-EXISTE") is None


async def test_erase_leaves_nothing_of_the_person_but_guides_and_a_pseudonymous_trail(
    services: Services, keyring: Keyring, database: str
) -> None:
    person = await a_person_who_used_everything(services, keyring)
    trail_before = await AuditEvent.filter(carteirinha=person.card).count()

    done = await erasure.erase(person.card, keyring, services.store, "test")

    assert done is not None
    alias = erasure.pseudonym(keyring, person.card)
    assert done.pseudonym == alias and len(alias) <= 20
    assert (done.chat_links, done.transcripts, done.conversations) == (1, 3, 1)
    ben = await Beneficiary.get(id=person.ben.id)
    assert (ben.name, ben.cpf_masked, ben.mobile, ben.email, ben.active) == (
        "Titular removido",
        "***.***.***-**",
        None,
        None,
        False,
    )
    assert await find_by_cpf(keyring, person.cpf) == []  # the CPF no longer finds the row
    assert not await ChatLink.filter(beneficiary_id=ben.id).exists()
    assert not await TranscriptEntry.filter(chat_id=person.chat).exists()
    assert await Guide.filter(id=person.guide.id, beneficiary_id=ben.id).exists()
    trail = await AuditEvent.filter(carteirinha=alias).order_by("id")
    assert len(trail) == trail_before + 1  # one person still, and the erasure itself
    assert trail[-1].kind is AuditKind.SUBJECT_ERASED and trail[-1].actor == "test"
    chat_alias = erasure.pseudonym(keyring, f"{TG.value}:{person.chat}")
    assert f"chat:{TG.value}:{chat_alias}" in {e.actor for e in trail}
    [report] = await FraudReport.filter(beneficiary_id=ben.id)
    assert report.note is None
    assert (report.chat_id, report.outcome) == (chat_alias, "procedente")
    [sent] = await subject.events_naming(alias)
    assert (sent.event_type, sent.payload["destino"]) == ("fraude.reportada", None)

    db_text = await backends.database_dump(database)
    kept = await store_text(services.store)
    for what, value in person.traces().items():
        assert value not in db_text, f"{what} found in the database"
        assert value not in kept, f"{what} found in the ephemeral store"
    with_card = [line for line in db_text.splitlines() if person.card in line]
    assert len(with_card) == 1 and "Titular removido" in with_card[0]  # the registry row
    assert person.card not in kept
    assert alias in db_text

    again = await erasure.erase(person.card, keyring, services.store, "test")
    assert again is not None and (again.chat_links, again.transcripts) == (0, 0)  # idempotent


def odontoken(
    database_url: str, store: EphemeralStore, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """The installed command on the run's database (and, on production, the test's Redis)."""
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("ODONTOKEN_")}
    environ.update(
        ODONTOKEN_APP__DATA_DIR=str(tmp_path),
        ODONTOKEN_DATABASE__URL=database_url,
        ODONTOKEN_SECURITY__PEPPER=backends.TEST_PEPPER,
    )
    if isinstance(store, RedisStore):
        environ.update(
            ODONTOKEN_REDIS__URL=backends.REDIS_URL, ODONTOKEN_REDIS__PREFIX=store.prefix
        )
    return subprocess.run(
        [ODONTOKEN, *args], env=environ, capture_output=True, text=True, timeout=120, check=False
    )


async def test_the_commands_export_masked_and_erase_only_when_confirmed(
    services: Services, keyring: Keyring, database: str, tmp_path: Path
) -> None:
    person = await a_person_who_used_everything(services, keyring)

    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(odontoken, database, services.store, tmp_path, *args)

    masked = await run("beneficiaries", "export", person.card)
    complete = await run("beneficiaries", "export", person.card, "--completo")
    dry = await run("beneficiaries", "erase", person.card)

    assert (masked.returncode, complete.returncode, dry.returncode) == (0, 0, 0), masked.stderr
    assert json.loads(masked.stdout)["cadastro"]["celular"] == person.mobile.masked
    assert "--completo" in masked.stderr
    assert json.loads(complete.stdout)["cadastro"]["celular"] == person.mobile.e164
    assert dry.stdout.splitlines()[0] == (
        f"would erase {person.card} (nothing changed; run again with --confirmar):"
    )
    assert "  transcript_entry: 3 rows deleted" in dry.stdout.splitlines()
    assert (await Beneficiary.get(id=person.ben.id)).name == person.ben.name  # unchanged
    exported = await AuditEvent.filter(carteirinha=person.card, kind=AuditKind.SUBJECT_EXPORTED)
    assert [e.detail for e in exported] == [
        {"contatos_completos": False},
        {"contatos_completos": True},
    ]

    erased = await run("beneficiaries", "erase", person.card, "--confirmar")

    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.splitlines()[0] == f"erased {person.card}:"
    assert (await Beneficiary.get(id=person.ben.id)).name == "Titular removido"
    after = await run("beneficiaries", "export", person.card)
    assert json.loads(after.stdout)["transcricoes"] == []
    if isinstance(services.store, RedisStore):  # the command reached the same Redis
        assert person.card not in await store_text(services.store)
    unknown = await run("beneficiaries", "erase", "NAO-EXISTE", "--confirmar")
    assert unknown.returncode == 2 and "no beneficiary" in unknown.stderr
