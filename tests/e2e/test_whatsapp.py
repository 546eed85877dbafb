"""The WhatsApp channel end to end: notifications posted to our webhook signed as Meta signs
them, answers read from a Graph API peer on 127.0.0.1 (with Meta's checks and the 24-hour
window), codes read from the authentication template and validated through the dentist API.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import STORE
from bot.logs import pin_parameter_loggers
from bot.whatsapp import WHATSAPP
from handlers.chat import texts
from integrations.whatsapp.addresses import Address
from tests.conftest import World
from tests.peers.graph_api import GraphApi
from tests.support import backends, refs
from tests.support.chat_drivers import VERIFY_TOKEN, WhatsAppUser, whatsapp_settings
from tests.support.server import RunningServer, running_server, server_settings
from tests.support.waiting import wait_until
from token_core.chat.conversations import ChatRef
from token_core.errors import ChannelUnavailable
from token_core.persistence.models import (
    AuditEvent,
    Beneficiary,
    ChatLink,
    Guide,
    OutboxEvent,
    TranscriptEntry,
)
from token_core.registry.identity import Cpf
from token_core.storage.memory import InProcessStore
from token_core.storage.redis_store import RedisStore
from token_core.vocabulary import AuditKind, Channel, Direction

WA = Channel.WHATSAPP


@pytest.fixture
async def graph() -> AsyncIterator[GraphApi]:
    async with GraphApi() as peer:
        yield peer


@pytest.fixture(autouse=True)
async def _no_receipts_of_other_tests() -> None:
    """Receipt events other tests left in the shared database are not this test's."""
    await OutboxEvent.filter(event_type="recibo.chat", delivered_at=None).update(
        delivered_at=datetime.now(UTC)
    )


@pytest.fixture
async def server(tmp_path: Path, graph: GraphApi) -> AsyncIterator[RunningServer]:
    # Eight-digit codes: a six-digit one could turn up by chance in the store's timestamps.
    settings = server_settings(tmp_path, whatsapp=whatsapp_settings(graph), tokens={"digits": 8})
    async with running_server(settings) as running:
        yield running


async def linked(
    server: RunningServer, graph: GraphApi, world: World, *, legacy: bool = False
) -> tuple[WhatsAppUser, Beneficiary, Guide]:
    """A beneficiary with one guide waiting, and their WhatsApp user, linked by CPF."""
    cpf = refs.cpf()
    user = WhatsAppUser(server, graph, legacy=legacy)
    ben = await world.beneficiary(cpf=cpf, mobile=user.mobile)
    guide = await world.guide(ben)
    await user.start_linking()
    await user.exchange(graph.text(user.who, Cpf.parse(cpf).formatted), replies=2)
    assert "Pronto, Beneficiária! Seu WhatsApp está vinculado." in graph.texts_to(user.who)[-1]
    return user, ben, guide


async def test_link_generate_validate_and_receipt(
    server: RunningServer, graph: GraphApi, world: World
) -> None:
    cpf = refs.cpf()
    user = WhatsAppUser(server, graph)
    ben = await world.beneficiary(cpf=cpf, mobile=user.mobile)
    guide = await world.guide(ben)

    [ask] = await user.exchange(graph.text(user.wa_id, "Oi"))
    assert ask["text"]["body"] == texts.WA_ASK_CPF  # the number is proven: only the CPF
    erase, welcome = await user.exchange(graph.text(user.wa_id, cpf), replies=2)
    assert erase["text"]["body"] == texts.WA_CPF_NOT_DELETED  # WhatsApp cannot delete it
    menu = welcome["interactive"]
    assert menu["type"] == "list"  # four shortcuts: more than three buttons
    rows = [row["title"] for row in menu["action"]["sections"][0]["rows"]]
    assert rows == list(texts.MENU)

    template, details = await user.exchange(
        graph.list_reply(user.wa_id, "t:Gerar token", "Gerar token"), replies=2
    )
    assert template["template"]["name"] == "codigo_odontoken"
    [code] = graph.codes_to(user.wa_id)
    assert code not in details["interactive"]["body"]["text"]
    assert guide.numero in details["interactive"]["body"]["text"]
    [not_mine] = details["interactive"]["action"]["buttons"]
    assert not_mine["reply"] == {"id": f"f:{guide.numero}", "title": "Não reconheço"}

    ok = await server.call("POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": code})
    assert ok.status == 200
    receipt = await wait_until(
        lambda: [t for t in graph.texts_to(user.wa_id) if t.startswith("✅")]
    )
    assert guide.numero in receipt[0] and "Dra. Teste" in receipt[0]


