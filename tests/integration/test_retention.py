"""Retention: `odontoken purge` removes transcripts, fraud-report notes, audit details and
delivered callback events past their periods; `--dry-run` only counts; the counts are audited;
the embedded server runs it at start-up and daily.

Old data is made as it is in life (rows written through the core), then aged with an UPDATE of
its timestamps. The database is shared with the rest of the run, so each test first purges what
an earlier run left old, then counts exactly what it aged itself.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bot.composition import Services
from bot.purging import purge_once
from tests.conftest import World
from tests.support import backends, refs
from tests.support.server import running_server, server_settings
from tests.support.waiting import wait_until
from token_core import audit, outbox
from token_core.persistence.models import (
    AuditEvent,
    Conversation,
    FraudReport,
    OutboxEvent,
    TranscriptEntry,
)
from token_core.privacy.retention import PurgeCounts, RetentionPeriods, purge, purge_and_record
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, Channel, Direction, EventType, utc_now

PERIODS = RetentionPeriods()  # the defaults of settings.toml
ODONTOKEN = str(Path(sys.executable).parent / "odontoken")


class OldData:
    """One of each kind of row, some past their period and some not."""

    def __init__(self, services: Services, world: World) -> None:
        self.services, self.world = services, world
        self.chat = str(refs.suffix())

    async def make(self) -> None:
        now = utc_now()
        ben = await self.world.beneficiary()
        self.card = ben.carteirinha
        transcripts = self.services.transcripts
        old_chat, new_chat = f"{self.chat}-old", f"{self.chat}-new"
        old = [
            await transcripts.record(
                Channel.TELEGRAM, old_chat, Direction.IN, text, beneficiary_id=ben.id
            )
            for text in ("oi", "meu cpf é 529.982.247-25")
        ]
        self.kept_transcript = await transcripts.record(
            Channel.TELEGRAM, new_chat, Direction.IN, "gerar token", beneficiary_id=ben.id
        )
        await TranscriptEntry.filter(id__in=[t.id for t in old]).update(
            at=now - timedelta(days=181)
        )
        await Conversation.filter(channel=Channel.TELEGRAM, chat_id=old_chat).update(
            last_at=now - timedelta(days=181)
        )

        async def report(resolved_days_ago: int, note: str | None) -> FraudReport:
            return await FraudReport.create(
                beneficiary=ben,
                channel=Channel.TELEGRAM,
                chat_id=new_chat,
                resolved_at=now - timedelta(days=resolved_days_ago),
                outcome="improcedente",
                note=note,
            )

        self.old_report = await report(1826, "Beneficiária confirmou")
        self.noteless = await report(1900, None)
        self.new_report = await report(10, "Em análise")

        trail = audit.For("test", carteirinha=ben.carteirinha)
        aged = [
            await trail.record(AuditKind.SAB_LOOKUP, motivo="Ligou pedindo o token"),
            await trail.record(AuditKind.TOKEN_REJECTED, reason="invalid", failures_left=3),
            await trail.record(AuditKind.CHAT_LINKED),  # no detail: nothing to clear
        ]
        self.aged_audit = [e.id for e in aged]
        self.kept_audit = (await trail.record(AuditKind.SAB_LOOKUP, motivo="Hoje")).id
        await AuditEvent.filter(id__in=self.aged_audit).update(at=now - timedelta(days=1826))

        payload = {"carteirinha": ben.carteirinha, "campo": "celular"}
        delivered = await outbox.enqueue(EventType.CONTACT_CHANGED, payload)
        pending = await outbox.enqueue(EventType.CONTACT_CHANGED, payload)
        self.recent = await outbox.enqueue(EventType.CONTACT_CHANGED, payload)
        await OutboxEvent.filter(id=delivered.id).update(delivered_at=now - timedelta(days=91))
        await OutboxEvent.filter(id=pending.id).update(created_at=now - timedelta(days=91))
        await OutboxEvent.filter(id=self.recent.id).update(delivered_at=now)
        self.delivered, self.pending = delivered.id, pending.id


EXPECTED = PurgeCounts(
    transcripts=2, conversations=1, fraud_notes=1, audit_details=2, delivered_events=1
)


async def test_dry_run_counts_what_is_past_its_period_and_changes_nothing(
    services: Services, world: World
) -> None:
    await purge(PERIODS)  # what earlier runs left old
    data = OldData(services, world)
    await data.make()

    assert await purge(PERIODS, dry_run=True) == EXPECTED
    assert await purge(PERIODS, dry_run=True) == EXPECTED  # and again: nothing went
    assert await TranscriptEntry.filter(chat_id__startswith=data.chat).count() == 3
    assert (await FraudReport.get(id=data.old_report.id)).note == "Beneficiária confirmou"
    assert (await AuditEvent.get(id=data.aged_audit[0])).detail == {
        "motivo": "Ligou pedindo o token"
    }
    assert await OutboxEvent.filter(id=data.delivered).exists()
    await purge(PERIODS)  # leave nothing old behind for the next test


async def test_purge_removes_exactly_that_keeps_the_records_and_audits_the_counts(
    services: Services, world: World
) -> None:
    await purge(PERIODS)
    data = OldData(services, world)
    await data.make()

    counts = await purge_and_record(PERIODS, "test")

    assert counts == EXPECTED
    left = await TranscriptEntry.filter(chat_id__startswith=data.chat).values_list("id", flat=True)
    assert list(left) == [data.kept_transcript.id]
    chats = [c.chat_id for c in await Conversation.filter(chat_id__startswith=data.chat)]
    assert chats == [f"{data.chat}-new"]
    reports = {r.id: r for r in await FraudReport.filter(beneficiary__carteirinha=data.card)}
    assert reports[data.old_report.id].note is None  # the report and its outcome stay
    assert reports[data.old_report.id].outcome == "improcedente"
    assert reports[data.new_report.id].note == "Em análise"
    events = {e.id: e for e in await AuditEvent.filter(carteirinha=data.card)}
    assert [events[i].detail for i in data.aged_audit] == [{}, {}, {}]
    assert [events[i].kind for i in data.aged_audit] == [
        AuditKind.SAB_LOOKUP,
        AuditKind.TOKEN_REJECTED,
        AuditKind.CHAT_LINKED,
    ]
    assert events[data.aged_audit[1]].reason == "invalid"  # only the detail goes
    assert events[data.kept_audit].detail == {"motivo": "Hoje"}
    assert not await OutboxEvent.filter(id=data.delivered).exists()
    assert await OutboxEvent.filter(id__in=[data.pending, data.recent.id]).count() == 2

    recorded = await AuditEvent.filter(kind=AuditKind.PRIVACY_PURGED, actor="test").order_by("-id")
    assert recorded[0].detail == {
        "transcripts": 2,
        "conversations": 1,
        "fraud_notes": 1,
        "audit_details": 2,
        "delivered_events": 1,
        "periods": {
            "transcripts_days": 180,
            "fraud_notes_days": 1825,
            "audit_details_days": 1825,
            "delivered_events_days": 90,
        },
    }
    assert await purge(PERIODS, dry_run=True) == PurgeCounts()  # idempotent


def odontoken(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, on the run's database."""
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("ODONTOKEN_")}
    environ.update(
        ODONTOKEN_APP__DATA_DIR=str(tmp_path),
        ODONTOKEN_DATABASE__URL=database_url,
        ODONTOKEN_SECURITY__PEPPER=backends.TEST_PEPPER,
    )
    return subprocess.run(
        [ODONTOKEN, *args], env=environ, capture_output=True, text=True, timeout=120, check=False
    )


