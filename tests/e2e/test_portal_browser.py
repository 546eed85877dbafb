"""The reference portal in a real browser: the dentist consults a guide, picks a channel in the
pop-up, types the code the beneficiary reads out and sees the guide VALIDADA.

Chromium is the system one (/usr/bin/chromium, installed by scripts/browser); Playwright never
downloads a browser here.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    async_playwright,
    expect,
)

from tests.conftest import World
from tests.support import refs
from tests.support.server import RunningServer
from token_core.persistence.models import Beneficiary, Guide
from token_core.registry.identity import Mobile
from token_core.vocabulary import Channel, GuideStatus

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
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
SCREENSHOT_COPY = Path("/tmp/portal-validada.png")  # noqa: S108 - asked for, to look at by hand
TOKEN_TTL = timedelta(seconds=600)  # settings: token.ttl_seconds
TOKEN_LABEL = "Informe o token do beneficiário para iniciar o atendimento:"


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


def _is_script_error(message: ConsoleMessage) -> bool:
    """A console error other than the browser's note on an answer with an error status."""
    return message.type == "error" and not message.text.startswith("Failed to load resource")


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh page in a browser set to another time zone: the portal must show São Paulo time."""
    context = await browser.new_context(
        locale="pt-BR", timezone_id="Asia/Tokyo", viewport={"width": 1100, "height": 900}
    )
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("console", lambda msg: errors.append(msg.text) if _is_script_error(msg) else None)
    yield opened
    await context.close()
    assert not errors, errors


async def open_validation_popup(page: Page, server: RunningServer, guide: Guide) -> Locator:
    """Consult the guide, check what the page shows of it, and open the channel pop-up."""
    await page.goto(server.base_url + "/portal")
    await page.get_by_label("Número da guia").fill(guide.numero)
    await page.get_by_role("button", name="Consultar guia").click()
    card = page.get_by_role("region", name=f"Guia {guide.numero}")
    for text in ("Dra. Teste", "PR-00001", "Clínica Teste", "81000065", "AGUARDANDO TOKEN"):
        await expect(card).to_contain_text(text)
    await card.get_by_role("button", name="Validar guia").click()
    return page.get_by_role("dialog", name=f"Validar guia {guide.numero}")


def sms_code(data_dir: Path, masked: str) -> str:
    """The code in the last SMS the console sender wrote to the outbox for `masked`."""
    outbox = (data_dir / "outbox.txt").read_text(encoding="utf-8")
    last = outbox.rsplit(f" sms to {masked} ===\n", 1)[1]
    found = re.search(r"\b\d{6,8}\b", last)
    assert found, last
    return found.group()


async def app_code(server: RunningServer, beneficiary: Beneficiary) -> str:
    """What the app's "Gerar Token" gives the beneficiary: a code for the next guide."""
    issued = await server.services.issuer.for_beneficiary(
        beneficiary.carteirinha, Channel.APP, "app"
    )
    return issued.code.reveal()