async def test_a_legacy_eight_digit_number_links(
    server: RunningServer, graph: GraphApi, world: World
) -> None:
    user, _, guide = await linked(server, graph, world, legacy=True)
    assert len(user.wa_id) == 12  # 55 41 8xxx xxxx: WhatsApp's old form, without the 9
    await user.exchange(graph.text(user.wa_id, "gerar token"), replies=2)
    [code] = graph.codes_to(user.wa_id)
    ok = await server.call("POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": code})
    assert ok.status == 200


async def test_a_user_without_a_phone_is_asked_for_their_own_contact(
    server: RunningServer, graph: GraphApi, world: World
) -> None:
    cpf = refs.cpf()
    user = WhatsAppUser(server, graph, hidden=True)
    await world.beneficiary(cpf=cpf, mobile=user.mobile)
    [ask] = await user.exchange(graph.text(user.who, "oi"))
    assert ask["recipient"] == user.who and "to" not in ask
    assert ask["interactive"]["type"] == "request_contact_info"
    assert ask["interactive"]["body"]["text"] == texts.WA_SHARE_CONTACT
    [again] = await user.exchange(graph.contact(user.who, user.wa_id))  # from the address book
    assert again["interactive"]["body"]["text"] == texts.WA_SHARE_OWN_CONTACT
    [cpf_please] = await user.exchange(graph.contact(user.who, user.wa_id, requested=True))
    assert cpf_please["text"]["body"] == texts.WA_ASK_CPF
    _, welcome = await user.exchange(graph.text(user.who, cpf), replies=2)
    assert "Seu WhatsApp está vinculado" in welcome["interactive"]["body"]["text"]


async def test_bad_and_missing_signatures_are_refused_and_nothing_is_handled(
    server: RunningServer, graph: GraphApi
) -> None:
    user = WhatsAppUser(server, graph)
    payload = graph.payload(graph.text(user.wa_id, "oi"))
    other = graph.payload(graph.text(user.wa_id, "outra"))
    body, _ = graph.signed(other)
    assert await user.post(payload, signature=None) == 401
    assert await user.post(payload, signature="sha256=" + "0" * 64) == 401
    assert await user.post(payload, signature=graph.sign(body)) == 401  # another body's
    assert await user.post(payload, signature=graph.sign(body, secret="not-the-secret")) == 401
    assert await user.post(payload, signature=graph.sign(body)[7:]) == 401  # no "sha256="
    assert await user.post(b"{not json", signature="sign") == 400
    # One chat is handled in order: had a refused one been taken, its answer would come first.
    await user.exchange(graph.image(user.wa_id))
    assert graph.texts_to(user.wa_id) == [texts.WA_UNSUPPORTED]


async def test_a_batched_payload_with_three_messages_from_three_users_is_all_answered(
    server: RunningServer, graph: GraphApi
) -> None:
    users = [WhatsAppUser(server, graph) for _ in range(3)]
    a, b, c = (graph.text(u.wa_id, "oi") for u in users)
    assert await users[0].post(graph.batched([a, b], [c])) == 200

    def all_answered() -> bool:
        return all(graph.texts_to(u.wa_id) == [texts.WA_ASK_CPF] for u in users)

    await wait_until(all_answered)


