"""A beneficiary who types their CPF and their code in every way a person (or an outside tester)
might, on Telegram: afterwards no transcript, audit detail, console summary, event, log line or
ephemeral key holds either, in any of the typed forms or as plain digits. The search covers
every table (`database_dump`) and, on production, every Redis key of the server (`redis_dump`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.log_redaction import RedactingFilter
from bot.logs import pin_parameter_loggers
from handlers.chat import texts
from tests.conftest import World
from tests.peers.telegram_api import TelegramApi
from tests.support import backends, refs
from tests.support.chat_drivers import TelegramUser, telegram_settings
from tests.support.server import RunningServer, running_server, server_settings
from tests.support.waiting import wait_until
from token_core.chat.digit_forms import SEPARATORS, normalise
from token_core.chat.redaction import looks_like_cpf
from token_core.persistence.models import TranscriptEntry
from token_core.registry.identity import Cpf
from token_core.storage.memory import InProcessStore
from token_core.storage.redis_store import RedisStore

# Eight digits: a six-digit code could turn up by chance in microsecond timestamps of the dump.
CODE = re.compile(r"código de segurança: (\d{8})")
RUN = re.compile(f"[0-9]+(?:[{SEPARATORS}]+[0-9]+)*")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramApi]:
    async with TelegramApi() as peer:
        yield peer


@pytest.fixture
def redacted_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog with the filter configure_logging puts on the service's handler (caplog's handler
    lives for the whole session: the filter is taken off again)."""
    pin_parameter_loggers()  # what configure_logging does at start-up, with the filter
    redacting = RedactingFilter()
    caplog.handler.addFilter(redacting)
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        caplog.handler.removeFilter(redacting)


@pytest.fixture
async def server(tmp_path: Path, telegram: TelegramApi) -> AsyncIterator[RunningServer]:
    settings = server_settings(tmp_path, telegram=telegram_settings(telegram), tokens={"digits": 8})
    async with running_server(settings) as running:
        yield running


def cpf_forms(cpf: Cpf) -> list[str]:
    d = cpf.digits
    return [
        d.translate(FULLWIDTH),  # ３０００００５９８６２
        f"{d[:3]}-{d[3:6]}-{d[6:9]}-{d[9:]}",
        f"meu cpf: {d[:3]}.{d[3:6]}.{d[6:9]}/{d[9:]}",
        f"{d[:3]}\n{d[3:6]}\n{d[6:9]}\n{d[9:]}",
        "\u200b".join(d),
        f"{d[:3]} {d[3:6]} {d[6:9]} {d[9:]}".translate(ARABIC_INDIC),
        f"{d[:6].translate(DEVANAGARI)}–{d[6:]}",
    ]


def code_forms(code: str) -> list[str]:
    return [
        f"o código é {code[:2]} {code[2:4]} {code[4:6]} {code[6:]}",
        code.translate(FULLWIDTH),
        f"{code[:4]}-{code[4:]}",
        f"{code[:3]}.{code[3:6]}.{code[6:]}",
        "\u2060".join(code.translate(ARABIC_INDIC)),
        f"token {code[:4]}\u00a0{code[4:]}",
    ]


async def store_dump(server: RunningServer) -> str:
    store = server.services.store
    if isinstance(store, RedisStore):
        return repr(await backends.redis_dump(store.prefix))
    assert isinstance(store, InProcessStore)
    return repr(store.snapshot())


async def test_a_chat_full_of_typed_cpfs_and_codes_leaves_none_of_them_anywhere(
    server: RunningServer,
    telegram: TelegramApi,
    world: World,
    database: str,
    redacted_logs: pytest.LogCaptureFixture,
) -> None:
    cpf = Cpf.parse(refs.cpf())
    user = TelegramUser(server, telegram)
    ben = await world.beneficiary(cpf=cpf.digits, mobile=user.mobile)
    await world.guide(ben)

    async def exchange(text: str) -> list[dict[str, object]]:
        before = len(telegram.sent(user.chat_id))
        await user.say(text)
        replies = 2 if looks_like_cpf(text) else 1
        await wait_until(lambda: len(telegram.sent(user.chat_id)) >= before + replies)
        return telegram.sent(user.chat_id)[before:]

    await user.start_linking()
    typed = cpf_forms(cpf)
    for form in typed[:3]:  # before linking: read as a CPF, refused, erased from the chat
        erased, answer = await exchange(form)
        assert (erased["text"], answer["text"]) == (texts.CPF_DELETED, texts.CPF_INVALID)
    *_, linked = await exchange(cpf.formatted)
    assert str(linked["text"]).startswith("Pronto,")
    [card] = await exchange("Gerar token")
    found = CODE.search(str(card["text"]))
    assert found is not None
    code = found.group(1)
    for form in typed[3:]:  # linked: erased from the chat again
        erased, _help = await exchange(form)
        assert erased["text"] == texts.CPF_DELETED
    typed += code_forms(code)
    for form in code_forms(code):
        await exchange(form)

    transcript = [
        t.text for t in await TranscriptEntry.filter(chat_id=str(user.chat_id)).order_by("id")
    ]
    db_text = normalise(await backends.database_dump(database))
    store_text = normalise(await store_dump(server))
    log_text = normalise(
        "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in redacted_logs.records)
    )

    # The search is real: the chat was stored, masked, and logged.
    assert cpf.masked in transcript and "código de segurança: ••••••••" in "\n".join(transcript)
    assert len(transcript) >= len(typed) * 2
    assert "audit chat.linked" in log_text and "audit token.issued" in log_text
    secrets = {"code": code, "CPF digits": cpf.digits, "CPF formatted": cpf.formatted}
    secrets |= {f"typed form {i}": form for i, form in enumerate(typed)}
    secrets |= {f"typed form {i}, read": normalise(form) for i, form in enumerate(typed)}
    for where, text in (("database", db_text), ("store", store_text), ("logs", log_text)):
        for what, value in secrets.items():
            assert value not in text, f"{what} ({value!r}) found in the {where}"
    for line in transcript:  # the chat's own rows, read digit run by digit run
        for run in RUN.findall(normalise(line)):
            digits = re.sub("[^0-9]", "", run)
            assert code not in digits and cpf.digits not in digits, line
