"""The SAB actions in a real browser (Debian's Chromium): an agent finds the beneficiary with
Buscar, gives a code by phone that the dentist API then validates, unlocks a guide locked by
wrong codes, changes a mobile (the chat link goes), unlocks and unlinks chats; an action
without a reason is refused and changes nothing. Screenshots: /tmp/console-sab-*.png.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from tests.conftest import World
from tests.support import refs
from tests.support.console import chromium, new_agent, sign_in
from tests.support.server import RunningServer
from token_core import audit
from token_core.chat import links
from token_core.chat.conversations import ChatRef
from token_core.persistence.models import Beneficiary, ChatLink, Conversation, Guide, OutboxEvent
from token_core.registry.identity import Cpf, Mobile
from token_core.vocabulary import AuditKind, Channel, EventType, utc_now

REASON = "Beneficiário ligou e confirmou os dados"
STEP_MS = 5000  # each expectation waits at most this long
SHOTS = Path("/tmp")  # noqa: S108 - screenshots for a person to look at


@dataclass
class Console:
    page: Page
    login: str
    server: RunningServer

    @property
    def actor(self) -> str:
        return f"agent:{self.login}"

    def action(self, name: str) -> Locator:
        return self.page.get_by_role("region", name=name)

    async def confirm(self, name: str, reason: str = REASON, **fields: str) -> Locator:
        """Fill an action's form (labels → values), type the reason and press Confirmar."""
        section = self.action(name)
        for label, value in fields.items():
            await section.get_by_label(label, exact=True).fill(value)
        await section.get_by_label("Motivo").fill(reason)
        await section.get_by_role("button", name="Confirmar").click()
        return section

    async def shot(self, name: str) -> None:
        path = SHOTS / f"console-sab-{name}.png"
        await self.page.screenshot(path=path, full_page=True)
        print(f"screenshot: {path}")

    async def assert_no_secrets(self, *secrets: str) -> None:
        html = await self.page.content()
        for secret in secrets:
            assert secret not in html


@pytest.fixture
async def console(server: RunningServer) -> AsyncIterator[Console]:
    login, password = await new_agent(server)
    async with chromium() as browser:
        context = await browser.new_context(locale="pt-BR", viewport={"width": 1280, "height": 800})
        context.set_default_timeout(STEP_MS)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(page, server, login, password)
        yield Console(page, login, server)
        await context.close()
        assert not errors, errors


def secrets_of(ben: Beneficiary, cpf: str) -> list[str]:
    """What must never show in the page: the CPF and the mobile, in any common form."""
    parsed = Cpf.parse(cpf)
    found = [parsed.digits, parsed.formatted]
    if ben.mobile:
        mobile = Mobile(ben.mobile)
        found += [
            mobile.e164,
            mobile.e164[3:],
            mobile.local,
            f"{mobile.local[:5]}-{mobile.local[5:]}",
        ]
    return found


def other_cpf(cpf: str) -> str:
    while True:
        other = refs.cpf()
        if other != cpf:
            return other


