"""Helpers for console tests: a browser (Debian's Chromium, never downloaded), agents, signing in
through the real login form.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.support import refs
from tests.support.server import RunningServer
from token_core.vocabulary import AgentRole

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():  # noqa: ASYNC240 - once, before any loop work
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser to install Chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def new_agent(
    server: RunningServer, role: AgentRole = AgentRole.ATTENDANT, name: str = "Ana Atendente"
) -> tuple[str, str]:
    """(login, password) of a fresh agent."""
    login = f"agente{refs.suffix().lower()}"
    password = await server.services.agents.create(login, name, role)
    return login, password


async def sign_in(page: Page, server: RunningServer, login: str, password: str) -> None:
    """Sign in through the login form, as a person would (Usuário, Senha, Entrar)."""
    await page.goto(f"{server.base_url}/atendimento/entrar")
    await page.get_by_label("Usuário").fill(login)
    await page.get_by_label("Senha").fill(password)
    await page.get_by_role("button", name="Entrar").click()
    await page.wait_for_url("**/atendimento/conversas")