async def test_the_purge_command_prints_counts_per_table_and_dry_run_changes_nothing(
    services: Services, world: World, database: str, tmp_path: Path
) -> None:
    await purge(PERIODS)
    data = OldData(services, world)
    await data.make()

    dry = await asyncio.to_thread(odontoken, database, tmp_path, "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert await purge(PERIODS, dry_run=True) == EXPECTED  # nothing changed
    done = await asyncio.to_thread(odontoken, database, tmp_path, "purge")
    assert done.returncode == 0, done.stderr

    lines = EXPECTED.lines(PERIODS)
    assert dry.stdout.splitlines() == [
        "would remove (dry run, nothing changed):",
        *[f"  {line}" for line in lines],
    ]
    assert done.stdout.splitlines() == [
        "removed:",
        *[f"  {line}" for line in lines],
        "audited as privacy.purged",
    ]
    assert "transcript_entry: 2 rows (older than 180 days)" in dry.stdout
    assert await purge(PERIODS, dry_run=True) == PurgeCounts()
    recorded = await AuditEvent.filter(kind=AuditKind.PRIVACY_PURGED, actor="cli").order_by("-id")
    assert recorded[0].detail["transcripts"] == 2


async def test_a_day_gets_one_pass_whatever_the_workers(
    services: Services, world: World, store: EphemeralStore
) -> None:
    await purge(PERIODS)
    data = OldData(services, world)
    await data.make()

    assert await purge_once(store, PERIODS) is True
    assert await purge_once(store, PERIODS) is False  # another worker, the same day
    assert await purge(PERIODS, dry_run=True) == PurgeCounts()
    recorded = await AuditEvent.filter(kind=AuditKind.PRIVACY_PURGED, actor="system").order_by(
        "-id"
    )
    assert recorded[0].detail["audit_details"] == 2


async def test_the_embedded_server_purges_when_it_starts(
    services: Services, world: World, tmp_path: Path
) -> None:
    await purge(PERIODS)
    data = OldData(services, world)
    await data.make()

    async def purged() -> bool:
        return not await TranscriptEntry.filter(chat_id=f"{data.chat}-old").exists()

    async with running_server(server_settings(tmp_path)):
        await wait_until(purged, within=30)
        assert await purge(PERIODS, dry_run=True) == PurgeCounts()
