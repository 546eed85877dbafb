"""The hand-off between the bot and the SAB, through the console's own HTTP (no browser) and a
Telegram user on the Bot API peer: one chat, one agent; only the holder writes; an untaken
hand-off goes back to the bot; a fraud report waits for an agent; the list filters and searches.
The live stream and what it shows: tests/integration/test_console_live_stream.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from handlers.chat import texts
from tests.conftest import World
from tests.e2e.test_telegram import TelegramChat
from tests.peers.telegram_api import TelegramApi
from tests.support import refs
from tests.support.console import new_agent
from tests.support.console_chat import ConsoleAgent, chat_path, telegram_server
from tests.support.server import RunningServer
from tests.support.waiting import wait_until
from token_core import audit
from token_core.persistence.models import (
    AuditEvent,
    Beneficiary,
    Conversation,
    FraudReport,
    Guide,
    TranscriptEntry,
)
from token_core.registry.identity import Cpf, Mobile
from token_core.vocabulary import AuditKind

TAKEN_BY_ANOTHER = "Outro atendente já assumiu esta conversa."
NOT_YOURS = "Esta conversa não está com você"


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramApi]:
    async with TelegramApi() as peer:
        yield peer


@pytest.fixture
async def server(tmp_path: Path, telegram: TelegramApi) -> AsyncIterator[RunningServer]:
    async with telegram_server(tmp_path, telegram) as running:
        yield running


@pytest.fixture
async def agents(server: RunningServer) -> AsyncIterator[list[ConsoleAgent]]:
    """Two signed-in atendentes."""
    signed_in = []
    for name in ("Ana Atendente", "Bruno Atendente"):
        agent = ConsoleAgent(server)
        await agent.sign_in(*await new_agent(server, name=name))
        signed_in.append(agent)
    yield signed_in
    for agent in signed_in:
        await agent.close()


@dataclass
class Linked:
    chat: TelegramChat
    person: Beneficiary
    cpf: Cpf
    mobile: Mobile
    guide: Guide


async def linked_chat(server: RunningServer, peer: TelegramApi, world: World) -> Linked:
    """A beneficiary with a guide waiting for a code, whose Telegram chat is linked."""
    cpf, mobile = Cpf.parse(refs.cpf()), Mobile.parse(refs.mobile())
    person = await world.beneficiary(cpf=cpf.digits, mobile=mobile.e164)
    guide = await world.guide(person)
    chat = TelegramChat(server, peer)
    linked = await chat.link(cpf.formatted, mobile.e164)
    assert linked[-1]["text"].startswith("Pronto,")
    return Linked(chat, person, cpf, mobile, guide)


async def heard(chat: TelegramChat, text: str) -> bool:
    """The server has the beneficiary's message (the dialogue has it from then on)."""
    return await TranscriptEntry.exists(chat_id=str(chat.chat_id), direction="in", text=text)


async def state_of(chat: TelegramChat) -> str:
    row = await Conversation.get(chat_id=str(chat.chat_id))
    return row.state


