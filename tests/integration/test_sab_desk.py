"""The SAB desk without a browser: a code given by phone after the caller's CPF, contact changes
and their effects, unlocks and unlinking, and the reason every action needs.
"""

from __future__ import annotations

import pytest

from bot.composition import Services
from tests.conftest import World
from tests.support import refs
from token_core import audit
from token_core.chat import links
from token_core.chat.conversations import ChatRef
from token_core.codes.validation import ValidationStatus
from token_core.delivery.contacts import ContactRules
from token_core.errors import CpfMismatch, DomainError, InvalidEmail, InvalidPhone, RateLimited
from token_core.keyring import Keyring
from token_core.persistence.models import (
    AuditEvent,
    Beneficiary,
    ChatLink,
    Conversation,
    OutboxEvent,
)
from token_core.registry.identity import Cpf, Mobile
from token_core.storage.ports import EphemeralStore
from token_core.support.agents import SignedIn
from token_core.support.desk import GuideOfAnother, ReasonRequired
from token_core.vocabulary import AgentRole, AuditKind, Channel, EventType, utc_now

REASON = "Beneficiário ligou e confirmou os dados"


@pytest.fixture
def agent() -> SignedIn:
    return SignedIn(f"ana{refs.suffix()}", "Ana Atendente", AgentRole.ATTENDANT)


def other_mobile(current: str | None) -> Mobile:
    while True:
        mobile = Mobile.parse(refs.mobile())
        if mobile.e164 != current:
            return mobile


def wrong_cpf(right: str) -> str:
    while True:
        cpf = refs.cpf()
        if cpf != right:
            return cpf


async def kinds(carteirinha: str) -> list[AuditKind]:
    return [e.kind for e in await audit.trail(carteirinha=carteirinha)]


async def validate(services: Services, numero: str, code: str) -> ValidationStatus:
    return (await services.validator.validate(numero, code, None, "client:sio")).status


