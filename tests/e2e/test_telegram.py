"""The Telegram channel end to end: updates posted to our webhook as Telegram would, replies
read from a Bot API peer on 127.0.0.1, the code validated through the dentist API.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.logs import pin_parameter_loggers
from handlers.chat import texts
from tests.conftest import World
from tests.peers.telegram_api import TelegramApi
from tests.support import refs
from tests.support.server import RunningServer, running_server, server_settings
from tests.support.waiting import wait_until
from token_core.persistence.models import OutboxEvent, TranscriptEntry
from token_core.registry.identity import Cpf

TOKEN = "123456:TEST-token"
SECRET = "webhook-secret-0123456789"
CODE = re.compile(r"código de segurança: (\d{6})")


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramApi]:
    async with TelegramApi(token=TOKEN) as peer:
        yield peer


@pytest.fixture(autouse=True)
async def _no_receipts_of_other_tests() -> None:
    """Receipt events other tests left in the shared database are not this test's."""
    await OutboxEvent.filter(event_type="recibo.chat", delivered_at=None).update(
        delivered_at=datetime.now(UTC)
    )


@pytest.fixture
async def server(tmp_path: Path, telegram: TelegramApi) -> AsyncIterator[RunningServer]:
    settings = server_settings(
        tmp_path,
        telegram={
            "token": TOKEN,
            "base_url": f"{telegram.base_url}/bot",
            "mode": "webhook",
            "webhook_secret": SECRET,
            "public_url": "https://odontoken.example",
        },
    )
    async with running_server(settings) as running:
        yield running


class TelegramChat:
    def __init__(self, server: RunningServer, peer: TelegramApi) -> None:
        self.server, self.peer = server, peer
        self.chat_id = int(refs.suffix(), 16) % 10**9
        self.user_id = self.chat_id

    async def post(self, update: dict[str, Any], secret: str = SECRET) -> int:
        async with self.server.session.post(
            f"{self.server.base_url}/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
        ) as resp:
            return resp.status

    async def exchange(self, update: dict[str, Any], replies: int = 1) -> list[dict[str, Any]]:
        before = len(self.peer.sent(self.chat_id))
        assert await self.post(update) == 200
        await wait_until(lambda: len(self.peer.sent(self.chat_id)) >= before + replies)
        return self.peer.sent(self.chat_id)[before:]

    async def say(self, text: str, replies: int = 1) -> list[dict[str, Any]]:
        return await self.exchange(self.peer.text_update(self.chat_id, self.user_id, text), replies)

    async def share(self, phone: str, own: bool = True) -> list[dict[str, Any]]:
        owner = self.user_id if own else self.user_id + 1
        return await self.exchange(
            self.peer.contact_update(self.chat_id, self.user_id, phone, owner)
        )

    async def link(self, cpf: str, phone: str = "+5541988575949") -> list[dict[str, Any]]:
        await self.say("/start")
        await self.share(phone)
        return await self.say(cpf, replies=2)


