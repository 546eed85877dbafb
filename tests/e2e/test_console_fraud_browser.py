"""A fraud report from the chat to the dentist system, in a real browser (Debian's Chromium): the
beneficiary taps "Não reconheço esta guia" on the code card (through the Bot API peer), the
report is in Relatos de fraude, a supervisor resolves it as procedente with a note and a
reason, and the callback receiver gets `fraude.resolvida` once. Then the Painel (its chart at
1280×800) and the Auditoria show it. Screenshots: /tmp/console-*.png.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from handlers.chat import texts
from tests.conftest import World
from tests.e2e.test_telegram import TelegramChat
from tests.peers.callback_receiver import CallbackReceiver
from tests.peers.telegram_api import TelegramApi
from tests.support import refs
from tests.support.console import chromium, new_agent, sign_in
from tests.support.console_chat import TOKEN, telegram_server
from tests.support.outbox import other_events_parked
from tests.support.waiting import wait_until
from token_core.persistence.models import AuditEvent, FraudReport
from token_core.registry.identity import Cpf
from token_core.vocabulary import AgentRole, AuditKind, Channel

SECRET = "callback-secret-for-tests-0123456789"
STEP_MS = 5000  # each expectation waits at most this long
SHOTS = Path("/tmp")  # noqa: S108 - screenshots for a person to look at
REASON = "Beneficiária confirmou por telefone que não foi atendida"


@pytest.fixture(autouse=True)
async def _park_other_events() -> AsyncIterator[None]:
    """The dispatcher here sends only this test's events (see tests/support/outbox.py)."""
    async with other_events_parked():
        yield


def resolved_events(receiver: CallbackReceiver, numero: str) -> list[dict[str, Any]]:
    return [
        e
        for e in receiver.events
        if e["tipo"] == "fraude.resolvida" and e["dados"]["numero"] == numero
    ]


async def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    path = SHOTS / f"console-{name}.png"
    await page.screenshot(path=path, full_page=full_page)
    print(f"screenshot: {path}")


