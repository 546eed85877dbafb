"""The hand-off in a real browser (Debian's Chromium): an agent keeps Conversas open, a Telegram
user's "atendente" (through the Bot API peer) appears without a reload, the agent takes over,
writes, sees the answer arrive live and hands back; the bot is quiet meanwhile and answers again
afterwards.

Screenshots go to /tmp (console-conversas.png, console-conversa.png, console-devolvida.png);
docs/console-screenshot.png is a copy of console-conversa.png, refreshed by hand when the page
changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage, Page, expect

from handlers.chat import texts
from tests.conftest import World
from tests.e2e.test_telegram import TelegramChat
from tests.peers.telegram_api import TelegramApi
from tests.support import refs
from tests.support.console import chromium, new_agent, sign_in
from tests.support.console_chat import telegram_server
from tests.support.server import RunningServer
from tests.support.waiting import wait_until
from token_core.persistence.models import Beneficiary
from token_core.registry.identity import Cpf, Mobile

SHOTS = Path("/tmp")  # noqa: S108 - screenshots for a person to look at
VIEWPORT = {"width": 1280, "height": 800}
WITHIN = 5000  # ms, for each expectation in the page
AGENT_SAYS = "Olá, Maria! Sou a Ana, do SAB. Como posso ajudar?"
PERSON_SAYS = "Oi, Ana! O dentista disse que a minha guia não aparece."


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramApi]:
    async with TelegramApi() as peer:
        yield peer


@pytest.fixture
async def server(tmp_path: Path, telegram: TelegramApi) -> AsyncIterator[RunningServer]:
    async with telegram_server(tmp_path, telegram) as running:
        yield running


def _script_error(message: ConsoleMessage) -> bool:
    return message.type == "error" and not message.text.startswith("Failed to load resource")


async def test_an_agent_takes_over_a_telegram_chat_live_and_hands_it_back(
    server: RunningServer, telegram: TelegramApi, world: World
) -> None:
    cpf, mobile = Cpf.parse(refs.cpf()), Mobile.parse(refs.mobile())
    person = await world.beneficiary(cpf=cpf.digits, mobile=mobile.e164)
    await Beneficiary.filter(id=person.id).update(name="Maria Aparecida Souza")
    guide = await world.guide(person)
    chat = TelegramChat(server, telegram)
    await chat.link(cpf.formatted, mobile.e164)
    login, password = await new_agent(server, name="Ana Atendente")
    row = f'tr[data-chave="telegram:{chat.chat_id}"]'

    async with chromium() as browser:
        context = await browser.new_context(locale="pt-BR", viewport=VIEWPORT)  # type: ignore[arg-type]
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if _script_error(m) else None)
        await sign_in(page, server, login, password)
        await live(page)
        await page.evaluate("window.stillTheSamePage = true")

        [asked] = await chat.say("atendente")
        assert asked["text"] == texts.HUMAN
        await expect(page.locator(row)).to_contain_text("aguardando atendente", timeout=WITHIN)
        await expect(page.locator(row)).to_contain_text(f"Maria · {person.carteirinha}")
        assert await page.evaluate("window.stillTheSamePage === true")  # no reload
        await page.screenshot(path=SHOTS / "console-conversas.png")

        await page.locator(row).get_by_role("link").click()
        await page.get_by_role("button", name="Assumir").click()
        await expect(page.get_by_label("Mensagem")).to_be_visible(timeout=WITHIN)
        await live(page)
        before = len(telegram.sent(chat.chat_id))
        await page.get_by_label("Mensagem").fill(AGENT_SAYS)
        await page.get_by_role("button", name="Enviar").click()
        await wait_until(lambda: [m["text"] for m in telegram.sent(chat.chat_id)[before:]])
        assert telegram.sent(chat.chat_id)[before]["text"] == AGENT_SAYS
        lines = page.locator("#mensagens li")
        await expect(lines.last).to_contain_text(AGENT_SAYS, timeout=WITHIN)
        await expect(page.get_by_label("Mensagem")).to_have_value("")

        # The beneficiary answers (and, careless, types the CPF): it appears at once, masked;
        # the bot keeps quiet while the agent holds the chat.
        for text in (PERSON_SAYS, f"meu cpf é {cpf.formatted}", "minhas guias"):
            await chat.post(telegram.text_update(chat.chat_id, chat.user_id, text))
        await expect(lines.last).to_contain_text("minhas guias", timeout=WITHIN)
        await expect(page.locator("#mensagens")).to_contain_text(PERSON_SAYS)
        await expect(page.locator("#mensagens")).to_contain_text(f"meu cpf é {cpf.masked}")
        assert cpf.formatted not in await page.content()
        await page.screenshot(path=SHOTS / "console-conversa.png")
        assert [m["text"] for m in telegram.sent(chat.chat_id)[before:]] == [AGENT_SAYS]

        await page.get_by_role("button", name="Devolver ao bot").click()
        await expect(page.get_by_role("button", name="Assumir")).to_be_visible(timeout=WITHIN)
        await wait_until(lambda: len(telegram.sent(chat.chat_id)) >= before + 2)
        assert telegram.sent(chat.chat_id)[before + 1]["text"] == texts.HANDOFF_BACK
        [guides] = await chat.say("minhas guias")  # the bot answers again
        assert guides["text"].startswith(texts.GUIDES_HEADER) and guide.numero in guides["text"]
        await expect(lines.last).to_contain_text(guide.numero, timeout=WITHIN)
        await page.screenshot(path=SHOTS / "console-devolvida.png")
        await context.close()
    assert not errors, errors


async def live(page: Page) -> None:
    """The page's live stream is connected (what happens from now on reaches it)."""
    await expect(page.locator("body")).to_have_attribute("data-ao-vivo", "sim", timeout=WITHIN)