async def test_one_agent_holds_a_chat_and_only_that_agent_writes_or_hands_back(
    server: RunningServer, telegram: TelegramApi, world: World, agents: list[ConsoleAgent]
) -> None:
    ana, bruno = agents
    linked = await linked_chat(server, telegram, world)
    chat, person = linked.chat, linked.person
    [asked] = await chat.say("atendente")
    assert asked["text"] == texts.HUMAN
    assert await state_of(chat) == "aguardando atendente"

    page = await ana.post(f"{chat_path(chat.chat_id)}/assumir", {})
    assert page.status == 200 and "Devolver ao bot" in page.html and 'for="mensagem"' in page.html
    refused = await bruno.post(f"{chat_path(chat.chat_id)}/assumir", {})
    assert TAKEN_BY_ANOTHER in refused.html
    assert "Em atendimento com" in refused.html and "Devolver ao bot" not in refused.html
    again = await ana.post(f"{chat_path(chat.chat_id)}/assumir", {})  # pressed twice: still hers
    assert TAKEN_BY_ANOTHER not in again.html

    before = len(telegram.sent(chat.chat_id))
    by_form = await bruno.post(f"{chat_path(chat.chat_id)}/mensagem", {"mensagem": "Oi, sou eu"})
    assert NOT_YOURS in by_form.html
    by_script = await bruno.post(
        f"{chat_path(chat.chat_id)}/mensagem", {"mensagem": "Oi, sou eu"}, script=True
    )
    assert by_script.status == 409
    assert json.loads(by_script.html)["mensagem"].startswith(NOT_YOURS)
    not_back = await bruno.post(f"{chat_path(chat.chat_id)}/devolver", {})
    assert "só quem a assumiu pode devolvê-la" in not_back.html
    assert await state_of(chat) == "em atendimento"

    # While Ana holds the chat the bot says nothing, whatever the beneficiary writes.
    assert await chat.post(telegram.text_update(chat.chat_id, chat.user_id, "minhas guias")) == 200
    await wait_until(lambda: heard(chat, "minhas guias"))
    sent = await ana.post(
        f"{chat_path(chat.chat_id)}/mensagem",
        {"mensagem": "Olá, Maria! Como posso ajudar?"},
        script=True,
    )
    assert sent.status == 200
    await wait_until(lambda: len(telegram.sent(chat.chat_id)) >= before + 1)
    back = await ana.post(f"{chat_path(chat.chat_id)}/devolver", {})
    assert "Assumir" in back.html
    await wait_until(lambda: len(telegram.sent(chat.chat_id)) >= before + 2)
    [guides] = await chat.say("minhas guias")
    assert guides["text"].startswith(texts.GUIDES_HEADER)
    assert [m["text"] for m in telegram.sent(chat.chat_id)[before:]] == [
        "Olá, Maria! Como posso ajudar?",
        texts.HANDOFF_BACK,
        guides["text"],
    ]
    kinds = [e.kind for e in await audit.trail(carteirinha=person.carteirinha)]
    assert AuditKind.HUMAN_REQUESTED in kinds


async def test_two_agents_pressing_assumir_at_once_one_wins(
    server: RunningServer, telegram: TelegramApi, world: World, agents: list[ConsoleAgent]
) -> None:
    chat = (await linked_chat(server, telegram, world)).chat
    await chat.say("atendente")
    pages = await asyncio.gather(
        *(agent.post(f"{chat_path(chat.chat_id)}/assumir", {}) for agent in agents)
    )
    assert sorted(TAKEN_BY_ANOTHER in p.html for p in pages) == [False, True]


async def test_a_hand_off_nobody_takes_goes_back_to_the_bot_with_a_message(
    tmp_path: Path, telegram: TelegramApi, world: World
) -> None:
    async with telegram_server(
        tmp_path, telegram, console={"handoff_timeout_seconds": 1.0}
    ) as server:
        chat = (await linked_chat(server, telegram, world)).chat
        await chat.say("atendente")
        asked_at = time.monotonic()
        told = await wait_until(
            lambda: [m for m in telegram.sent(chat.chat_id) if m["text"] == texts.HANDOFF_EXPIRED],
            within=6,
        )
        assert len(told) == 1 and time.monotonic() - asked_at >= 0.9
        assert await state_of(chat) == "bot"
        expired = await AuditEvent.filter(kind=AuditKind.HANDOFF_EXPIRED, actor="system")
        assert [e.detail.get("chat") for e in expired].count(str(chat.chat_id)) == 1
        [guides] = await chat.say("minhas guias")  # the bot answers again
        assert guides["text"].startswith(texts.GUIDES_HEADER)


