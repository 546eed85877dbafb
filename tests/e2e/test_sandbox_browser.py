"""The seed's whole flow in a browser, from `scripts/run` on a fresh data folder: in the sandbox
chat a demo beneficiary links with her CPF and asks "gerar token"; the dentist validates the
guide with that code on the reference portal; the chat shows the receipt.

Chromium is the system one (/usr/bin/chromium); Playwright never downloads a browser here.
Screenshots are kept in /tmp to look at (docs/sandbox-screenshot.png is one of them).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

from tests.support import backends
from tests.support.demo_server import DemoServer, demo_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
SHOTS = Path("/tmp")  # noqa: S108 - asked for, to look at by hand
MARIA = "0001000100010"
MARIA_CPF = "529.982.247-25"
GUIDE = "GTO-2026-000101"
TOKEN_LABEL = "Informe o token do beneficiário para iniciar o atendimento:"


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoServer]:
    prefix = backends.redis_prefix() if backends.selected_backend() == "production" else None
    try:
        async with demo_server(tmp_path_factory.mktemp("demo"), prefix) as running:
            yield running
    finally:
        if prefix:
            await backends.redis_cleanup(prefix)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():  # noqa: ASYNC240 - once, before any loop work
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser to install Chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


def _script_error(message: ConsoleMessage) -> bool:
    return message.type == "error" and not message.text.startswith("Failed to load resource")


async def new_page(browser: Browser, errors: list[str]) -> Page:
    context = await browser.new_context(
        locale="pt-BR", timezone_id="America/Sao_Paulo", viewport={"width": 900, "height": 900}
    )
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if _script_error(msg) else None)
    return page


async def say(chat: Page, text: str) -> None:
    await chat.get_by_label("Mensagem", exact=True).fill(text)
    await chat.get_by_role("button", name="Enviar", exact=True).click()


async def test_the_sandbox_links_asks_a_code_the_portal_validates_it_and_the_chat_gets_the_receipt(
    demo: DemoServer, browser: Browser
) -> None:
    errors: list[str] = []
    chat = await new_page(browser, errors)
    await chat.goto(demo.base_url + "/sandbox")
    await chat.get_by_label("Beneficiário", exact=True).select_option(MARIA)
    log = chat.get_by_role("log", name="Conversa")
    await expect(chat.get_by_label("Mensagem", exact=True)).to_be_enabled()

    await say(chat, "oi")
    await expect(log).to_contain_text("digite o seu CPF (só os números)")
    await say(chat, MARIA_CPF)
    await expect(log).to_contain_text("Pronto, Maria! Seu Sandbox está vinculado.")
    await expect(log).to_contain_text("Por segurança, apaguei a mensagem com o seu CPF.")
    await expect(log).not_to_contain_text(MARIA_CPF)  # the page took the CPF message away

    await chat.get_by_role("button", name="Gerar token", exact=True).click()
    await expect(log).to_contain_text("Seu código de segurança:")
    await expect(log).to_contain_text(f"Guia {GUIDE}")
    card = log.get_by_role("listitem").filter(has_text="Seu código de segurança:")
    await expect(card.get_by_role("button", name="Copiar código")).to_be_visible()
    await expect(card.get_by_role("button", name="Não reconheço esta guia")).to_be_visible()
    found = re.search(r"Seu código de segurança: (\d{6,8})", await card.inner_text())
    assert found, await card.inner_text()
    code = found.group(1)
    await chat.screenshot(path=str(SHOTS / "sandbox-token.png"), full_page=True)

    portal = await new_page(browser, errors)
    await portal.goto(demo.base_url + "/portal")
    await portal.get_by_label("Número da guia").fill(GUIDE)
    await portal.get_by_role("button", name="Consultar guia").click()
    await portal.get_by_role("button", name="Validar guia").click()
    popup = portal.get_by_role("dialog", name=f"Validar guia {GUIDE}")
    # The code was made in the chat: the pop-up opens on "gerado pelo beneficiário".
    await expect(popup).to_contain_text("O beneficiário gera o token no app")
    await popup.get_by_label(TOKEN_LABEL).fill(code)
    await popup.get_by_role("button", name="Validar", exact=True).click()
    result = portal.get_by_role("region", name=f"Guia {GUIDE}")
    await expect(result.get_by_role("heading", name="Guia VALIDADA")).to_be_visible()
    await portal.screenshot(path=str(SHOTS / "sandbox-portal.png"), full_page=True)

    receipt = f"✅ Guia {GUIDE} validada às "
    await expect(log).to_contain_text(receipt, timeout=15_000)
    await expect(log).to_contain_text("com Dra. Helena Martins. Bom atendimento!")
    await chat.screenshot(path=str(SHOTS / "sandbox-recibo.png"), full_page=True)
    shutil.copyfile(SHOTS / "sandbox-recibo.png", SHOTS / "sandbox-screenshot.png")

    # A reload keeps the chat: the transcript comes back, the code masked.
    await chat.reload()
    await expect(log).to_contain_text(receipt)
    await expect(log).not_to_contain_text(code)
    assert not errors, errors