async def test_link_generate_validate_and_receipt(
    server: RunningServer, telegram: TelegramApi, world: World
) -> None:
    assert telegram.webhook["url"] == "https://odontoken.example/webhooks/telegram"
    assert telegram.webhook["secret_token"] == SECRET
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    guide = await world.guide(ben)
    chat = TelegramChat(server, telegram)

    [welcome] = await chat.say("/start")
    keyboard = welcome["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True
    [ask] = await chat.share("+55 41 98857-5949")
    assert ask["text"] == texts.ASK_CPF
    erased, linked = await chat.say(Cpf.parse(cpf).formatted, replies=2)
    assert erased["text"] == texts.CPF_DELETED
    assert await wait_until(lambda: telegram.deleted)  # the CPF message is gone
    assert linked["text"].startswith("Pronto,") and "Telegram" in linked["text"]

    [card] = await chat.say("Gerar token")
    code = CODE.search(card["text"]).group(1)  # type: ignore[union-attr]
    assert card["protect_content"] in (True, "true")
    buttons = [b for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons[0]["copy_text"]["text"] == code
    assert buttons[1]["callback_data"] == f"f:{guide.numero}"

    ok = await server.call("POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": code})
    assert ok.status == 200
    receipt = await wait_until(
        lambda: [m for m in telegram.sent(chat.chat_id) if m["text"].startswith("✅")]
    )
    assert guide.numero in receipt[0]["text"] and "Dra. Teste" in receipt[0]["text"]


async def test_a_spoofed_contact_and_a_wrong_secret_are_refused(
    server: RunningServer, telegram: TelegramApi
) -> None:
    chat = TelegramChat(server, telegram)
    [refused] = await chat.share("+5541988575949", own=False)
    assert refused["text"] == texts.SHARE_OWN_CONTACT
    before = len(telegram.sent(chat.chat_id))
    status = await chat.post(
        telegram.text_update(chat.chat_id, chat.user_id, "/start"), secret="wrong"
    )
    assert status == 401
    # One chat's updates are handled in order: had the refused one been taken, its welcome would
    # come before the reply to this next one.
    await chat.share("+5541988575949", own=False)
    assert [m["text"] for m in telegram.sent(chat.chat_id)[before:]] == [texts.SHARE_OWN_CONTACT]


async def test_cpf_enumeration_gets_the_same_reply_and_three_failures_lock(
    server: RunningServer, telegram: TelegramApi, world: World
) -> None:
    cpf = refs.cpf()
    await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    other_phone = TelegramChat(server, telegram)
    unknown_cpf = TelegramChat(server, telegram)
    a = (await other_phone.link(cpf, phone="+5541999990000"))[-1]["text"]
    b = (await unknown_cpf.link(refs.cpf()))[-1]["text"]
    assert a == b == texts.NO_MATCH
    await unknown_cpf.link(refs.cpf())
    locked = (await unknown_cpf.link(refs.cpf()))[-1]["text"]
    assert "bloqueado" in locked
    [still] = await unknown_cpf.say(cpf)
    assert "bloqueado" in still["text"]


async def test_a_repeated_update_is_processed_once(
    server: RunningServer, telegram: TelegramApi
) -> None:
    chat = TelegramChat(server, telegram)
    update = telegram.text_update(chat.chat_id, chat.user_id, "/start")
    assert await chat.post(update) == 200
    assert await chat.post(update) == 200
    await wait_until(lambda: telegram.sent(chat.chat_id))
    # One chat's updates are handled in order: a second run of the repeated update would answer
    # before the reply to this next one.
    await chat.share("+5541988575949", own=False)
    assert [m["text"] for m in telegram.sent(chat.chat_id)] == [
        texts.WELCOME,
        texts.SHARE_OWN_CONTACT,
    ]


async def test_the_dentist_system_can_push_the_card_to_the_linked_chat(
    server: RunningServer, telegram: TelegramApi, world: World
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    guide = await world.guide(ben)
    path = f"/api/v1/guias/{guide.numero}/token"
    before = await server.call("POST", path, {"canal": "telegram"})
    assert before.status == 422 and before.body["erro"] == "CANAL_INDISPONIVEL"
    chat = TelegramChat(server, telegram)
    await chat.link(cpf)
    sent = await server.call("POST", path, {"canal": "telegram"})
    assert sent.status == 202 and sent.body["destino"] == "Telegram"
    card = telegram.sent(chat.chat_id)[-1]
    code = CODE.search(card["text"]).group(1)  # type: ignore[union-attr]
    ok = await server.call("POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": code})
    assert ok.status == 200
    channels = await server.call("GET", f"/api/v1/beneficiarios/{ben.carteirinha}/canais")
    assert channels.body["telegram"] is True and channels.body["padrao"] == "telegram"


async def test_a_429_from_telegram_is_retried_and_the_reply_arrives(
    server: RunningServer, telegram: TelegramApi
) -> None:
    chat = TelegramChat(server, telegram)
    telegram.fail_next("sendMessage", 1, retry_after=1)
    [welcome] = await chat.say("/start")
    assert welcome["text"] == texts.WELCOME
    assert [m for m, _ in telegram.calls].count("sendMessage") == 2


async def test_a_failing_reply_is_logged_and_the_chat_stays_usable(
    server: RunningServer, telegram: TelegramApi, caplog: pytest.LogCaptureFixture
) -> None:
    chat = TelegramChat(server, telegram)
    telegram.fail_next("sendMessage", 1)
    [sorry] = await chat.say("/start")
    assert sorry["text"] == texts.ERROR
    assert "telegram update failed" in caplog.text
    [welcome] = await chat.say("/start")
    assert welcome["text"] == texts.WELCOME


async def test_the_code_message_is_deleted_when_the_code_expires(
    tmp_path: Path, telegram: TelegramApi, world: World
) -> None:
    settings = server_settings(
        tmp_path,
        tokens={"ttl_seconds": 0.5},
        telegram={"token": TOKEN, "base_url": f"{telegram.base_url}/bot", "webhook_secret": SECRET},
    )
    cpf = refs.cpf()
    await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    async with running_server(settings) as server:
        chat = TelegramChat(server, telegram)
        await chat.link(cpf)
        await chat.say("token")
        card_id = await wait_until(
            lambda: [
                i
                for i, (m, p) in enumerate(telegram.calls)
                if m == "sendMessage"
                and str(p["chat_id"]) == str(chat.chat_id)
                and "código de segurança" in p["text"]
            ]
        )
        deleted_before = len(telegram.deleted)
        await wait_until(lambda: len(telegram.deleted) > deleted_before)
        assert telegram.deleted[-1][0] == chat.chat_id
        assert card_id


async def test_polling_mode_for_development_answers_too(
    tmp_path: Path, telegram: TelegramApi
) -> None:
    settings = server_settings(
        tmp_path,
        telegram={
            "token": TOKEN,
            "base_url": f"{telegram.base_url}/bot",
            "mode": "polling",
            "webhook_secret": SECRET,
        },
    )
    async with running_server(settings) as server:
        chat = TelegramChat(server, telegram)
        telegram.queue_update(telegram.text_update(chat.chat_id, chat.user_id, "/start"))
        [welcome] = await wait_until(lambda: telegram.sent(chat.chat_id))
        assert welcome["text"] == texts.WELCOME
    assert "deleteWebhook" in [m for m, _ in telegram.calls]


async def test_receipts_and_pushed_cards_are_in_the_transcript_masked(
    server: RunningServer, telegram: TelegramApi, world: World
) -> None:
    cpf = refs.cpf()
    guide = await world.guide(await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949"))
    chat = TelegramChat(server, telegram)
    await chat.link(cpf)
    await server.call("POST", f"/api/v1/guias/{guide.numero}/token", {"canal": "telegram"})
    code = CODE.search(telegram.sent(chat.chat_id)[-1]["text"]).group(1)  # type: ignore[union-attr]
    await server.call("POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": code})
    await wait_until(lambda: [m for m in telegram.sent(chat.chat_id) if m["text"].startswith("✅")])

    async def texts_now() -> list[str]:
        return [e.text for e in await TranscriptEntry.filter(chat_id=str(chat.chat_id))]

    async def receipt_written() -> bool:
        return any(t.startswith("✅") for t in await texts_now())

    await wait_until(receipt_written)
    written = await texts_now()
    assert any("código de segurança: ••••••" in t for t in written)
    assert not any(code in t for t in written)


async def test_debug_logs_of_a_telegram_session_hold_no_cpf_phone_or_code(
    server: RunningServer,
    telegram: TelegramApi,
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    pin_parameter_loggers()  # what the service does at start-up
    caplog.set_level(logging.DEBUG)
    cpf = refs.cpf()
    await world.guide(await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949"))
    chat = TelegramChat(server, telegram)
    await chat.link(Cpf.parse(cpf).formatted)
    [card] = await chat.say("gerar token")
    code = CODE.search(card["text"]).group(1)  # type: ignore[union-attr]
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert "audit chat.linked" in logged  # the capture is real
    for secret in (cpf, Cpf.parse(cpf).formatted, "5541988575949", "988575949", code):
        assert secret not in logged, secret
