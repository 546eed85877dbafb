"""Bad bytes and bad shapes never get a 5xx: any bytes in the signed API headers or in the
webhook's secret token get a JSON 401, and a Telegram update with any JSON in its fields gets
200 (Telegram resends an update until it gets a 2xx, and resending will not mend it).

Headers go out on a raw socket as HTTP/1.1 written byte by byte: no client library sends a
non-UTF-8 byte in a header. A request the HTTP layer itself refuses (a control character in a
field, a field over 8190 bytes) gets aiohttp's plain-text 400 before our application sees it;
every other one reaches the application and gets its JSON answer.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import logging
import random
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from handlers.chat import texts
from tests.conftest import World
from tests.peers.telegram_api import TelegramApi
from tests.support import refs
from tests.support.server import RunningServer, running_server, server_settings
from tests.support.waiting import wait_until
from token_core.access.signing import (
    CLIENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signed_headers,
)
from token_core.persistence.models import Guide, OutboxEvent

TOKEN = "123456:TEST-token"
SECRET = "webhook-secret-0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK = "/webhooks/telegram"
SIGNED = (CLIENT_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
MAX_FIELD = 8190  # aiohttp's limit on one header's value
# RFC 9110's field value: HTAB, SP, visible ASCII and obs-text. The HTTP parser refuses the rest.
FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
UPDATE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "callback_query",
    "inline_query",
    "my_chat_member",
    "poll",
)
# Hypothesis runs in a worker thread (the server answers on this test's event loop meanwhile);
# the bound keeps each fuzz test to a few seconds.
FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
# Increasing and random per run, so update_ids a shared Redis remembers from other runs differ.
_update_ids = itertools.count(random.randrange(2 * 10**9, 3 * 10**9))


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


@dataclass
class Raw:
    status: int
    content_type: str
    body: bytes

    def is_json_error(self, status: int, code: str) -> bool:
        if self.status != status or self.content_type != "application/json":
            return False
        document = json.loads(self.body)
        return bool(document["erro"] == code and document["mensagem"])


def send_raw(
    base_url: str, method: str, path: str, headers: list[tuple[str, bytes]], body: bytes
) -> Raw:
    """One HTTP/1.1 request written byte by byte on a new connection, and its answer."""
    address = urlsplit(base_url)
    assert address.hostname and address.port
    head = f"{method} {path} HTTP/1.1\r\nHost: {address.netloc}\r\n".encode()
    head += b"Content-Type: application/json\r\nConnection: close\r\n"
    head += f"Content-Length: {len(body)}\r\n".encode()
    for name, value in headers:
        head += name.encode() + b": " + value + b"\r\n"
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(head + b"\r\n" + body)
        answer = http.client.HTTPResponse(sock)
        try:
            answer.begin()
            content_type = (answer.getheader("Content-Type") or "").split(";")[0]
            return Raw(answer.status, content_type, answer.read())
        finally:
            answer.close()


def check_refusal(answer: Raw, values: list[bytes]) -> str:
    """Who answered headers with these values, having checked the answer: "parser" (aiohttp's
    400, for a byte no field value may hold) or "app" (our JSON 401). A value over 8190 bytes may
    get either: aiohttp skips some whitespace before it counts.
    """
    assert answer.status < 500, answer
    if not all(FIELD_VALUE.fullmatch(value) for value in values):
        assert answer.status == 400, answer
        return "parser"
    if any(len(value) > MAX_FIELD for value in values) and answer.status == 400:
        return "parser"
    assert answer.is_json_error(401, "NAO_AUTORIZADO"), answer
    return "app"


def junk() -> st.SearchStrategy[bytes]:
    """Bytes for a header value, biased to those that broke things, short or very long. Never
    CR or LF: they end the field, and what follows would be another field, not this value.
    """
    byte = st.one_of(st.integers(0, 255), st.sampled_from(b"\x80\xff\xfe\xc3\xa9\x00\x7f\t \x1b"))
    short = st.lists(byte, min_size=1, max_size=40).map(bytes)
    long = st.builds(lambda chunk, size: (chunk * size)[:size], short, st.integers(8000, 8400))
    return st.one_of(short, short, long).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


def spoiled(valid: bytes) -> st.SearchStrategy[bytes]:
    """Junk alone, or put somewhere inside the right value; never the right value again once
    aiohttp strips the spaces around it.
    """
    inside = st.builds(
        lambda bad, at: valid[:at] + bad + valid[at:], junk(), st.integers(0, len(valid))
    )
    return st.one_of(junk(), inside).filter(lambda value: value.strip(b" \t") != valid)


def guide_body(carteirinha: str) -> bytes:
    return json.dumps(
        {
            "carteirinha": carteirinha,
            "dentista": {"nome": "Dra. Ana Souza", "cro": "PR-12345"},
            "procedimentos": [{"codigo": "85100099", "descricao": "Restauração em resina"}],
        }
    ).encode()


def signed(server: RunningServer, path: str, body: bytes) -> dict[str, bytes]:
    stamp = str(int(time.time()))
    headers = signed_headers(server.client_id, server.secret, stamp, "PUT", path, body)
    return {name: value.encode() for name, value in headers.items()}


async def test_the_raw_requests_are_right_when_their_headers_are(
    server: RunningServer, world: World
) -> None:
    """The yardstick for the tests below: the same hand-written request, signed, is served."""
    body = guide_body((await world.beneficiary()).carteirinha)
    path = f"/api/v1/guias/{refs.guide_number()}"
    answer = await asyncio.to_thread(
        send_raw, server.base_url, "PUT", path, list(signed(server, path, body).items()), body
    )
    assert (answer.status, answer.content_type) == (201, "application/json")


@pytest.mark.parametrize("header", SIGNED)
@pytest.mark.parametrize("bad", [b"\xff", b"\xc3\xa9", b"\x80\x80", b"\t"])
async def test_a_byte_outside_visible_ascii_in_a_signed_header_is_refused_with_json_401(
    server: RunningServer, world: World, header: str, bad: bytes
) -> None:
    body = guide_body((await world.beneficiary()).carteirinha)
    numero = refs.guide_number()
    path = f"/api/v1/guias/{numero}"
    headers = signed(server, path, body)
    headers[header] = headers[header][:3] + bad + headers[header][3:]

    answer = await asyncio.to_thread(
        send_raw, server.base_url, "PUT", path, list(headers.items()), body
    )

    assert answer.is_json_error(401, "NAO_AUTORIZADO"), answer
    assert json.loads(answer.body)["mensagem"] == (
        "Os cabeçalhos de autenticação aceitam apenas caracteres ASCII visíveis."
    )
    assert not await Guide.exists(numero=numero)


async def test_any_bytes_in_the_signed_headers_get_a_4xx_never_a_5xx_and_change_nothing(
    server: RunningServer, world: World
) -> None:
    body = guide_body((await world.beneficiary()).carteirinha)
    numero = refs.guide_number()
    path = f"/api/v1/guias/{numero}"
    valid = signed(server, path, body)
    seen = {"app": 0, "parser": 0}

    @st.composite
    def with_junk(draw: st.DrawFn) -> dict[str, bytes]:
        names = draw(st.sets(st.sampled_from(SIGNED), min_size=1))
        return {name: draw(spoiled(v)) if name in names else v for name, v in valid.items()}

    @FUZZ
    @given(with_junk())
    def attempt(headers: dict[str, bytes]) -> None:
        answer = send_raw(server.base_url, "PUT", path, list(headers.items()), body)
        seen[check_refusal(answer, list(headers.values()))] += 1

    # The bytes of the outside report, in each header, whatever Hypothesis draws besides.
    for name in SIGNED:
        for bad in (b"\xff", b"\x00", b"\xc3\x28"):
            attempt = example({**valid, name: valid[name] + bad})(attempt)
    await asyncio.to_thread(attempt)

    assert seen["app"] and seen["parser"], seen
    assert not await Guide.exists(numero=numero)


@pytest.mark.parametrize("bad", [b"\xff", SECRET.encode() + b"\xfe", b"\xc3\xa9", b"\t"])
async def test_a_webhook_secret_with_bytes_outside_ascii_is_refused_with_json_401(
    server: RunningServer, telegram: TelegramApi, bad: bytes
) -> None:
    chat_id = int(refs.suffix(), 16) % 10**9
    update = json.dumps(telegram.text_update(chat_id, chat_id, "/start")).encode()
    answer = await asyncio.to_thread(
        send_raw, server.base_url, "POST", WEBHOOK, [(SECRET_HEADER, bad)], update
    )
    assert answer.is_json_error(401, "NAO_AUTORIZADO"), answer
    await reply_to_start_is_the_only_one(server, telegram, chat_id)


async def test_any_bytes_in_the_webhook_secret_get_a_4xx_never_a_5xx(
    server: RunningServer, telegram: TelegramApi
) -> None:
    chat_id = int(refs.suffix(), 16) % 10**9
    update = json.dumps(telegram.text_update(chat_id, chat_id, "/start")).encode()

    @settings(FUZZ, max_examples=100)
    @given(spoiled(SECRET.encode()))
    @example(SECRET.encode() + b"\xff")
    def attempt(value: bytes) -> None:
        answer = send_raw(server.base_url, "POST", WEBHOOK, [(SECRET_HEADER, value)], update)
        check_refusal(answer, [value])

    await asyncio.to_thread(attempt)
    await reply_to_start_is_the_only_one(server, telegram, chat_id)


async def post_update(server: RunningServer, update: dict[str, Any]) -> tuple[int, Any]:
    async with server.session.post(
        server.base_url + WEBHOOK, json=update, headers={SECRET_HEADER: SECRET}
    ) as resp:
        return resp.status, await resp.json()


async def reply_to_start_is_the_only_one(
    server: RunningServer, telegram: TelegramApi, chat_id: int
) -> None:
    """One chat's updates are handled in order: had anything posted before been taken in, its
    reply would come before the one to this /start.
    """
    assert await post_update(server, telegram.text_update(chat_id, chat_id, "/start")) == (
        200,
        {"ok": True},
    )
    await wait_until(lambda: telegram.sent(chat_id))
    assert [m["text"] for m in telegram.sent(chat_id)] == [texts.WELCOME]


CPF = "52998224725"
PHONE = "+5541988575949"


def _without(part: str, key: str) -> Callable[[dict[str, Any]], None]:
    return lambda update: update[part].pop(key)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def change(update: dict[str, Any]) -> None:
        node = update
        for name in parents:
            node = node[name]
        node[last] = value

    return change


# (the update it starts from, how it is spoiled); each carries a CPF or a phone, never to be logged
MALFORMED: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "message is a string": ("text", _set("message", f"CPF {CPF}, celular {PHONE}")),
    "message is a list": ("text", _set("message", [CPF, PHONE])),
    "edited_message is a string": ("text", _set("edited_message", f"CPF {CPF}")),
    "callback_query is a string": ("callback", _set("callback_query", PHONE)),
    "callback_query without chat_instance": (
        "callback",
        _without("callback_query", "chat_instance"),
    ),
    "callback_query without from": ("callback", _without("callback_query", "from")),
    "text is a number": ("text", _set("message.text", int(CPF))),
    "chat id is a list": ("text", _set("message.chat", {"id": [CPF], "type": "private"})),
    "from id is a string": ("text", _set("message.from.id", CPF)),
    "contact is a string": ("contact", _set("message.contact", PHONE)),
    "date beyond the calendar": ("text", _set("message.date", 10**20)),
    "entities not a list": ("text", _set("message.entities", CPF)),
}


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_malformed_update_gets_200_is_logged_by_id_only_and_never_reaches_the_chat(
    server: RunningServer,
    telegram: TelegramApi,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    chat_id = int(refs.suffix(), 16) % 10**9
    start, spoil = MALFORMED[case]
    telegram.text_update(chat_id, chat_id, "oi")  # the chat exists for the peer from now on
    update = {
        "text": lambda: telegram.text_update(chat_id, chat_id, f"meu CPF é {CPF}"),
        "contact": lambda: telegram.contact_update(chat_id, chat_id, PHONE, chat_id),
        "callback": lambda: telegram.callback_update(chat_id, chat_id, f"f:{CPF}", 1),
    }[start]()
    spoil(update)

    with caplog.at_level(logging.INFO):
        assert await post_update(server, update) == (200, {"ok": True})
        await reply_to_start_is_the_only_one(server, telegram, chat_id)

    dropped = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "integrations.telegram.channel"
    ]
    assert [r.getMessage().split(":")[0] for r in dropped] == [
        f"telegram update {update['update_id']} dropped"
    ]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (CPF, PHONE, PHONE.lstrip("+"), "988575949"):
        assert secret not in logged


def any_json() -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=12)
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=8,
    )


@st.composite
def mutated(draw: st.DrawFn, value: Any) -> Any:
    """A part of a real update with keys dropped and values swapped for any JSON, all the way
    down.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            fate = draw(st.sampled_from(("keep", "keep", "mutate", "drop", "any")))
            if fate == "keep":
                out[key] = item
            elif fate == "mutate":
                out[key] = draw(mutated(item))
            elif fate == "any":
                out[key] = draw(any_json())
        return out
    if isinstance(value, list):
        return [draw(mutated(item)) for item in value]
    return draw(st.one_of(st.just(value), any_json()))


