"""The chat dialogue, channel-agnostic: linking by own contact + CPF, "gerar token", the guide
card, "não reconheço", transcripts. Two Dialogue objects over one store stand for two workers.
"""

from __future__ import annotations

import asyncio
import re

from bot.composition import Services
from handlers.chat import texts
from handlers.chat.dialogue import Dialogue
from tests.conftest import World
from tests.support import refs
from token_core import audit
from token_core.chat.messages import Incoming, Reply
from token_core.codes.validation import ValidationStatus
from token_core.persistence.models import Beneficiary, FraudReport, OutboxEvent, TranscriptEntry
from token_core.registry.identity import Cpf
from token_core.vocabulary import AuditKind, Channel, Direction

TG = Channel.TELEGRAM
CODE = re.compile(r"código de segurança: (\d{6})")


class Chat:
    """One person's chat, talking to two workers in turn."""

    def __init__(self, services: Services, phone: str = "(41) 98857-5949") -> None:
        self.workers = [Dialogue(services, 10), Dialogue(services, 10)]
        self.turn = 0
        self.chat_id = refs.suffix()
        self.phone = phone

    async def send(
        self,
        *,
        text: str | None = None,
        contact_phone: str | None = None,
        contact_is_own: bool = False,
        callback_data: str | None = None,
    ) -> Reply:
        self.turn += 1
        msg = Incoming(
            channel=TG,
            chat_id=self.chat_id,
            user_id="u" + self.chat_id,
            text=text,
            contact_phone=contact_phone,
            contact_is_own=contact_is_own,
            callback_data=callback_data,
            message_id=str(self.turn),
        )
        return await self.workers[self.turn % 2].handle(msg)

    async def say(self, text: str) -> Reply:
        return await self.send(text=text)

    async def share_contact(self, own: bool = True) -> Reply:
        return await self.send(contact_phone=self.phone, contact_is_own=own)

    async def link(self, cpf: str) -> Reply:
        await self.say("/start")
        await self.share_contact()
        return await self.say(cpf)


def texts_of(reply: Reply) -> list[str]:
    return [m.text for m in reply.messages]


