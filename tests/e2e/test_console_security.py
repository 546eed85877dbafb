"""The console's edge over HTTP, as a browser or an attacker would meet it: CSRF, Origin, login
lockout and its words, supervisor pages, reasons, sessions (disable, Sair, cookie attributes,
a new id at each sign-in), and a search for a full CPF, phone or code in every page and in the
live stream after a real chat session.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import World
from tests.e2e.test_telegram import CODE, TelegramChat
from tests.peers.telegram_api import TelegramApi
from tests.support import refs
from tests.support.console import new_agent
from tests.support.console_chat import TOKEN, ConsoleAgent, telegram_server
from tests.support.console_http import ConsoleClient, csrf_of
from tests.support.server import RunningServer, running_server, server_settings
from token_core.chat.conversations import ChatRef
from token_core.persistence.models import AuditEvent, Conversation, FraudReport
from token_core.registry.identity import Cpf, Mobile
from token_core.vocabulary import AgentRole, AuditKind, Channel, ConversationState

WRONG = "Usuário ou senha incorretos."


@pytest.fixture
async def console(server: RunningServer) -> AsyncIterator[ConsoleClient]:
    async with ConsoleClient(server) as client:
        yield client


async def signed_in(
    server: RunningServer, client: ConsoleClient, role: AgentRole = AgentRole.ATTENDANT
) -> str:
    login, password = await new_agent(server, role)
    assert (await client.sign_in(login, password)).status == 303
    return login


async def waiting_chat(server: RunningServer) -> ChatRef:
    """A chat whose beneficiary asked for a person ("aguardando atendente")."""
    chat = ChatRef(Channel.TELEGRAM, refs.suffix())
    await server.services.desk.conversations.request_human(chat, None)
    return chat


async def state_of(chat: ChatRef) -> str:
    row = await Conversation.get(channel=chat.channel, chat_id=chat.chat_id)
    return str(row.state)


# — CSRF and Origin ————————————————————————————————————————————————————————————————————————


async def test_a_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
    server: RunningServer, console: ConsoleClient
) -> None:
    await signed_in(server, console)
    chat = await waiting_chat(server)
    take = f"/atendimento/conversas/telegram/{chat.chat_id}/assumir"

    for refused in (
        await console.post(take, {}, csrf=None),
        await console.post(take, {"csrf": "not-the-token"}, csrf=None),
        await console.post(take, {}, csrf=None, headers={"X-CSRF-Token": "nope"}),
    ):
        assert refused.status == 403
        assert "Formulário expirado ou inválido" in refused.text
    assert await state_of(chat) == ConversationState.WAITING.value

    assert (await console.post(take, {})).status == 303  # the page's own token works
    assert await state_of(chat) == ConversationState.WITH_AGENT.value


async def test_another_origin_is_refused_on_pages_and_on_posts(
    server: RunningServer, console: ConsoleClient
) -> None:
    login, password = await new_agent(server)
    evil = {"Origin": "https://evil.example"}
    refused = await console.post(
        "/atendimento/entrar", {"usuario": login, "senha": password}, csrf=None, headers=evil
    )
    assert refused.status == 403 and "outra origem" in refused.text
    assert "Set-Cookie" not in refused.headers
    await console.sign_in(login, password)
    for path in ("/atendimento/conversas", "/atendimento/fraudes", "/atendimento/entrar"):
        assert (await console.get(path, headers=evil)).status == 403
        assert (await console.get(path, headers={"Origin": "null"})).status == 403
        assert (await console.get(path)).status == 200

    chat = await waiting_chat(server)
    take = f"/atendimento/conversas/telegram/{chat.chat_id}/assumir"
    for headers in (
        evil,
        {"Origin": "null"},
        {"Origin": f"{server.base_url}.evil.example"},
        # no Origin: a browser's Sec-Fetch-Site, or else a same-origin Referer, must vouch
        {"Origin": "", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "", "Referer": "https://evil.example/atendimento/"},
        {"Origin": ""},
    ):
        answer = await console.post(take, {}, headers=headers)
        assert answer.status == 403, headers
    assert await state_of(chat) == ConversationState.WAITING.value
    same_site = {"Origin": "", "Referer": f"{server.base_url}/atendimento/conversas"}
    assert (await console.post(take, {}, headers=same_site)).status == 303
    assert await state_of(chat) == ConversationState.WITH_AGENT.value


async def test_the_login_and_static_files_are_public_but_nothing_else_is(
    server: RunningServer, console: ConsoleClient
) -> None:
    assert (await console.get("/atendimento/entrar")).status == 200
    assert (await console.get("/atendimento/static/console.css")).status == 200
    for path in (
        "/atendimento/painel",
        "/atendimento/static/../painel",
        "/atendimento/static/%2e%2e/painel",
        "/atendimento/entrar/../auditoria",
        "/atendimento/entrarx",
    ):
        status, _answer = await console.raw_get(path)
        assert status in (303, 404), (path, status)


# — Entrar: lockout and the same words ————————————————————————————————————————————————————


@dataclass
class Limits:
    per_login: int
    per_address: int


async def locked_server(tmp_path: Path, limits: Limits) -> AsyncIterator[RunningServer]:
    settings = server_settings(
        tmp_path,
        console={
            "login_max_failures": limits.per_login,
            "login_max_failures_per_address": limits.per_address,
        },
    )
    async with running_server(settings) as running:
        yield running


async def test_a_login_locks_after_its_failures_and_then_even_the_right_password_waits(
    tmp_path: Path,
) -> None:
    async for server in locked_server(tmp_path, Limits(per_login=3, per_address=100)):
        login, password = await new_agent(server)
        other, other_password = await new_agent(server)
        async with ConsoleClient(server) as client:
            for _ in range(3):
                wrong = await client.sign_in(login, "senha-errada")
                assert wrong.status == 401 and WRONG in wrong.text
            locked = await client.sign_in(login, password)
            assert locked.status == 429 and "Muitas tentativas" in locked.text
            assert "horário de Brasília" in locked.text
            assert "Set-Cookie" not in locked.headers
            assert (await client.get("/atendimento/conversas")).status == 303
            # the same address may still sign in with another login
            assert (await client.sign_in(other, other_password)).status == 303


async def test_an_address_locks_after_failures_on_any_logins(tmp_path: Path) -> None:
    async for server in locked_server(tmp_path, Limits(per_login=50, per_address=4)):
        login, password = await new_agent(server)
        async with ConsoleClient(server) as client:
            for n in range(4):
                assert (await client.sign_in(f"ninguem{n}", "x")).status == 401
            locked = await client.sign_in(login, password)
            assert locked.status == 429 and "Muitas tentativas" in locked.text


async def test_an_unknown_login_and_a_wrong_password_get_the_same_answer(
    server: RunningServer, console: ConsoleClient
) -> None:
    login, _password = await new_agent(server)
    unknown = f"ninguem{refs.suffix()}"
    wrong = await console.sign_in(login, "senha-errada")
    nobody = await console.sign_in(unknown, "senha-errada")
    assert wrong.status == nobody.status == 401
    assert WRONG in wrong.text and WRONG in nobody.text
    assert wrong.text.replace(login, "X") == nobody.text.replace(unknown, "X")
    failed = await AuditEvent.filter(kind=AuditKind.AGENT_LOGIN_FAILED).order_by("-id").limit(2)
    assert {e.detail["usuario"] for e in failed} == {login, unknown}


async def test_an_unknown_login_costs_the_same_work_as_a_wrong_password(
    server: RunningServer, console: ConsoleClient
) -> None:
    """A password check (argon2, tens of milliseconds) dominates both; an unknown login that
    skipped it would answer several times faster.
    """
    login, _password = await new_agent(server)

    async def took(name: str) -> float:
        started = time.perf_counter()
        assert (await console.sign_in(name, "senha-errada")).status == 401
        return time.perf_counter() - started

    await took(f"ninguem{refs.suffix()}")  # warm-up
    wrong = statistics.median([await took(login) for _ in range(3)])
    unknown = statistics.median([await took(f"ninguem{refs.suffix()}") for _ in range(3)])
    assert unknown > 0.5 * wrong, (unknown, wrong)


async def test_a_cpf_typed_as_the_login_is_not_kept(
    server: RunningServer, console: ConsoleClient
) -> None:
    cpf = Cpf.parse(refs.cpf())
    assert (await console.sign_in(cpf.formatted, "x")).status == 401
    [failed] = await AuditEvent.filter(kind=AuditKind.AGENT_LOGIN_FAILED).order_by("-id").limit(1)
    assert cpf.digits not in str(failed.detail) and cpf.formatted not in str(failed.detail)


# — Roles and reasons ——————————————————————————————————————————————————————————————————————


async def test_an_atendente_is_refused_the_supervisor_pages(
    server: RunningServer, console: ConsoleClient
) -> None:
    await signed_in(server, console)
    listing = await console.get("/atendimento/conversas")
    assert "Painel" not in listing.text and "Auditoria" not in listing.text
    for path in ("/atendimento/painel", "/atendimento/auditoria", "/atendimento/auditoria?ator=x"):
        refused = await console.get(path)
        assert refused.status == 403 and "só para supervisores" in refused.text
    async with ConsoleClient(server) as boss:
        await signed_in(server, boss, AgentRole.SUPERVISOR)
        for path in ("/atendimento/painel", "/atendimento/auditoria"):
            assert (await boss.get(path)).status == 200


async def test_a_sab_action_without_a_reason_is_refused_and_audits_nothing(
    server: RunningServer, console: ConsoleClient, world: World
) -> None:
    await signed_in(server, console)
    cpf = refs.cpf()
    ben = await world.beneficiary(cpf=cpf)
    guide = await world.guide(ben)
    report = await server.services.fraud.report(ben, guide.numero, Channel.TELEGRAM, refs.suffix())
    assert report is not None
    before = await AuditEvent.filter(carteirinha=ben.carteirinha).count()

    refused = await console.post(
        f"/atendimento/fraudes/{report.id}/resolver",
        {"resultado": "procedente", "observacao": "ok", "motivo": "   "},
    )
    assert refused.status == 422 and "Informe o motivo" in refused.text
    assert (await FraudReport.get(id=report.id)).resolved_at is None
    unknown = await console.post(
        "/atendimento/fraudes/999999999/resolver",
        {"resultado": "procedente", "observacao": "", "motivo": "Teste de relato inexistente"},
    )
    assert unknown.status == 422 and "já foi resolvido ou não existe" in unknown.text

    no_reason = await console.post(
        f"/atendimento/beneficiarios/{ben.carteirinha}/codigo",
        {"cpf": cpf, "guia": guide.numero, "motivo": ""},
    )
    assert no_reason.status == 422 and "Informe o motivo" in no_reason.text
    assert "código de segurança" not in no_reason.text.lower()
    since = await AuditEvent.filter(carteirinha=ben.carteirinha).order_by("id").offset(before)
    # only the page shown again (a look-up of the beneficiary), no action
    assert {e.kind for e in since} <= {AuditKind.SAB_LOOKUP}


# — Sessions ———————————————————————————————————————————————————————————————————————————————


async def test_a_disabled_agents_open_session_ends_at_the_next_request(
    server: RunningServer, console: ConsoleClient
) -> None:
    login = await signed_in(server, console)
    assert (await console.get("/atendimento/conversas")).status == 200
    await server.services.agents.disable(login)
    ended = await console.get("/atendimento/conversas")
    assert ended.status == 303 and ended.headers["Location"] == "/atendimento/entrar"
    # enabled again, the old session stays over: a new sign-in is needed
    await server.services.agents.reset_password(login)
    assert (
        await console.get("/atendimento/conversas", cookie=console.session_cookie)
    ).status == 303


async def test_the_session_cookie_is_httponly_strict_scoped_and_secure_over_tls(
    server: RunningServer,
) -> None:
    login, password = await new_agent(server)
    async with ConsoleClient(server) as plain:
        cookie = (await plain.sign_in(login, password)).set_cookie
        assert re.search(r"\bHttpOnly\b", cookie, re.I)
        assert re.search(r"\bSameSite=Strict\b", cookie, re.I)
        assert re.search(r"\bPath=/atendimento\b", cookie)
        assert not re.search(r"\bSecure\b", cookie, re.I)
    async with ConsoleClient(server) as behind_tls:  # a proxy that ends TLS says so
        behind_tls.origin = server.base_url.replace("http://", "https://")
        answer = await behind_tls.sign_in(login, password, {"X-Forwarded-Proto": "https"})
        assert answer.status == 303
        assert re.search(r"\bSecure\b", answer.set_cookie, re.I)
        assert re.search(r"\bHttpOnly\b", answer.set_cookie, re.I)


async def test_sair_ends_the_session_in_the_store_and_the_old_cookie_is_worthless(
    server: RunningServer, console: ConsoleClient
) -> None:
    await signed_in(server, console)
    old = console.session_cookie
    token = csrf_of((await console.get("/atendimento/conversas")).text)
    out = await console.post("/atendimento/sair", {})
    assert out.status == 303 and out.headers["Location"] == "/atendimento/entrar"
    assert "Max-Age=0" in out.set_cookie or "expires=" in out.set_cookie.lower()
    assert "Path=/atendimento" in out.set_cookie
    assert (await console.get("/atendimento/conversas", cookie=old)).status == 303
    chat = await waiting_chat(server)
    replayed = await console.post(
        f"/atendimento/conversas/telegram/{chat.chat_id}/assumir", {"csrf": token}, cookie=old
    )
    assert replayed.status == 401
    assert await state_of(chat) == ConversationState.WAITING.value


async def test_each_sign_in_gets_a_new_session_and_ends_the_one_before(
    server: RunningServer, console: ConsoleClient
) -> None:
    login, password = await new_agent(server)
    await console.sign_in(login, password)
    first = console.session_cookie
    await console.sign_in(login, password)
    second = console.session_cookie
    assert first and second and first != second
    assert (await console.get("/atendimento/conversas", cookie=first)).status == 303
    assert (await console.get("/atendimento/conversas", cookie=second)).status == 200
    forged = first.split(".")[0] + "." + "0" * 64
    assert (await console.get("/atendimento/conversas", cookie=forged)).status == 303


# — Leaks ——————————————————————————————————————————————————————————————————————————————————


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    """The names of the secrets found in `text`; digit-only ones only as a whole number (not
    inside a longer run of digits, such as a chat id).
    """
    found = []
    for name, secret in secrets.items():
        if secret.isdigit():
            if re.search(rf"(?<!\d){re.escape(secret)}(?!\d)", text):
                found.append(name)
        elif secret in text:
            found.append(name)
    return found


async def test_no_full_cpf_phone_or_code_on_any_console_page_or_in_the_live_stream(
    tmp_path: Path, world: World
) -> None:
    cpf = Cpf.parse(refs.cpf())
    phone = Mobile.parse(refs.mobile())
    ben = await world.beneficiary(cpf=cpf.digits, mobile=phone.e164)
    guide = await world.guide(ben)
    national = phone.e164.removeprefix("+55")  # DDD + number
    async with TelegramApi(token=TOKEN) as peer, telegram_server(tmp_path, peer) as server:
        login, password = await new_agent(server, AgentRole.SUPERVISOR)
        agent = ConsoleAgent(server)
        try:
            await agent.sign_in(login, password)
            chat = TelegramChat(server, peer)
            async with agent.stream() as live:
                await chat.link(cpf.formatted, phone=phone.e164)
                await chat.say(
                    f"meu cpf é {cpf.digits} e o celular ({national[:2]}) {national[2:]}"
                )
                [card] = await chat.say("Gerar token")
                code = CODE.search(card["text"]).group(1)  # type: ignore[union-attr]
                await chat.say(f"o código é {code}, ou {code[:3]} {code[3:]}")
                press = peer.callback_update(
                    chat.chat_id, chat.user_id, f"f:{guide.numero}", card["message_id"]
                )
                await chat.exchange(press)
                await live.wait_for("conversa", lambda d: d["chat"] == str(chat.chat_id))
            query = f"?conversa=telegram:{chat.chat_id}&desde=0"
            async with agent.stream(query) as replay:  # the whole transcript, as a page reloads
                await replay.wait_for("mensagem", lambda d: "Obrigado por avisar" in d["texto"])
            report = await FraudReport.get(guide_numero=guide.numero)
            pages = {
                path: await agent.get(path)
                for path in (
                    "/atendimento/conversas",
                    f"/atendimento/conversas?q={national[-4:]}",
                    f"/atendimento/conversas?q={ben.carteirinha}",
                    f"/atendimento/conversas/telegram/{chat.chat_id}",
                    f"/atendimento/beneficiarios?q={ben.carteirinha}",
                    f"/atendimento/beneficiarios?q={national[-4:]}",
                    f"/atendimento/beneficiarios?q={guide.numero}",
                    f"/atendimento/beneficiarios/{ben.carteirinha}",
                    "/atendimento/fraudes",
                    "/atendimento/painel",
                    "/atendimento/auditoria",
                    f"/atendimento/auditoria?carteirinha={ben.carteirinha}",
                    f"/atendimento/auditoria?ator=chat:telegram:{chat.chat_id}",
                )
            }
        finally:
            await agent.close()

    secrets = {
        "cpf": cpf.digits,
        "cpf formatado": cpf.formatted,
        "celular +55": phone.e164,
        "celular 55": phone.e164[1:],
        "celular com DDD": national,
        "celular sem DDD": national[2:],
        "celular formatado": f"{national[2:7]}-{national[7:]}",
        "código": code,
    }
    assert all(p.status == 200 for p in pages.values()), {k: p.status for k, p in pages.items()}
    # the pages are about this person: the search found them, the queue has the report
    assert ben.carteirinha in pages[f"/atendimento/beneficiarios?q={ben.carteirinha}"].html
    assert f"/atendimento/fraudes/{report.id}/resolver" in pages["/atendimento/fraudes"].html
    assert "o código é ••••••" in pages[f"/atendimento/conversas/telegram/{chat.chat_id}"].html
    assert "token.issued" in pages[f"/atendimento/auditoria?carteirinha={ben.carteirinha}"].html
    shown_person = pages[f"/atendimento/beneficiarios/{ben.carteirinha}"].html
    assert cpf.masked in shown_person and phone.masked in shown_person  # masked, not absent
    assert any(cpf.masked in e.get("texto", "") for _, e in replay.events)
    for path, shown in pages.items():
        assert leaked(shown.html, secrets) == [], path
    for name, stream in (("eventos", live), ("eventos da conversa", replay)):
        assert stream.events, name
        assert leaked("\n".join(stream.raw), secrets) == [], name