async def test_a_dentist_sends_the_code_by_sms_and_validates_the_guide(
    server: RunningServer, world: World, page: Page, tmp_path: Path
) -> None:
    ben = await world.beneficiary()
    guide = await world.guide(ben)
    assert ben.mobile
    popup = await open_validation_popup(page, server, guide)
    masked = Mobile(ben.mobile).masked
    await expect(popup).to_contain_text(
        f"O beneficiário possui contato de SMS cadastrado, com o número {masked}. "
        "Deseja realizar o envio para este mesmo número?"
    )
    await expect(popup.get_by_role("button", name="Sim", exact=True)).to_be_focused()
    await page.keyboard.press("Escape")  # the pop-up closes from the keyboard and reopens
    await expect(popup).to_be_hidden()
    await expect(page.get_by_role("button", name="Validar guia")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(popup).to_be_visible()

    before = datetime.now(SAO_PAULO)
    await popup.get_by_role("button", name="Sim", exact=True).click()
    sent = popup.get_by_role("status")
    await expect(sent).to_contain_text(f"Token enviado por SMS para {masked}. Válido até ")
    until = {(moment + TOKEN_TTL).strftime("%H:%M") for moment in (before, datetime.now(SAO_PAULO))}
    assert (await sent.inner_text()).removesuffix(".")[-5:] in until
    token = popup.get_by_label(TOKEN_LABEL)
    await expect(token).to_be_focused()
    await token.fill(sms_code(tmp_path, masked))
    await popup.get_by_role("button", name="Validar", exact=True).click()

    result = page.get_by_role("region", name=f"Guia {guide.numero}")
    await expect(result.get_by_role("heading", name="Guia VALIDADA")).to_be_focused()
    await expect(popup).to_be_hidden()
    saved = await Guide.get(numero=guide.numero)
    assert saved.status is GuideStatus.VALIDATED and saved.validated_at
    assert saved.validation_code
    at = saved.validated_at.astimezone(SAO_PAULO).strftime("%H:%M")
    await expect(page.get_by_role("status").first).to_have_text(
        f"Guia {guide.numero} VALIDADA às {at}. Código de validação: {saved.validation_code}."
    )
    await expect(result).to_contain_text(saved.validation_code)
    await expect(result.get_by_role("button", name="Validar guia")).to_be_hidden()

    shot = tmp_path / "portal-validada.png"
    await page.screenshot(path=shot, full_page=True)
    shutil.copyfile(shot, SCREENSHOT_COPY)
    print(f"screenshot: {shot} (copy: {SCREENSHOT_COPY})")


async def test_another_mobile_is_refused_with_the_operators_message(
    server: RunningServer, world: World, page: Page
) -> None:
    ben = await world.beneficiary()
    guide = await world.guide(ben)
    other = Mobile.parse(refs.mobile())
    while other.e164 == ben.mobile:
        other = Mobile.parse(refs.mobile())
    popup = await open_validation_popup(page, server, guide)
    await popup.get_by_role("button", name="Informar outro número").click()
    await expect(popup.get_by_label("DDD")).to_be_focused()
    await popup.get_by_label("DDD").fill(other.ddd)
    await popup.get_by_label("Celular").fill(other.local)
    await popup.get_by_role("button", name="Enviar SMS").click()

    message = page.get_by_role("alertdialog", name="Mensagem")
    await expect(message).to_contain_text(
        "Para realizar a alteração do celular ou do e-mail o beneficiário deve entrar em "
        "contato com a operadora."
    )
    await expect(message.get_by_role("button", name="OK")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(message).to_be_hidden()
    await expect(popup).to_be_visible()
    assert (await Beneficiary.get(id=ben.id)).mobile == ben.mobile


async def test_a_wrong_code_shows_the_attempts_left_and_the_right_one_still_validates(
    server: RunningServer, world: World, page: Page, tmp_path: Path
) -> None:
    ben = await world.beneficiary()
    guide = await world.guide(ben)
    code = await app_code(server, ben)
    popup = await open_validation_popup(page, server, guide)
    await popup.get_by_role("button", name="Token gerado pelo beneficiário (app ou chat)").click()
    token = popup.get_by_label(TOKEN_LABEL)
    await expect(token).to_be_focused()
    await token.fill(f"{(int(code) + 1) % 10**6:06d}")
    await popup.get_by_role("button", name="Validar", exact=True).click()

    await expect(popup.get_by_role("alert")).to_have_text(
        "Token inválido. Confira os números com o beneficiário. Tentativas restantes: 4."
    )
    await expect(token).to_be_focused()
    await expect(token).to_have_attribute("aria-invalid", "true")
    shot = tmp_path / "portal-token-invalido.png"
    await page.screenshot(path=shot)
    print(f"screenshot: {shot}")
    assert (await Guide.get(numero=guide.numero)).status is GuideStatus.AWAITING_TOKEN

    await token.fill(code)
    await token.press("Enter")
    await expect(page.get_by_role("heading", name="Guia VALIDADA")).to_be_visible()
    assert (await Guide.get(numero=guide.numero)).status is GuideStatus.VALIDATED


async def test_the_portal_proxy_forwards_only_the_four_calls_of_the_page(
    server: RunningServer, world: World
) -> None:
    guide = await world.guide()
    portal = f"{server.base_url}/portal/api"
    direct = await server.call("GET", f"/api/v1/guias/{guide.numero}")
    for _ in range(2):  # the same call twice in one second: each gets its own signature
        async with server.session.get(f"{portal}/guias/{guide.numero}") as answer:
            assert answer.status == 200 and await answer.json() == direct.body
            assert answer.headers["Cache-Control"] == "no-store"

    refused = [
        ("PUT", f"/guias/{guide.numero}", 404, "RECURSO_NAO_ENCONTRADO"),
        ("GET", "/clientes", 404, "RECURSO_NAO_ENCONTRADO"),
        ("GET", "/guias/a%20b", 400, "REQUISICAO_INVALIDA"),
        ("GET", "/beneficiarios/..%2F..%2Fx/canais", 400, "REQUISICAO_INVALIDA"),
        ("GET", "/guias/NAO-EXISTE", 404, "GUIA_NAO_ENCONTRADA"),
    ]
    for method, path, status, code in refused:
        async with server.session.request(method, portal + path, json={}) as answer:
            assert (answer.status, (await answer.json())["erro"]) == (status, code), path
    async with server.session.post(
        f"{portal}/guias/{guide.numero}/validacao", data=b'{"token": "123456"}'
    ) as answer:
        assert answer.status == 415  # not JSON: a cross-site form cannot post here
    async with server.session.get(f"{server.base_url}/portal") as answer:
        html = await answer.text()
        assert answer.status == 200 and "Validar guia" in html
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