async def open_beneficiary(console: Console, ben: Beneficiary, typed: str, shot: str = "") -> None:
    """Beneficiários → Buscar (Enter) → the row with the masked data → the beneficiary's page."""
    page = console.page
    await page.get_by_role("link", name="Beneficiários").click()
    await page.get_by_label("Buscar").fill(typed)
    await page.get_by_label("Buscar").press("Enter")
    row = page.get_by_role("row").filter(has_text=ben.carteirinha)
    await expect(row).to_contain_text(ben.cpf_masked)
    if ben.mobile:
        await expect(row).to_contain_text(Mobile(ben.mobile).masked)
    if shot:
        await console.shot(shot)
    await row.get_by_role("link", name=ben.name).click()
    await page.wait_for_url(f"**/atendimento/beneficiarios/{ben.carteirinha}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(ben.carteirinha)


async def test_a_code_given_by_phone_validates_through_the_dentist_api(
    console: Console, world: World
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    guide = await world.guide(ben)
    page, server = console.page, console.server
    spaced = f"{ben.carteirinha[:4]} {ben.carteirinha[4:10]}.{ben.carteirinha[10:]}"
    await open_beneficiary(console, ben, spaced)  # dots and spaces are ignored

    section = await console.confirm("Gerar código por telefone", CPF=other_cpf(cpf))
    await expect(section.get_by_role("alert")).to_have_text(
        "O CPF informado não confere com o do beneficiário."
    )
    await expect(section.get_by_label("CPF", exact=True)).to_have_value("")  # never kept
    await expect(section.get_by_label("Motivo")).to_have_value(REASON)

    await section.get_by_label("Guia").select_option(guide.numero)
    await section.get_by_label("CPF", exact=True).fill(Cpf.parse(cpf).formatted)
    async with page.expect_response(re.compile(r"/codigo$")) as answered:
        await section.get_by_role("button", name="Confirmar").click()
    response = await answered.value
    assert response.status == 200 and response.headers["cache-control"] == "no-store"
    shown = page.get_by_role("region", name="Código gerado")
    code = (await shown.locator("#codigo").inner_text()).strip()
    assert re.fullmatch(r"\d{6}", code), code
    assert code not in page.url
    for text in ("Dra. Teste", "PR-00001", "81000065 · Consulta", guide.numero):
        await expect(shown).to_contain_text(text)
    await expect(shown).to_contain_text(re.compile(r"Válido até \d\d:\d\d \(horário de Brasília\)"))
    await expect(console.action("Gerar código por telefone").get_by_label("CPF")).to_have_value("")
    await console.assert_no_secrets(*secrets_of(ben, cpf))
    await console.shot("codigo")

    validated = await server.call(
        "POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": code}
    )
    assert validated.status == 200, validated.body
    trail = await audit.trail(guide=guide.numero)
    issued = [(e.actor, e.channel) for e in trail if e.kind is AuditKind.TOKEN_ISSUED]
    assert issued == [(console.actor, Channel.SAB)]
    [delivered] = [e for e in trail if e.kind is AuditKind.TOKEN_DELIVERED]
    assert (delivered.actor, delivered.channel, delivered.detail["motivo"]) == (
        console.actor,
        Channel.SAB,
        REASON,
    )
    mismatches = [e for e in await audit.trail(carteirinha=ben.carteirinha)]
    assert [e.actor for e in mismatches if e.kind is AuditKind.IDENTITY_MISMATCH] == [console.actor]

    await page.reload()  # GET again: the code is gone for good
    await expect(page.get_by_role("region", name="Código gerado")).to_have_count(0)
    await console.assert_no_secrets(code)


async def test_a_guide_locked_by_wrong_codes_is_unlocked_and_then_validates(
    console: Console, world: World
) -> None:
    ben = await world.beneficiary()
    guide = await world.guide(ben)
    server = console.server
    code = (await server.services.issuer.for_guide(guide.numero, Channel.SMS, "test")).code
    wrong = f"{(int(code.reveal()) + 1) % 10**6:06d}"
    path = f"/api/v1/guias/{guide.numero}/validacao"
    for _ in range(5):
        await server.call("POST", path, {"token": wrong})
    locked = await server.call("POST", path, {"token": code.reveal()})
    assert (locked.status, locked.body["erro"]) == (423, "GUIA_BLOQUEADA")

    await open_beneficiary(console, ben, guide.numero.lower())  # by the guide's number
    await expect(console.page.locator("#guias")).to_contain_text("bloqueada até")
    section = console.action("Desbloquear guia")
    await expect(section.get_by_label("Guia")).to_have_value(guide.numero)
    await console.confirm("Desbloquear guia")
    await expect(console.page.locator("#feito")).to_have_text(
        "Guia desbloqueada. O dentista já pode validar o código."
    )
    await expect(console.page.locator("#guias")).not_to_contain_text("bloqueada até")
    await expect(console.page.locator("#eventos")).to_contain_text(
        f"guia desbloqueada · {guide.numero} · por {console.login} · “{REASON}”"
    )
    await console.shot("guia-desbloqueada")

    validated = await server.call("POST", path, {"token": code.reveal()})
    assert validated.status == 200, validated.body
    [unlocked] = [
        e for e in await audit.trail(guide=guide.numero) if e.kind is AuditKind.GUIDE_UNLOCKED
    ]
    assert (unlocked.actor, unlocked.detail["motivo"]) == (console.actor, REASON)


async def test_a_new_mobile_revokes_the_chat_link(console: Console, world: World) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    await links.link(Channel.TELEGRAM, f"tg{refs.suffix()}", ben)
    await Beneficiary.filter(id=ben.id).update(default_channel=Channel.TELEGRAM)
    assert ben.mobile
    new = Mobile.parse(refs.mobile())
    while new.e164 == ben.mobile:
        new = Mobile.parse(refs.mobile())
    await open_beneficiary(console, ben, ben.mobile[-4:], shot="busca")  # the phone's last 4
    page = console.page
    await expect(page.locator("#chats")).to_have_text("Telegram")
    await expect(page.locator("#canal-padrao")).to_have_text("Telegram")

    section = await console.confirm("Alterar celular", **{"Novo celular": "41 3333-444"})
    await expect(section.get_by_role("alert")).to_have_text(
        "Informe um celular com DDD e 9 dígitos."
    )
    assert (await Beneficiary.get(id=ben.id)).mobile == ben.mobile

    typed = f"({new.ddd}) {new.local[:5]}-{new.local[5:]}"
    await console.confirm("Alterar celular", **{"Novo celular": typed})
    await expect(page.locator("#feito")).to_contain_text("Celular alterado.")
    await expect(page.locator("#celular-atual")).to_have_text(new.masked)
    await expect(page.locator("#chats")).to_have_text("nenhum")
    await expect(page.locator("#canal-padrao")).to_have_text("nenhum")
    await console.assert_no_secrets(*secrets_of(await Beneficiary.get(id=ben.id), cpf), typed)
    await console.shot("celular-alterado")

    saved = await Beneficiary.get(id=ben.id)
    assert saved.mobile == new.e164 and saved.default_channel is None
    assert not await ChatLink.filter(beneficiary_id=ben.id, revoked_at=None).exists()
    [changed] = [
        e
        for e in await audit.trail(carteirinha=ben.carteirinha)
        if e.kind is AuditKind.CONTACT_CHANGED
    ]
    assert (changed.actor, changed.detail["motivo"], changed.detail["vinculos_revogados"]) == (
        console.actor,
        REASON,
        1,
    )
    queued = await OutboxEvent.filter(event_type=EventType.CONTACT_CHANGED.value)
    assert [e.payload["campo"] for e in queued if e.payload["carteirinha"] == ben.carteirinha] == [
        "celular"
    ]


async def test_an_action_without_a_reason_is_refused_and_changes_nothing(
    console: Console, world: World
) -> None:
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    guide = await world.guide(ben)
    await open_beneficiary(console, ben, ben.carteirinha)
    before = await audit.trail(carteirinha=ben.carteirinha)
    refused = "Informe o motivo (ao menos 5 caracteres)."

    address = f"novo.{refs.suffix()}@exemplo.com.br"
    section = await console.confirm("Alterar e-mail", reason="ok", **{"Novo e-mail": address})
    await expect(section.get_by_role("alert")).to_have_text(refused)
    await expect(section.get_by_label("Novo e-mail")).to_have_value(address)  # kept to fix
    section = await console.confirm("Gerar código por telefone", reason="  ok ", CPF=cpf)
    await expect(section.get_by_role("alert")).to_have_text(refused)
    await expect(console.page.get_by_role("region", name="Código gerado")).to_have_count(0)
    await console.shot("sem-motivo")

    assert (await Beneficiary.get(id=ben.id)).email == ben.email
    after = await audit.trail(carteirinha=ben.carteirinha)
    changes = [e.kind for e in after[len(before) :] if e.kind is not AuditKind.SAB_LOOKUP]
    assert changes == []
    assert (await Guide.get(id=guide.id)).status.value == "AGUARDANDO_TOKEN"


async def test_a_chat_locked_out_of_linking_is_unlocked_and_a_linked_chat_unlinked(
    console: Console, world: World
) -> None:
    ben = await world.beneficiary()
    server = console.server
    locked = ChatRef(Channel.TELEGRAM, f"tg{refs.suffix()}")
    await server.services.desk.conversations.touch(locked, None, "***.456.789-**", utc_now())
    stranger = Mobile.parse(refs.mobile())
    for _ in range(3):  # three CPFs that do not match the shared phone
        await server.services.linking.link(
            locked.channel,
            locked.chat_id,
            server.services.linking.phone_proof(stranger),
            Cpf.parse(refs.cpf()),
        )
    linked = ChatRef(Channel.TELEGRAM, f"tg{refs.suffix()}")
    await links.link(linked.channel, linked.chat_id, ben)
    await server.services.desk.conversations.touch(linked, ben.id, "oi", utc_now())

    await open_beneficiary(console, ben, ben.carteirinha)
    page = console.page
    chat = console.action("Desbloquear vínculo").get_by_label("Chat")
    await chat.select_option(f"{locked.channel.value}:{locked.chat_id}")
    await expect(console.action("Desbloquear vínculo")).to_contain_text("“***.456.789-**”")
    await console.shot("vinculo-bloqueado")
    await console.confirm("Desbloquear vínculo")
    await expect(page.locator("#feito")).to_have_text(
        "Vínculo desbloqueado. O beneficiário já pode vincular o chat de novo."
    )
    assert await server.services.linking.locked_until(locked.channel, locked.chat_id) is None
    await expect(console.action("Desbloquear vínculo")).to_contain_text(
        "Nenhum chat com vínculo bloqueado agora."
    )

    await console.confirm("Desvincular chat")
    await expect(page.locator("#feito")).to_have_text(
        "Chat desvinculado. A conversa foi encerrada."
    )
    await expect(page.locator("#chats")).to_have_text("nenhum")
    await console.shot("chat-desvinculado")
    assert await links.active_for(linked.channel, linked.chat_id) is None
    conversation = await Conversation.get(channel=linked.channel, chat_id=linked.chat_id)
    assert conversation.state == "encerrada"
    trail = await audit.trail(carteirinha=ben.carteirinha)
    done = [(e.kind, e.actor, e.detail.get("motivo")) for e in trail]
    assert (AuditKind.CHAT_LINK_UNLOCKED, console.actor, REASON) in done
    assert (AuditKind.CHAT_UNLINKED, console.actor, REASON) in done
