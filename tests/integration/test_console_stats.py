"""The supervisors' numbers (Painel) and the audit search (Auditoria) from the audit trail, and a
fraud report's resolution (Resolver) as the desk records it.

Rows for the Painel are written at a moment of their own (a day in 2001/2002), so the rest of the
run, sharing the database, does not move the figures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.composition import Services
from handlers.console.svg_chart import TOP, codes_per_day
from tests.conftest import World
from tests.support import refs
from token_core.chat.conversations import ChatRef
from token_core.errors import GuideConflict
from token_core.persistence.models import AuditEvent, FraudReport, OutboxEvent
from token_core.registry.identity import Cpf
from token_core.support import stats
from token_core.support.agents import SignedIn
from token_core.support.desk import ReasonRequired
from token_core.vocabulary import BRASILIA, AgentRole, AuditKind, Channel

SUPERVISOR = SignedIn("sup.stats", "Sônia Supervisora", AgentRole.SUPERVISOR)


async def event(
    kind: AuditKind,
    at: datetime,
    *,
    channel: Channel | None = Channel.SMS,
    guide: str | None = None,
    card: str | None = None,
    **detail: object,
) -> None:
    await AuditEvent.create(
        kind=kind,
        at=at.astimezone(UTC),
        channel=channel,
        guide_numero=guide,
        carteirinha=card,
        actor="test",
        detail=detail,
    )


async def test_codes_are_counted_per_channel_per_brasilia_day() -> None:
    day = datetime(2001, 3, 10, tzinfo=BRASILIA)
    for at, channel in [
        (day.replace(hour=0, minute=30), Channel.SMS),
        (day.replace(hour=9), Channel.SMS),
        (day.replace(hour=23, minute=59), Channel.TELEGRAM),
        # 23:50 of the day before in Brasília is already the 10th in UTC
        (day - timedelta(minutes=10), Channel.SAB),
        (day - timedelta(days=20), Channel.EMAIL),  # out of the 14 days
    ]:
        await event(AuditKind.TOKEN_ISSUED, at, channel=channel)
    await event(AuditKind.TOKEN_REJECTED, day.replace(hour=10))  # not an issue

    numbers = await stats.overview(now=day.replace(hour=23, minute=59, second=30))

    assert len(numbers.days) == 14
    assert numbers.days[-1] == day.date() and numbers.days[0] == day.date() - timedelta(days=13)
    assert numbers.issued[day.date()] == {"sms": 2, "telegram": 1}
    assert numbers.issued[day.date() - timedelta(days=1)] == {"sab": 1}
    assert numbers.issued_total == 4
    assert numbers.channels == ["sms", "telegram", "sab"]


async def test_success_rate_and_median_time_from_issue_to_validation() -> None:
    t0 = datetime(2002, 5, 20, 14, 0, tzinfo=BRASILIA)
    g1, g2, g3, card = refs.guide_number(), refs.guide_number(), refs.guide_number(), "C1"
    # g1: issued twice; the last code before the validation counts (120 s)
    await event(AuditKind.TOKEN_ISSUED, t0, guide=g1, card=card)
    await event(AuditKind.TOKEN_ISSUED, t0 + timedelta(seconds=60), guide=g1, card=card)
    await event(AuditKind.TOKEN_REJECTED, t0 + timedelta(seconds=90), guide=g1, card=card)
    await event(
        AuditKind.TOKEN_VALIDATED, t0 + timedelta(seconds=180), guide=g1, card=card, scope="guide"
    )
    # a code issued after the validation is not paired with it
    await event(AuditKind.TOKEN_ISSUED, t0 + timedelta(seconds=200), guide=g1, card=card)
    # g2: 300 s
    await event(AuditKind.TOKEN_ISSUED, t0, guide=g2, card=card)
    await event(
        AuditKind.TOKEN_VALIDATED, t0 + timedelta(seconds=300), guide=g2, card=card, scope="guide"
    )
    # g3: validated with a code issued "for the next guide" (no guide at issue): 30 s
    await event(AuditKind.TOKEN_ISSUED, t0 + timedelta(seconds=10), card="C2")
    await event(
        AuditKind.TOKEN_VALIDATED,
        t0 + timedelta(seconds=40),
        guide=g3,
        card="C2",
        scope="beneficiary",
    )

    numbers = await stats.overview(now=t0 + timedelta(hours=1))

    assert (numbers.validated, numbers.rejected) == (3, 1)
    assert numbers.success_rate == pytest.approx(0.75)
    assert numbers.paired == 3
    assert numbers.median_seconds == pytest.approx(120)
    assert numbers.issued[t0.date()] == {"sms": 5}


async def test_open_hand_offs_and_fraud_reports_are_counted_and_resolving_one_tells_the_dentist(
    services: Services, world: World
) -> None:
    before = await stats.overview()
    ben = await world.beneficiary()
    guide = await world.guide(ben)
    chat = ChatRef(Channel.TELEGRAM, refs.suffix())
    report = await services.fraud.report(ben, guide.numero, chat.channel, chat.chat_id)
    assert report is not None
    await services.desk.conversations.request_human(ChatRef(Channel.TELEGRAM, refs.suffix()), None)

    during = await stats.overview()
    assert during.open_handoffs == before.open_handoffs + 2
    assert during.open_fraud_reports == before.open_fraud_reports + 1

    with pytest.raises(ReasonRequired):
        await services.desk.resolve_fraud(SUPERVISOR, report.id, "procedente", "nota", "  ")
    assert not await AuditEvent.filter(
        kind=AuditKind.FRAUD_RESOLVED, guide_numero=guide.numero
    ).exists()
    cpf = Cpf.parse(refs.cpf())
    note = f"Ligou do (41) 98857-5949, CPF {cpf.formatted}, código 482913 na mão."
    await services.desk.resolve_fraud(
        SUPERVISOR, report.id, "procedente", note, "Beneficiária confirmou por telefone"
    )
    with pytest.raises(GuideConflict):  # once only
        await services.desk.resolve_fraud(SUPERVISOR, report.id, "improcedente", "", "De novo?")

    stored = await FraudReport.get(id=report.id)
    assert (stored.outcome, stored.resolved_by) == ("procedente", "sup.stats")
    assert stored.note is not None and "5949" in stored.note
    for secret in ("98857-5949", "482913", cpf.formatted, cpf.digits):
        assert secret not in stored.note
    assert cpf.masked in stored.note
    [audited] = await AuditEvent.filter(kind=AuditKind.FRAUD_RESOLVED, guide_numero=guide.numero)
    assert audited.actor == "agent:sup.stats" and audited.channel is Channel.SAB
    assert audited.detail["motivo"] == "Beneficiária confirmou por telefone"
    assert audited.detail["resultado"] == "procedente"
    events = [
        e.payload
        for e in await OutboxEvent.filter(event_type="fraude.resolvida").order_by("-id").limit(50)
        if e.payload["numero"] == guide.numero
    ]
    assert len(events) == 1 and events[0]["resultado"] == "procedente"
    assert events[0]["carteirinha"] == ben.carteirinha
    after = await stats.overview()
    assert after.open_fraud_reports == during.open_fraud_reports - 1
    assert report.id in [r.id for r in await stats.resolved_fraud_reports()]


async def test_the_audit_search_narrows_by_card_guide_and_actor() -> None:
    now = datetime.now(UTC)
    card, other_card, guide = refs.carteirinha(), refs.carteirinha(), refs.guide_number()
    actor = f"agent:ana.{refs.suffix()}"
    await AuditEvent.create(kind=AuditKind.TOKEN_ISSUED, at=now, carteirinha=card, actor="sio")
    await AuditEvent.create(
        kind=AuditKind.GUIDE_UNLOCKED, at=now, carteirinha=card, guide_numero=guide, actor=actor
    )
    await AuditEvent.create(
        kind=AuditKind.TOKEN_ISSUED, at=now, carteirinha=other_card, actor=actor
    )

    by_card = await stats.audit_events(carteirinha=card)
    assert [e.kind for e in by_card] == [AuditKind.GUIDE_UNLOCKED, AuditKind.TOKEN_ISSUED]
    assert [e.carteirinha for e in await stats.audit_events(guide=guide.lower())] == [card]
    by_actor = await stats.audit_events(actor=actor.removeprefix("agent:").upper())
    assert {e.carteirinha for e in by_actor} == {card, other_card}
    assert await stats.audit_events(carteirinha=card, actor="sio", limit=5) != []
    assert len(await stats.audit_events(limit=3)) == 3


def test_the_chart_stacks_each_days_channels_to_scale() -> None:
    days = [date(2001, 3, 9), date(2001, 3, 10)]
    chart = codes_per_day(
        days, {days[0]: {"sms": 3}, days[1]: {"sms": 4, "sab": 6}}, ["sms", "sab"]
    )
    assert [t.label for t in chart.ticks] == ["0", "2", "4", "6", "8", "10"]
    sms_9, sms_10, sab_10 = chart.bars
    assert sms_10.height == pytest.approx(sms_9.height * 4 / 3, abs=0.2)
    assert sab_10.y + sab_10.height == pytest.approx(sms_10.y, abs=0.2)  # stacked on the SMS bar
    assert sab_10.y == pytest.approx(TOP, abs=0.2)  # 10 of 10: the top of the plot
    assert [d.total for d in chart.days] == [3, 10] and not chart.empty
    assert [name for _, name in chart.legend] == ["SMS", "SAB (telefone)"]
    assert codes_per_day(days, {}, []).empty