@st.composite
def update_shapes(draw: st.DrawFn, real: list[dict[str, Any]]) -> dict[str, Any]:
    """A real update spoiled: its part mutated, moved under another kind, or replaced by any JSON;
    sometimes with more kinds beside it.
    """
    [(kind, part)] = [(k, v) for k, v in draw(st.sampled_from(real)).items() if k != "update_id"]
    shape = draw(st.sampled_from(("mutated", "mutated", "moved", "any")))
    if shape == "any":
        body = {draw(st.sampled_from(UPDATE_KINDS)): draw(any_json())}
    else:
        kind = draw(st.sampled_from(UPDATE_KINDS)) if shape == "moved" else kind
        body = {kind: draw(mutated(part))}
    extra: dict[str, Any] = draw(
        st.dictionaries(st.sampled_from(UPDATE_KINDS), any_json(), max_size=2)
    )
    return extra | body


async def test_updates_with_any_json_in_their_fields_get_200_never_a_5xx(
    server: RunningServer, telegram: TelegramApi
) -> None:
    chat_id = int(refs.suffix(), 16) % 10**9
    real = [
        telegram.text_update(chat_id, chat_id, "/start"),
        telegram.text_update(chat_id, chat_id, "Gerar token"),
        telegram.contact_update(chat_id, chat_id, PHONE, chat_id),
        telegram.callback_update(chat_id, chat_id, "f:GTO-T-000000000000", 1),
        telegram.callback_update(chat_id, chat_id, "f:GTO-T-000000000000", 999),
    ]
    secret = [(SECRET_HEADER, SECRET.encode())]

    @settings(FUZZ, max_examples=100)  # each well-formed one also runs through the dialogue
    @given(update_shapes(real))
    def attempt(shape: dict[str, Any]) -> None:
        update = {**shape, "update_id": next(_update_ids)}
        answer = send_raw(server.base_url, "POST", WEBHOOK, secret, json.dumps(update).encode())
        assert (answer.status, json.loads(answer.body)) == (200, {"ok": True}), update

    for kind in UPDATE_KINDS:  # the shapes of the outside report, whatever Hypothesis draws
        attempt = example({kind: "texto"})(attempt)
    attempt = example({"callback_query": {"id": "1", "from": real[0]["message"]["from"]}})(attempt)
    await asyncio.to_thread(attempt)