async def test_a_code_by_phone_needs_the_callers_cpf_and_validates_the_guide(
    services: Services, world: World, agent: SignedIn
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    guide = await world.guide(ben)
    with pytest.raises(CpfMismatch):
        await services.desk.phone_code(agent, ben.carteirinha, wrong_cpf(cpf), guide.numero, REASON)
    assert AuditKind.TOKEN_ISSUED not in await kinds(ben.carteirinha)

    given = await services.desk.phone_code(
        agent, ben.carteirinha, Cpf.parse(cpf).formatted, guide.numero, REASON
    )
    assert given.issued.guide is not None and given.issued.guide.numero == guide.numero
    assert await validate(services, guide.numero, given.issued.code.reveal()) is (
        ValidationStatus.VALID
    )
    trail = await audit.trail(guide=guide.numero)
    issued = [e for e in trail if e.kind is AuditKind.TOKEN_ISSUED]
    delivered = [e for e in trail if e.kind is AuditKind.TOKEN_DELIVERED]
    assert [(e.actor, e.channel) for e in issued] == [(agent.actor, Channel.SAB)]
    assert [(e.actor, e.channel, e.detail["motivo"]) for e in delivered] == [
        (agent.actor, Channel.SAB, REASON)
    ]
    mismatch = [
        e
        for e in await audit.trail(carteirinha=ben.carteirinha)
        if e.kind is AuditKind.IDENTITY_MISMATCH
    ]
    assert [(e.actor, e.channel) for e in mismatch] == [(agent.actor, Channel.SAB)]
    assert (await Beneficiary.get(id=ben.id)).default_channel is Channel.SAB


async def test_wrong_cpfs_are_counted_with_the_email_path_and_then_even_the_right_one_waits(
    services: Services, world: World, agent: SignedIn, keyring: Keyring, store: EphemeralStore
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    email_path = ContactRules(keyring, store)  # the check the dentist's e-mail request makes
    for _ in range(3):
        with pytest.raises(CpfMismatch):
            await services.desk.phone_code(agent, ben.carteirinha, wrong_cpf(cpf), None, REASON)
    for _ in range(2):
        with pytest.raises(CpfMismatch):
            await email_path.check_cpf(ben, wrong_cpf(cpf), "client:sio", Channel.EMAIL)
    with pytest.raises(RateLimited, match="CPF que não confere"):
        await services.desk.phone_code(agent, ben.carteirinha, cpf, None, REASON)
    assert (await kinds(ben.carteirinha)).count(AuditKind.IDENTITY_MISMATCH) == 6
    assert AuditKind.TOKEN_ISSUED not in await kinds(ben.carteirinha)


async def test_a_guide_of_another_beneficiary_is_refused_and_no_code_is_issued(
    services: Services, world: World, agent: SignedIn
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    someone_elses = await world.guide()
    with pytest.raises(GuideOfAnother, match="não é deste beneficiário"):
        await services.desk.phone_code(agent, ben.carteirinha, cpf, someone_elses.numero, REASON)
    assert AuditKind.TOKEN_ISSUED not in await kinds(ben.carteirinha)
    assert AuditKind.TOKEN_ISSUED not in [
        e.kind for e in await audit.trail(guide=someone_elses.numero)
    ]


async def test_without_a_guide_the_code_is_for_the_next_one(
    services: Services, world: World, agent: SignedIn
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    given = await services.desk.phone_code(agent, ben.carteirinha, cpf, None, REASON)
    assert given.issued.guide is None
    guide = await world.guide(ben)  # registered after the call, as with the app's code
    assert await validate(services, guide.numero, given.issued.code.reveal()) is (
        ValidationStatus.VALID
    )


async def test_a_new_mobile_revokes_chat_links_live_codes_and_a_chat_default(
    services: Services, world: World, agent: SignedIn
) -> None:
    ben = await world.beneficiary()
    guide = await world.guide(ben)
    await links.link(Channel.TELEGRAM, f"tg{refs.suffix()}", ben)
    issued = await services.issuer.for_guide(guide.numero, Channel.TELEGRAM, "chat")
    await Beneficiary.filter(id=ben.id).update(default_channel=Channel.TELEGRAM)
    new = other_mobile(ben.mobile)

    with pytest.raises(InvalidPhone, match="DDD"):
        await services.desk.change_mobile(agent, ben.carteirinha, "3333-4444", REASON)
    with pytest.raises(DomainError, match="já é o celular"):
        await services.desk.change_mobile(agent, ben.carteirinha, ben.mobile or "", REASON)
    typed = f"({new.ddd}) {new.local[:5]}-{new.local[5:]}"
    changed = await services.desk.change_mobile(agent, ben.carteirinha, typed, REASON)

    assert changed == new
    saved = await Beneficiary.get(id=ben.id)
    assert (saved.mobile, saved.email) == (new.e164, ben.email)
    assert saved.default_channel is None
    assert not await ChatLink.filter(beneficiary_id=ben.id, revoked_at=None).exists()
    assert await validate(services, guide.numero, issued.code.reveal()) is not (
        ValidationStatus.VALID
    )
    [event] = [
        e
        for e in await audit.trail(carteirinha=ben.carteirinha)
        if e.kind is AuditKind.CONTACT_CHANGED
    ]
    assert (event.actor, event.channel) == (agent.actor, Channel.SAB)
    assert event.detail == {"motivo": REASON, "campo": "celular", "vinculos_revogados": 1}
    events = await OutboxEvent.filter(event_type=EventType.CONTACT_CHANGED.value)
    [queued] = [e for e in events if e.payload["carteirinha"] == ben.carteirinha]
    assert queued.payload["campo"] == "celular"
    assert new.e164 not in str(queued.payload) and new.local not in str(event.detail)


async def test_a_new_email_keeps_chat_links_and_clears_an_email_default(
    services: Services, world: World, agent: SignedIn
) -> None:
    ben = await world.beneficiary()
    await links.link(Channel.TELEGRAM, f"tg{refs.suffix()}", ben)
    await Beneficiary.filter(id=ben.id).update(default_channel=Channel.EMAIL)
    with pytest.raises(InvalidEmail):
        await services.desk.change_email(agent, ben.carteirinha, "sem-arroba", REASON)
    address = f"Nova.{refs.suffix()}@Exemplo.com.br"
    assert await services.desk.change_email(agent, ben.carteirinha, address, REASON) == (
        address.lower()
    )
    saved = await Beneficiary.get(id=ben.id)
    assert (saved.email, saved.mobile) == (address.lower(), ben.mobile)
    assert saved.default_channel is None
    assert await ChatLink.filter(beneficiary_id=ben.id, revoked_at=None).count() == 1


async def test_every_action_needs_a_reason_and_changes_nothing_without_one(
    services: Services, world: World, agent: SignedIn
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    guide = await world.guide(ben)
    chat = ChatRef(Channel.TELEGRAM, f"tg{refs.suffix()}")
    await links.link(chat.channel, chat.chat_id, ben)
    before = await kinds(ben.carteirinha)
    desk = services.desk
    attempts = [
        desk.phone_code(agent, ben.carteirinha, wrong_cpf(cpf), guide.numero, "ok"),
        desk.change_mobile(agent, ben.carteirinha, refs.mobile(), "    "),
        desk.change_email(agent, ben.carteirinha, "novo@exemplo.com.br", ""),
        desk.unlock_guide(agent, guide.numero, "abc", ben.carteirinha),
        desk.unlock_linking(agent, chat, "1234", ben.carteirinha),
        desk.unlink_chat(agent, chat, " a  b ", ben.carteirinha),
    ]
    for attempt in attempts:
        with pytest.raises(ReasonRequired, match=r"Informe o motivo \(ao menos 5 caracteres\)\."):
            await attempt
    assert await kinds(ben.carteirinha) == before
    saved = await Beneficiary.get(id=ben.id)
    assert (saved.mobile, saved.email) == (ben.mobile, ben.email)
    assert await links.active_for(chat.channel, chat.chat_id) is not None
    with pytest.raises(CpfMismatch):  # the short reasons above counted no CPF
        await desk.phone_code(agent, ben.carteirinha, wrong_cpf(cpf), None, REASON)
    assert (await kinds(ben.carteirinha)).count(AuditKind.IDENTITY_MISMATCH) == 1


async def test_a_locked_guide_is_unlocked_and_then_validates(
    services: Services, world: World, agent: SignedIn
) -> None:
    ben = await world.beneficiary()
    guide = await world.guide(ben)
    code = (await services.issuer.for_guide(guide.numero, Channel.SMS, "test")).code.reveal()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        await validate(services, guide.numero, wrong)
    assert await validate(services, guide.numero, code) is ValidationStatus.GUIDE_LOCKED
    with pytest.raises(GuideOfAnother):
        await services.desk.unlock_guide(agent, guide.numero, REASON, refs.carteirinha())
    assert await services.desk.unlock_guide(agent, guide.numero, REASON, ben.carteirinha)
    assert await validate(services, guide.numero, code) is ValidationStatus.VALID
    [unlocked] = [
        e for e in await audit.trail(guide=guide.numero) if e.kind is AuditKind.GUIDE_UNLOCKED
    ]
    assert unlocked.actor == agent.actor and unlocked.detail["motivo"] == REASON


async def test_a_chat_locked_out_of_linking_is_unlocked(
    services: Services, world: World, agent: SignedIn
) -> None:
    ben = await world.beneficiary()
    chat = ChatRef(Channel.TELEGRAM, f"tg{refs.suffix()}")
    proof = services.linking.phone_proof(other_mobile(ben.mobile))
    for _ in range(3):
        await services.linking.link(chat.channel, chat.chat_id, proof, Cpf.parse(refs.cpf()))
    assert await services.linking.locked_until(chat.channel, chat.chat_id) is not None
    assert await services.desk.unlock_linking(agent, chat, REASON, ben.carteirinha)
    assert await services.linking.locked_until(chat.channel, chat.chat_id) is None
    [event] = [
        e
        for e in await audit.trail(carteirinha=ben.carteirinha)
        if e.kind is AuditKind.CHAT_LINK_UNLOCKED
    ]
    assert (event.actor, event.detail["motivo"], event.detail["chat"]) == (
        agent.actor,
        REASON,
        chat.chat_id,
    )


async def test_unlinking_a_chat_closes_its_conversation(
    services: Services, world: World, agent: SignedIn
) -> None:
    ben = await world.beneficiary()
    chat = ChatRef(Channel.TELEGRAM, f"tg{refs.suffix()}")
    await links.link(chat.channel, chat.chat_id, ben)
    await services.desk.conversations.touch(chat, ben.id, "oi", utc_now())
    with pytest.raises(DomainError, match="outro beneficiário"):
        await services.desk.unlink_chat(
            agent, chat, REASON, (await world.beneficiary()).carteirinha
        )
    assert await services.desk.unlink_chat(agent, chat, REASON, ben.carteirinha)
    assert await links.active_for(chat.channel, chat.chat_id) is None
    conversation = await Conversation.get(channel=chat.channel, chat_id=chat.chat_id)
    assert conversation.state == "encerrada"
    [event] = [
        e
        for e in await AuditEvent.filter(carteirinha=ben.carteirinha, kind=AuditKind.CHAT_UNLINKED)
    ]
    assert (event.actor, event.detail["motivo"]) == (agent.actor, REASON)
    assert not await services.desk.unlink_chat(agent, chat, REASON, ben.carteirinha)
