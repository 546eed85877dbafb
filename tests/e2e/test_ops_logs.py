"""JSON log lines carry the id of the request (or chat update) they were written for: the
caller's X-Request-Id when well-formed, a new one otherwise, echoed in the response; a chat
update is handled under the id of the webhook call that queued it.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

from bot.log_format import JsonFormatter, RequestIdFilter
from tests.conftest import World
from tests.peers.telegram_api import TelegramApi
from tests.support import refs
from tests.support.chat_drivers import TG_SECRET, TG_TOKEN, telegram_settings
from tests.support.server import Answer, running_server, server_settings
from tests.support.waiting import wait_until
from token_core.registry.identity import Cpf, Mobile


def request_id_of(answer: Answer) -> str:
    return CIMultiDict(answer.headers)["X-Request-Id"]


class JsonLines:
    """The service's JSON log output (the handler configure_logging installs), read back."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter())
        self.handler.addFilter(RequestIdFilter())

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def of(self, request_id: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("request_id") == request_id]


@pytest.fixture
def json_logs() -> Iterator[JsonLines]:
    logs = JsonLines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(logs.handler)
    root.setLevel(logging.INFO)
    try:
        yield logs
    finally:
        root.removeHandler(logs.handler)
        root.setLevel(level)


async def test_a_request_id_is_in_the_response_and_in_every_json_line_of_the_request(
    tmp_path: Path, world: World, json_logs: JsonLines
) -> None:
    guide = await world.guide()
    async with running_server(server_settings(tmp_path)) as server:
        path = f"/api/v1/guias/{guide.numero}/validacao"
        given = await server.call(
            "POST", path, {"token": "000000"}, headers={"X-Request-Id": "sio-42"}
        )
        made = await server.call(
            "POST", path, {"token": "000001"}, headers={"X-Request-Id": "x" * 65}
        )
        bad_bytes = await server.call(
            "GET", "/healthz", signed=False, headers={"X-Request-Id": "dois ids"}
        )

    assert given.status == 422 and request_id_of(given) == "sio-42"
    mine = json_logs.of("sio-42")
    assert any(line["message"].startswith("audit token.rejected") for line in mine), mine
    assert all({"ts", "level", "logger", "message"} <= line.keys() for line in mine)
    new_id = request_id_of(made)
    assert len(new_id) == 32 and new_id != "x" * 65
    assert any(line["message"].startswith("audit token.rejected") for line in json_logs.of(new_id))
    assert request_id_of(bad_bytes) not in ("dois ids", "")


async def test_a_chat_update_is_handled_under_the_request_id_of_its_webhook_call(
    tmp_path: Path, world: World, json_logs: JsonLines
) -> None:
    cpf, mobile = Cpf.parse(refs.cpf()), Mobile.parse(refs.mobile())
    await world.beneficiary(cpf=cpf.formatted, mobile=mobile.e164)
    chat_id = user_id = int(refs.suffix(), 16) % 10**9
    async with TelegramApi(token=TG_TOKEN) as peer:
        settings = server_settings(tmp_path, telegram=telegram_settings(peer))
        async with running_server(settings) as server:

            async def post(update: dict[str, Any], request_id: str) -> None:
                before = len(peer.sent(chat_id))
                headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "X-Request-Id": request_id}
                async with server.session.post(
                    f"{server.base_url}/webhooks/telegram", json=update, headers=headers
                ) as resp:
                    assert resp.status == 200
                    assert resp.headers["X-Request-Id"] == request_id
                await wait_until(lambda: len(peer.sent(chat_id)) > before)

            await post(peer.text_update(chat_id, user_id, "/start"), "tg-start")
            await post(peer.contact_update(chat_id, user_id, mobile.e164, user_id), "tg-contact")
            await post(peer.text_update(chat_id, user_id, cpf.formatted), "tg-cpf")

    # Written by the inbound consumer while it handled the update, not by the webhook call.
    handled = [line for line in json_logs.of("tg-cpf") if line["logger"] == "token_core.audit"]
    assert any(line["message"].startswith("audit chat.linked") for line in handled), handled
    assert not any(line["message"].startswith("audit chat.linked") for line in json_logs.of(""))
