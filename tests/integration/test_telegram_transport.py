"""python-telegram-bot over `AiohttpRequest`, against the Bot API peer on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from telegram import Bot, CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from integrations.telegram.request import AiohttpRequest
from tests.peers.base import free_port
from tests.peers.telegram_api import TelegramApi
from tests.support.waiting import wait_until

TOKEN = "424242:transport-test-token"
CHAT = 5541988575
MakeBot = Callable[..., Bot]


@pytest.fixture
async def peer() -> AsyncIterator[TelegramApi]:
    async with TelegramApi(TOKEN) as api:
        api.text_update(CHAT, CHAT, "/start")  # the chat has written to the bot
        yield api


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def make_bot(peer: TelegramApi, session: aiohttp.ClientSession) -> MakeBot:
    def make(token: str = TOKEN) -> Bot:
        return Bot(
            token,
            base_url=f"{peer.base_url}/bot",
            request=AiohttpRequest(session),
            get_updates_request=AiohttpRequest(session),
        )

    return make


async def test_get_me_names_the_bot_of_the_token(make_bot: MakeBot) -> None:
    async with make_bot() as bot:
        me = await bot.get_me()
    assert me.id == 424242 and me.is_bot and me.username == "odontoken_test_bot"


async def test_a_copy_button_and_a_callback_button_arrive_with_every_field(
    make_bot: MakeBot, peer: TelegramApi
) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Copiar código", copy_text=CopyTextButton("482913")),
                InlineKeyboardButton("Não reconheço", callback_data="f:GTO-1"),
            ]
        ]
    )
    async with make_bot() as bot:
        message = await bot.send_message(
            CHAT, "<b>Código</b>", parse_mode="HTML", reply_markup=keyboard, protect_content=True
        )
    [sent] = peer.sent(CHAT)
    assert sent["text"] == "<b>Código</b>" and sent["parse_mode"] == "HTML"
    assert sent["protect_content"] is True
    assert sent["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Copiar código", "copy_text": {"text": "482913"}},
                {"text": "Não reconheço", "callback_data": "f:GTO-1"},
            ]
        ]
    }
    assert message.message_id == sent["message_id"] and message.chat.id == CHAT
    assert message.from_user is not None and message.from_user.id == 424242
    assert message.reply_markup == keyboard and message.has_protected_content


async def test_a_callback_is_answered_and_the_message_deleted_once(
    make_bot: MakeBot, peer: TelegramApi
) -> None:
    async with make_bot() as bot:
        message = await bot.send_message(
            CHAT,
            "Guia?",
            reply_markup=InlineKeyboardMarkup.from_button(
                InlineKeyboardButton("Sim", callback_data="yes")
            ),
        )
        press = peer.callback_update(CHAT, CHAT, "yes", message.message_id)
        assert press["callback_query"]["message"]["text"] == "Guia?"
        assert await bot.answer_callback_query(press["callback_query"]["id"], "Ok")
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query(press["callback_query"]["id"])
        assert await bot.delete_message(CHAT, message.message_id)
        with pytest.raises(BadRequest, match="Message to delete not found"):
            await bot.delete_message(CHAT, message.message_id)
    assert peer.deleted == [(CHAT, message.message_id)]


async def test_an_edit_changes_the_text_and_an_unchanged_edit_is_refused(
    make_bot: MakeBot,
) -> None:
    async with make_bot() as bot:
        message = await bot.send_message(CHAT, "Código: 482913")
        edited = await bot.edit_message_text("Código expirado", CHAT, message.message_id)
        assert isinstance(edited, Message) and edited.text == "Código expirado"
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text("Código expirado", CHAT, message.message_id)


async def test_a_429_surfaces_as_retry_after(
    make_bot: MakeBot, peer: TelegramApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta
    peer.fail_next("sendMessage", retry_after=3)
    async with make_bot() as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(CHAT, "Olá")
        await bot.send_message(CHAT, "Olá de novo")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    assert [m["text"] for m in peer.sent(CHAT)] == ["Olá de novo"]


async def test_a_wrong_token_is_refused_as_invalid(make_bot: MakeBot, peer: TelegramApi) -> None:
    with pytest.raises(InvalidToken, match="rejected by the server"):
        await make_bot("424242:wrong-token").initialize()
    assert peer.calls == []


async def test_shutting_the_bot_down_leaves_the_borrowed_session_open(
    make_bot: MakeBot, session: aiohttp.ClientSession, peer: TelegramApi
) -> None:
    async with make_bot() as bot:
        await bot.get_me()
    assert not session.closed
    async with make_bot() as again:
        await again.send_message(CHAT, "ainda aqui")
    assert len(peer.sent(CHAT)) == 1


async def test_without_a_session_it_opens_and_closes_its_own(peer: TelegramApi) -> None:
    request = AiohttpRequest()
    async with Bot(TOKEN, base_url=f"{peer.base_url}/bot", request=request) as bot:
        await bot.send_message(CHAT, "sessão própria")
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(f"{peer.base_url}/bot{TOKEN}/getMe")


async def test_200_concurrent_messages_over_one_request_all_arrive(
    make_bot: MakeBot, peer: TelegramApi
) -> None:
    async with make_bot() as bot:
        sent = await asyncio.gather(*(bot.send_message(CHAT, f"n{i}") for i in range(200)))
    assert sorted(m["text"] for m in peer.sent(CHAT)) == sorted(f"n{i}" for i in range(200))
    assert len({m.message_id for m in sent}) == 200


async def test_a_file_is_uploaded_as_multipart(make_bot: MakeBot, peer: TelegramApi) -> None:
    async with make_bot() as bot:
        await bot.set_webhook(
            "https://odontoken.example/webhooks/telegram",
            certificate=b"-----BEGIN CERTIFICATE-----\n",
            secret_token="s3cr3t",
            allowed_updates=["message", "callback_query"],
        )
        info = await bot.get_webhook_info()
    assert peer.webhook["certificate"]["filename"]
    assert peer.webhook["secret_token"] == "s3cr3t"
    assert peer.webhook["allowed_updates"] == ["message", "callback_query"]
    assert info.has_custom_certificate and info.url.endswith("/webhooks/telegram")


async def test_polling_gets_queued_updates_and_forgets_the_confirmed_ones(
    make_bot: MakeBot, peer: TelegramApi
) -> None:
    async with make_bot() as bot:
        waiting = asyncio.create_task(bot.get_updates(timeout=5))
        await wait_until(lambda: "getUpdates" in [method for method, _ in peer.calls])
        peer.queue_update(peer.text_update(CHAT, CHAT, "gerar token"))
        [first] = await asyncio.wait_for(waiting, 2)
        peer.queue_update(peer.text_update(CHAT, CHAT, "ajuda"))
        [second] = await bot.get_updates(offset=first.update_id + 1)
    assert first.message is not None and first.message.text == "gerar token"
    assert second.message is not None and second.message.text == "ajuda"
    assert second.update_id > first.update_id


async def test_an_answer_slower_than_the_default_read_timeout_times_out(
    session: aiohttp.ClientSession, peer: TelegramApi
) -> None:
    request = AiohttpRequest(session, read_timeout=0.1)
    long_poll = RequestData([RequestParameter("timeout", 2, None)])
    with pytest.raises(TimedOut):
        await request.post(f"{peer.base_url}/bot{TOKEN}/getUpdates", long_poll)


async def test_an_unreachable_server_is_a_network_error(session: aiohttp.ClientSession) -> None:
    with pytest.raises(NetworkError) as caught:
        await AiohttpRequest(session).post(f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe")
    assert not isinstance(caught.value, TimedOut)