async def test_a_fraud_report_waits_for_an_agent_with_the_fraud_flag(
    server: RunningServer, telegram: TelegramApi, world: World, agents: list[ConsoleAgent]
) -> None:
    linked = await linked_chat(server, telegram, world)
    chat, person = linked.chat, linked.person
    [card] = await chat.say("Gerar token")
    [fraud_button] = [
        b["callback_data"]
        for row in card["reply_markup"]["inline_keyboard"]
        for b in row
        if "callback_data" in b
    ]
    update = telegram.callback_update(chat.chat_id, chat.user_id, fraud_button, card["message_id"])
    [thanks] = await chat.exchange(update)
    assert thanks["text"] == texts.FRAUD_THANKS
    row = await Conversation.get(chat_id=str(chat.chat_id))
    assert row.state == "aguardando atendente" and row.fraud

    listed = await agents[0].get("/atendimento/conversas?estado=aguardando+atendente")
    line = _row(listed.html, chat.chat_id)
    assert "aguardando atendente" in line and "⚠ fraude" in line
    assert f"Beneficiária · {person.carteirinha}" in line  # first name and card, no more
    page = await agents[0].get(chat_path(chat.chat_id))
    assert "relato de fraude" in page.html and "hidden>⚠ relato" not in page.html


async def test_the_list_filters_by_state_and_searches_by_card_guide_and_phone_digits(
    server: RunningServer, telegram: TelegramApi, world: World, agents: list[ConsoleAgent]
) -> None:
    waiting = await linked_chat(server, telegram, world)
    with_bot = await linked_chat(server, telegram, world)
    while with_bot.mobile.e164[-4:] == waiting.mobile.e164[-4:]:  # pragma: no cover - 1 in 10⁴
        with_bot = await linked_chat(server, telegram, world)
    await waiting.chat.say("atendente")
    await with_bot.chat.say("ajuda")
    ana = agents[0]

    async def listed(query: str) -> set[str]:
        html = (await ana.get(f"/atendimento/conversas?{query}")).html
        found = {"waiting": waiting.chat.chat_id, "bot": with_bot.chat.chat_id}
        return {name for name, c in found.items() if f'data-chave="telegram:{c}"' in html}

    assert await listed("estado=aguardando+atendente") == {"waiting"}
    assert await listed("estado=bot") == {"bot"}
    assert await listed("") == {"waiting", "bot"}
    assert await listed(f"q={with_bot.person.carteirinha}") == {"bot"}
    assert await listed(f"q={waiting.guide.numero.lower()}") == {"waiting"}
    assert await listed(f"q={with_bot.mobile.e164[-4:]}") == {"bot"}
    assert await listed(f"q={waiting.mobile.e164[-4:]}&estado=bot") == set()


def _row(html: str, chat_id: int) -> str:
    found = re.search(rf'<tr data-chave="telegram:{chat_id}".*?</tr>', html, re.S)
    assert found, f"chat {chat_id} is not listed"
    return found.group(0)


async def test_a_fraud_report_made_while_an_agent_holds_the_chat_is_filed_quietly(
    server: RunningServer, telegram: TelegramApi, world: World, agents: list[ConsoleAgent]
) -> None:
    linked = await linked_chat(server, telegram, world)
    chat = linked.chat
    [card] = await chat.say("Gerar token")
    await agents[0].post(f"{chat_path(chat.chat_id)}/assumir", {})
    before = len(telegram.sent(chat.chat_id))
    press = f"f:{linked.guide.numero}"
    update = telegram.callback_update(chat.chat_id, chat.user_id, press, card["message_id"])
    assert await chat.post(update) == 200
    numero = linked.guide.numero
    await wait_until(lambda: FraudReport.exists(guide_numero=numero, chat_id=str(chat.chat_id)))
    await wait_until(lambda: Conversation.exists(chat_id=str(chat.chat_id), fraud=True))
    row = await Conversation.get(chat_id=str(chat.chat_id))
    assert row.state == "em atendimento" and row.agent_login is not None
    await wait_until(lambda: not telegram.open_queries)  # the button got its answer (a toast)
    assert len(telegram.sent(chat.chat_id)) == before  # and the bot said nothing in the chat