async def test_a_fraud_report_from_the_chat_is_resolved_and_reaches_the_dentist_system_once(
    tmp_path: Path, world: World
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf, mobile="(41) 98857-5949")
    guide = await world.guide(ben)
    callbacks = {
        "url": "",
        "client_id": "odontoken",
        "secret": SECRET,
        "poll_seconds": 0.05,
        "max_backoff_seconds": 0.3,
        "timeout_seconds": 2,
    }
    async with (
        CallbackReceiver("odontoken", SECRET) as receiver,
        TelegramApi(token=TOKEN) as peer,
        telegram_server(tmp_path, peer, callbacks=callbacks | {"url": receiver.url}) as server,
    ):
        # The beneficiary, in Telegram: link, "Gerar token", then "Não reconheço esta guia".
        chat = TelegramChat(server, peer)
        await chat.link(cpf)
        [card] = await chat.say("Gerar token")
        buttons = [b for row in card["reply_markup"]["inline_keyboard"] for b in row]
        [not_mine] = [b for b in buttons if b["text"] == texts.NOT_MINE_BUTTON]
        press = peer.callback_update(
            chat.chat_id, chat.user_id, not_mine["callback_data"], card["message_id"]
        )
        [thanks] = await chat.exchange(press)
        assert thanks["text"] == texts.FRAUD_THANKS
        report = await FraudReport.get(guide_numero=guide.numero)
        await wait_until(
            lambda: [e for e in receiver.events if e["tipo"] == "fraude.reportada"], within=5
        )

        # Another guide validated by the dentist after one wrong try: numbers for the Painel.
        other = await world.guide(await world.beneficiary())
        issued = await server.services.issuer.for_guide(other.numero, Channel.SMS, "sio")
        code = issued.code.reveal()
        path = f"/api/v1/guias/{other.numero}/validacao"
        wrong = await server.call("POST", path, {"token": f"{(int(code) + 1) % 10**6:06d}"})
        assert wrong.status == 422
        assert (await server.call("POST", path, {"token": code})).status == 200

        login, password = await new_agent(server, AgentRole.SUPERVISOR, "Sônia Supervisora")
        async with chromium() as browser:
            context = await browser.new_context(
                locale="pt-BR", viewport={"width": 1280, "height": 800}
            )
            context.set_default_timeout(STEP_MS)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await sign_in(page, server, login, password)

            # Relatos de fraude: the report with its guide, dentist, time and masked person.
            await page.get_by_role("link", name="Relatos de fraude").click()
            item = page.get_by_role("article", name=f"Relato {report.id}", exact=True)
            await expect(item).to_contain_text(f"Guia {guide.numero}")
            await expect(item).to_contain_text("Dra. Teste · CRO PR-00001")
            await expect(item).to_contain_text("(horário de Brasília)")
            await expect(item).to_contain_text(Cpf.parse(cpf).masked)
            await expect(item).to_contain_text(ben.carteirinha)
            link = item.get_by_role("link", name="Abrir a conversa")
            assert await link.get_attribute("href") == (
                f"/atendimento/conversas/telegram/{chat.chat_id}"
            )
            await shot(page, "fraudes")

            # Resolver: procedente, a note (a CPF typed in it is kept masked) and the reason.
            await item.get_by_label("Resultado").select_option("procedente")
            note = f"Não esteve na clínica. CPF {Cpf.parse(cpf).formatted} conferido."
            await item.get_by_label("Observação").fill(note)
            await item.get_by_label("Motivo").fill(REASON)
            await item.get_by_role("button", name="Resolver").click()
            await expect(page.get_by_role("status")).to_contain_text(
                "Relato resolvido como procedente"
            )
            await expect(item).to_be_hidden()
            history = page.locator("table.resolvidos")
            await expect(history).to_contain_text(guide.numero)
            await expect(history).to_contain_text(Cpf.parse(cpf).masked)
            assert Cpf.parse(cpf).formatted not in await page.content()
            await shot(page, "fraudes-resolvido")

            # The dentist system hears it once, with the outcome.
            [event] = await wait_until(lambda: resolved_events(receiver, guide.numero), within=5)
            assert event["dados"]["resultado"] == "procedente"
            assert event["dados"]["carteirinha"] == ben.carteirinha
            await asyncio.sleep(0.5)  # a few more dispatcher passes: still once
            assert len(resolved_events(receiver, guide.numero)) == 1
            assert receiver.deliveries_by_id[str(event["id"])] == 1
            assert receiver.refused == 0

            # Painel: the numbers and the chart (codes per channel per day).
            await page.get_by_role("link", name="Painel").click()
            chart = page.get_by_role("img", name="Códigos emitidos por canal")
            await expect(chart).to_be_visible()
            assert await chart.locator("rect.barra").count() >= 1
            await expect(page.locator(".legenda")).to_contain_text("Telegram")
            await expect(page.locator(".legenda")).to_contain_text("SMS")
            await expect(page.locator("#taxa")).to_contain_text("%")
            await expect(page.locator("#mediana")).to_contain_text(" s")
            await expect(page.locator("#fraudes-abertos")).to_have_text(
                str(await FraudReport.filter(resolved_at=None).count())
            )
            await shot(page, "painel", full_page=False)

            # Auditoria: the resolution, by whom and why.
            await page.get_by_role("link", name="Auditoria").click()
            await page.get_by_label("Guia", exact=True).fill(guide.numero)
            await page.get_by_role("button", name="Filtrar").click()
            row = page.locator("tr.evento", has_text="fraud.resolved")
            await expect(row).to_contain_text(f"agent:{login}")
            await expect(row).to_contain_text(REASON)
            await expect(page.locator("tr.evento", has_text="fraud.reported")).to_have_count(1)
            await shot(page, "auditoria")
            await context.close()
            assert not errors, errors

        [audited] = await AuditEvent.filter(
            kind=AuditKind.FRAUD_RESOLVED, guide_numero=guide.numero
        )
        assert audited.actor == f"agent:{login}" and audited.detail["motivo"] == REASON