async def test_a_person_links_with_own_contact_and_cpf_and_the_cpf_message_is_erased(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    chat = Chat(services)
    start = await chat.say("oi")
    assert start.messages[0].ask_contact == texts.SHARE_CONTACT_BUTTON
    asked = await chat.share_contact()
    assert texts_of(asked) == [texts.ASK_CPF]
    linked = await chat.say(Cpf.parse(cpf).formatted)
    assert linked.messages[0].delete_message_id == str(chat.turn)
    assert linked.messages[1].text.startswith(f"Pronto, {ben.name.split()[0]}!")
    assert linked.messages[1].menu == texts.MENU
    assert AuditKind.CHAT_LINKED in [e.kind for e in await audit.trail(carteirinha=ben.carteirinha)]


async def test_the_legacy_eight_digit_form_of_the_phone_links_too(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    chat = Chat(services, phone="+55 41 8857-5949")
    assert texts_of(await chat.link(cpf))[1].startswith("Pronto")


async def test_someone_elses_contact_card_is_refused_kindly(services: Services) -> None:
    chat = Chat(services)
    refused = await chat.share_contact(own=False)
    assert texts_of(refused) == [texts.SHARE_OWN_CONTACT]
    assert refused.messages[0].ask_contact


async def test_unknown_cpf_and_wrong_phone_get_the_same_words(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    unknown = await Chat(services).link(refs.cpf())
    wrong_phone = await Chat(services, phone="(41) 99999-0000").link(cpf)
    assert texts_of(unknown)[1:] == texts_of(wrong_phone)[1:] == [texts.NO_MATCH]


async def test_three_failures_lock_linking_even_for_the_right_cpf(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    chat = Chat(services)
    results = [texts_of(await chat.link(refs.cpf()))[-1] for _ in range(3)]
    assert results[:2] == [texts.NO_MATCH] * 2 and "bloqueado" in results[2]
    after = await chat.link(cpf)
    assert all("bloqueado" in t for t in texts_of(after))
    assert not await Beneficiary.filter(chat_links__chat_id=chat.chat_id).exists()


async def test_an_inactive_beneficiary_is_told_to_call_the_operator(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949", active=False)
    assert texts_of(await Chat(services).link(cpf))[-1] == texts.INACTIVE


async def test_gerar_token_gives_a_card_whose_code_validates_the_waiting_guide(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    guide = await world.guide(ben)
    chat = Chat(services)
    await chat.link(cpf)
    reply = await chat.say("Gerar Token")
    [card] = reply.messages
    code = CODE.search(card.text).group(1)  # type: ignore[union-attr]
    assert guide.numero in card.text and "Dra. Teste" in card.text and "PR-00001" in card.text
    assert "nunca pede" in card.text and "só uma vez" in card.text
    assert card.code is not None and card.code.reveal() == code
    assert [b.label for row in card.buttons for b in row] == [
        texts.COPY_BUTTON,
        texts.NOT_MINE_BUTTON,
    ]
    await chat.workers[0].delivered(card, TG)
    result = await services.validator.validate(guide.numero, code, Channel.SMS, "sio")
    assert result.status is ValidationStatus.VALID
    assert (await Beneficiary.get(id=ben.id)).default_channel is Channel.TELEGRAM


async def test_with_two_guides_waiting_the_person_chooses_one(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    first, second = await world.guide(ben), await world.guide(ben)
    chat = Chat(services)
    await chat.link(cpf)
    choose = await chat.say("código")
    datas = [b.data for row in choose.messages[0].buttons for b in row]
    assert datas == [f"g:{first.numero}", f"g:{second.numero}"]
    card = (await chat.send(callback_data=f"g:{second.numero}")).messages[0]
    code = CODE.search(card.text).group(1)  # type: ignore[union-attr]
    assert (
        await services.validator.validate(first.numero, code, Channel.SMS, "x")
    ).status is ValidationStatus.INVALID
    assert (await services.validator.validate(second.numero, code, Channel.SMS, "x")).ok


async def test_not_mine_revokes_the_code_and_reports_fraud(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    guide = await world.guide(ben)
    chat = Chat(services)
    await chat.link(cpf)
    card = (await chat.say("token")).messages[0]
    reply = await chat.send(callback_data=f"f:{guide.numero}")
    assert reply.messages[0].text == texts.FRAUD_THANKS and reply.notice
    code = card.code.reveal()  # type: ignore[union-attr]
    assert (
        await services.validator.validate(guide.numero, code, Channel.SMS, "x")
    ).status is ValidationStatus.INVALID
    assert await FraudReport.filter(beneficiary_id=ben.id, guide_numero=guide.numero).exists()
    events = await OutboxEvent.filter(event_type="fraude.reportada").order_by("-id").limit(20)
    assert guide.numero in [e.payload["numero"] for e in events]


async def test_transcripts_keep_codes_and_cpfs_masked(services: Services, world: World) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    await world.guide(ben)
    chat = Chat(services)
    await chat.link(cpf)
    code = (await chat.say("token")).messages[0].code.reveal()  # type: ignore[union-attr]
    entries = await TranscriptEntry.filter(chat_id=chat.chat_id).order_by("id")
    text = "\n".join(e.text for e in entries)
    assert cpf not in text and Cpf.parse(cpf).formatted not in text and code not in text
    assert Cpf.parse(cpf).masked in text and "••••••" in text
    assert {e.direction for e in entries} == {Direction.IN, Direction.OUT}


async def test_intents_are_understood_without_case_or_accents(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    chat = Chat(services)
    await chat.link(cpf)
    assert texts_of(await chat.say("MINHAS GUIAS")) == [texts.NO_GUIDES]
    assert texts_of(await chat.say("Atendente")) == [texts.HUMAN]
    assert texts_of(await chat.say("bom dia")) == [texts.HELP]
    unlinked = await chat.say("desvincular")
    assert unlinked.messages[0].ask_contact
    assert texts_of(await chat.say("token"))[0] == texts.WELCOME


async def test_too_many_codes_get_a_friendly_time_to_try_again(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    chat = Chat(services)
    await chat.link(cpf)
    for _ in range(5):
        assert (await chat.say("token")).messages[0].code is not None
    limited = texts_of(await chat.say("token"))[0]
    assert "Tente de novo após" in limited and "horário de Brasília" in limited


async def test_a_forged_button_for_someone_elses_guide_does_nothing(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    other = await world.guide()
    code = (await services.issuer.for_guide(other.numero, Channel.SMS, "sio")).code.reveal()
    chat = Chat(services)
    await chat.link(cpf)
    fraud = await chat.send(callback_data=f"f:{other.numero}")
    chosen = await chat.send(callback_data=f"g:{other.numero}")
    assert texts_of(fraud) == texts_of(chosen) == [texts.GUIDE_GONE]
    assert not await FraudReport.filter(guide_numero=other.numero).exists()
    assert (await services.validator.validate(other.numero, code, Channel.SMS, "x")).ok


async def test_a_cpf_typed_at_the_wrong_time_is_erased_anyway(
    services: Services, world: World
) -> None:
    cpf = refs.cpf()
    await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    early = await Chat(services).say(cpf)
    assert early.messages[0].delete_message_id and texts_of(early)[0] == texts.CPF_DELETED
    chat = Chat(services)
    await chat.link(cpf)
    late = await chat.say(Cpf.parse(cpf).formatted)
    assert late.messages[0].delete_message_id and texts_of(late)[0] == texts.CPF_DELETED


async def test_words_while_the_cpf_is_awaited_are_not_taken_for_a_cpf(
    services: Services,
) -> None:
    chat = Chat(services)
    await chat.share_contact()
    reply = await chat.say("ajuda")
    assert texts_of(reply) == [texts.ASK_CPF] and reply.messages[0].delete_message_id is None


async def test_a_double_tap_on_not_mine_is_one_report(services: Services, world: World) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    guide = await world.guide(ben)
    chat = Chat(services)
    await chat.link(cpf)
    await chat.say("token")
    await asyncio.gather(
        chat.send(callback_data=f"f:{guide.numero}"), chat.send(callback_data=f"f:{guide.numero}")
    )
    assert await FraudReport.filter(beneficiary_id=ben.id).count() == 1