async def test_a_duplicate_delivery_is_answered_once(
    server: RunningServer, graph: GraphApi
) -> None:
    user = WhatsAppUser(server, graph)
    payload = graph.payload(graph.text(user.wa_id, "oi"))
    assert await user.post(payload) == 200
    assert await user.post(payload) == 200  # Meta resends what it thinks was not taken
    # One chat is handled in order: a second run of the resent message would answer before
    # the reply to this next one.
    assert await user.post(graph.payload(graph.image(user.wa_id))) == 200
    await wait_until(lambda: texts.WA_UNSUPPORTED in graph.texts_to(user.wa_id))
    assert graph.texts_to(user.wa_id) == [texts.WA_ASK_CPF, texts.WA_UNSUPPORTED]


async def test_the_dentist_push_outside_the_window_uses_the_template(
    server: RunningServer, graph: GraphApi, world: World
) -> None:
    user, ben, guide = await linked(server, graph, world)
    graph.close_window(user.wa_id)  # the last message was more than 24 hours ago
    pushed = await server.call("POST", f"/api/v1/guias/{guide.numero}/token", {"canal": "whatsapp"})
    assert pushed.status == 202 and pushed.body["destino"] == "WhatsApp"
    [code] = graph.codes_to(user.wa_id)
    ok = await server.call("POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": code})
    assert ok.status == 200
    channels = await server.call("GET", f"/api/v1/beneficiarios/{ben.carteirinha}/canais")
    assert channels.body["whatsapp"] is True and channels.body["padrao"] == "whatsapp"


async def test_an_undeliverable_number_gives_falha_no_envio_and_no_live_code(
    server: RunningServer, graph: GraphApi, world: World
) -> None:
    _, _, guide = await linked(server, graph, world)
    graph.fail_next(131026)
    path = f"/api/v1/guias/{guide.numero}/token"
    failed = await server.call("POST", path, {"canal": "whatsapp"})
    assert failed.status == 502 and failed.body["erro"] == "FALHA_NO_ENVIO"
    code, refused = graph.refused[-1]
    assert code == 131026
    lost = refused["template"]["components"][0]["parameters"][0]["text"]
    answer = await server.call("POST", f"/api/v1/guias/{guide.numero}/validacao", {"token": lost})
    assert answer.status != 200  # the code that never arrived was revoked


async def test_throttling_is_retried_and_an_expired_token_is_loud(
    server: RunningServer, graph: GraphApi, caplog: pytest.LogCaptureFixture
) -> None:
    user = WhatsAppUser(server, graph)
    graph.fail_next(130429)
    graph.fail_next(131056)
    [ask] = await user.exchange(graph.text(user.wa_id, "oi"))
    assert ask["text"]["body"] == texts.WA_ASK_CPF
    channel = server.app[WHATSAPP]
    assert channel.graph.healthy
    graph.expire_token()
    assert await user.post(graph.payload(graph.text(user.wa_id, "ajuda"))) == 200
    await wait_until(lambda: not channel.graph.healthy)
    assert any(
        r.levelno == logging.ERROR and "Graph error 190" in r.getMessage() for r in caplog.records
    )


async def test_statuses_go_to_the_delivery_audit(server: RunningServer, graph: GraphApi) -> None:
    user = WhatsAppUser(server, graph)
    [ask] = await user.exchange(graph.text(user.wa_id, "oi"))
    statuses = tuple(
        graph.status(user.wa_id, ask["id"], status, 131026 if status == "failed" else None)
        for status in ("sent", "delivered", "read", "failed")
    )
    assert await user.post(graph.payload(statuses=statuses)) == 200
    chat_id = server.app[WHATSAPP].sealer.chat_id(Address(wa_id=user.wa_id))
    actor = f"chat:whatsapp:{chat_id}"
    rows = await AuditEvent.filter(kind=AuditKind.CHAT_DELIVERY_STATUS, actor=actor).order_by("id")
    assert [(r.reason, r.detail) for r in rows] == [
        ("sent", {}),
        ("delivered", {}),
        ("read", {}),
        ("failed", {"erro": 131026}),
    ]


async def test_the_verification_handshake(server: RunningServer) -> None:
    url = f"{server.base_url}/webhooks/whatsapp"
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    async with server.session.get(url, params=query) as resp:
        assert resp.status == 200 and resp.content_type == "text/plain"
        assert await resp.text() == "1158201444"
    for wrong in ({"hub.verify_token": "guess"}, {"hub.mode": "unsubscribe"}):
        async with server.session.get(url, params=query | wrong) as resp:
            assert resp.status == 403


async def test_malformed_items_are_skipped_and_the_rest_is_answered(
    server: RunningServer, graph: GraphApi
) -> None:
    user = WhatsAppUser(server, graph)
    good = graph.payload(graph.text(user.wa_id, "oi"))
    value = good["entry"][0]["changes"][0]["value"]
    value["messages"].insert(0, {"id": 7, "type": "text"})  # no sender, an id of the wrong type
    good["entry"].insert(0, {"changes": "not a list"})
    assert await user.post(good) == 200
    await wait_until(lambda: graph.texts_to(user.wa_id) == [texts.WA_ASK_CPF])


async def test_no_number_or_code_is_kept_in_clear(
    server: RunningServer, graph: GraphApi, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    pin_parameter_loggers()  # what configure_logging does at start-up
    caplog.set_level(logging.DEBUG)
    user, _, guide = await linked(server, graph, world)
    await user.exchange(graph.text(user.wa_id, "gerar token"), replies=2)
    [code] = graph.codes_to(user.wa_id)
    store = server.app[STORE]
    if isinstance(store, RedisStore):
        store_text = repr(await backends.redis_dump(store.prefix))
    else:
        assert isinstance(store, InProcessStore)
        store_text = repr(store.snapshot())
    rows = [
        *await ChatLink.filter(channel=WA).values(),
        *await TranscriptEntry.filter(channel=WA).values(),
        *await AuditEvent.filter(channel=WA).values(),
    ]
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    national = user.wa_id[2:]
    for where, text in (("store", store_text), ("database", repr(rows)), ("logs", log_text)):
        assert national not in text, f"the number is in the {where}"
        assert code not in text, f"the code is in the {where}"
    assert guide.numero in repr(rows)


async def test_free_form_messages_go_only_within_the_24_hour_window(
    server: RunningServer, graph: GraphApi
) -> None:
    user = WhatsAppUser(server, graph)
    await user.exchange(graph.text(user.wa_id, "oi"))
    sealer = server.app[WHATSAPP].sealer
    chat = ChatRef(WA, str(sealer.chat_id(Address(wa_id=user.wa_id))))
    await server.services.desk.notify(chat, "Olá! Aqui é a Ana, do SAB.")
    assert graph.texts_to(user.wa_id)[-1] == "Olá! Aqui é a Ana, do SAB."

    late = WhatsAppUser(server, graph)  # its messages were written 25 hours ago
    written = time.time() - 25 * 3600
    first, second = (
        graph.text(late.wa_id, "oi", at=written),
        graph.text(late.wa_id, "?", at=written),
    )
    assert await late.post(graph.payload(first)) == 200
    assert await late.post(graph.payload(second)) == 200
    late_chat = str(sealer.chat_id(Address(wa_id=late.wa_id)))
    # The chat's messages are handled in order: once the second is read, the first was answered.
    await wait_until(
        TranscriptEntry.filter(chat_id=late_chat, direction=Direction.IN, text="?").exists
    )
    with pytest.raises(ChannelUnavailable):
        await server.services.desk.notify(ChatRef(WA, late_chat), "Olá! Aqui é a Ana, do SAB.")
    assert graph.to(late.wa_id) == [] and graph.refused == []  # Meta was not even asked
