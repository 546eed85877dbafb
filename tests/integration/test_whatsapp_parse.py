"""Reading Meta's notifications (built as Meta posts them by the peer's builder), the chat ids
that hide the number, the rendering within WhatsApp's limits, and the 24-hour window in the
store of the selected backend.
"""

from __future__ import annotations

import time

import pytest

from integrations.whatsapp.addresses import Address, Sealer, UnknownChat
from integrations.whatsapp.parse import WaMessage, incoming, read_batch
from integrations.whatsapp.render import OtpTemplate, WhatsAppTexts, code_template, free_form
from integrations.whatsapp.window import ServiceWindow
from tests.peers.graph_api import PHONE_NUMBER_ID, GraphApi
from tests.peers.whatsapp_webhooks import Notice
from tests.support.clock import Elapse
from token_core.chat.messages import Button, Outgoing
from token_core.codes.generation import SecretCode
from token_core.registry.identity import Mobile
from token_core.storage.ports import EphemeralStore

WA_ID = "5541988575949"
LEGACY = "554188575949"
BSUID = "BR.1502576394655843"
TEXTS = WhatsAppTexts(unsupported="só texto", menu_button="Opções")


@pytest.fixture
def meta() -> GraphApi:
    """Only the peer's notification builder (no server is started)."""
    return GraphApi()


def read(meta: GraphApi, *notices: Notice) -> list[WaMessage]:
    batch = read_batch(meta.payload(*notices), PHONE_NUMBER_ID)
    assert not batch.skipped
    return batch.messages


def test_a_text_proves_the_sender_number_and_the_legacy_form_is_the_same_mobile(
    meta: GraphApi,
) -> None:
    [new], [old] = read(meta, meta.text(WA_ID, "oi")), read(meta, meta.text(LEGACY, "oi"))
    msg = incoming(new, "chat")
    assert msg is not None and msg.text == "oi" and msg.proven_phone == f"+{WA_ID}"
    legacy = incoming(old, "chat")
    assert legacy is not None and legacy.proven_phone == f"+{LEGACY}"
    assert Mobile.parse(legacy.proven_phone) == Mobile.parse(msg.proven_phone)


def test_button_and_list_replies_are_button_data_or_typed_shortcuts(meta: GraphApi) -> None:
    pressed, chosen = read(
        meta,
        meta.button_reply(WA_ID, "f:GTO-1", "Não reconheço"),
        meta.list_reply(WA_ID, "t:Minhas guias", "Minhas guias"),
    )
    button, row = incoming(pressed, "c"), incoming(chosen, "c")
    assert button is not None and button.callback_data == "f:GTO-1" and button.text is None
    assert row is not None and row.text == "Minhas guias" and row.callback_data is None


def test_a_contact_card_is_own_only_when_whatsapp_vouches_for_it(meta: GraphApi) -> None:
    own, other = read(meta, meta.contact(WA_ID, WA_ID), meta.contact(WA_ID, "5541999990000"))
    mine = incoming(own, "c")
    assert mine is not None and mine.contact_is_own and mine.contact_phone == f"+{WA_ID}"
    theirs = incoming(other, "c")  # the number is proven already: the card adds nothing
    assert theirs is not None and theirs.contact_phone is None and theirs.text == ""

    shared, requested = read(
        meta, meta.contact(BSUID, WA_ID), meta.contact(BSUID, WA_ID, requested=True)
    )
    assert shared.sender == Address(user_id=BSUID)
    typed = incoming(shared, "c")
    assert typed is not None and typed.contact_phone == f"+{WA_ID}" and not typed.contact_is_own
    button = incoming(requested, "c")
    assert button is not None and button.contact_is_own and button.proven_phone is None


def test_other_kinds_get_the_kind_reply_and_reactions_nothing(meta: GraphApi) -> None:
    [image] = read(meta, meta.image(WA_ID))
    assert image.kind == "other" and incoming(image, "c") is None
    reaction = meta.text(WA_ID, "x")
    reaction.message.pop("text")
    reaction.message.update(type="reaction", reaction={"message_id": "wamid.X", "emoji": "👍"})
    assert read(meta, reaction) == []


def test_every_entry_change_message_and_status_of_a_batch_is_read(meta: GraphApi) -> None:
    a, b, c = (meta.text(f"55419{n}8575949", "oi") for n in (7, 8, 9))
    failed = meta.status(WA_ID, "wamid.Y", "failed", 131026)
    batch = read_batch(meta.batched([a, b], [c], statuses=(failed,)), PHONE_NUMBER_ID)
    assert [m.message_id for m in batch.messages] == [a.id, b.id, c.id]
    [status] = batch.statuses
    assert status.status == "failed" and status.error_code == 131026
    assert status.recipient == Address(wa_id=WA_ID)


def test_malformed_items_and_other_numbers_are_skipped_not_fatal(meta: GraphApi) -> None:
    payload = meta.payload(meta.text(WA_ID, "oi"), statuses=(meta.status(WA_ID, "w", "read"),))
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"] += [{"id": "w1", "type": "text", "text": {"body": "sem remetente"}}, 5]
    value["statuses"].append({"id": "w2", "status": "exploded", "recipient_id": WA_ID})
    elsewhere = meta.payload(meta.text(WA_ID, "para outro número"))
    elsewhere["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    payload["entry"] += [*elsewhere["entry"], {"changes": None}, "junk"]
    batch = read_batch(payload, PHONE_NUMBER_ID)
    assert [m.text for m in batch.messages] == ["oi"] and len(batch.statuses) == 1
    assert len(batch.skipped) == 6
    assert read_batch([], PHONE_NUMBER_ID).skipped and read_batch({"object": "page"}, "x").skipped


def test_a_queued_message_survives_its_json(meta: GraphApi) -> None:
    [message] = read(meta, meta.contact(BSUID, WA_ID, requested=True))
    assert WaMessage.from_json(message.to_json()) == message


def test_chat_ids_hide_the_number_and_give_it_back_only_to_this_server() -> None:
    sealer, other = Sealer(b"k" * 32), Sealer(b"j" * 32)
    chat_id = sealer.chat_id(Address(wa_id=WA_ID))
    assert chat_id is not None and chat_id == sealer.chat_id(Address(wa_id=WA_ID))
    assert WA_ID[4:] not in chat_id and len(chat_id) <= 50
    assert chat_id != sealer.chat_id(Address(wa_id=LEGACY))
    assert sealer.address(chat_id) == Address(wa_id=WA_ID)
    with pytest.raises(UnknownChat):
        other.address(chat_id)
    with pytest.raises(UnknownChat):
        sealer.address("12345")
    assert sealer.chat_id(Address(user_id=BSUID)) == BSUID
    assert sealer.address(BSUID) == Address(user_id=BSUID)
    assert sealer.chat_id(Address(user_id="BR." + "9" * 60)) is None
    assert sealer.unseal(sealer.seal(b"payload")) == b"payload"
    assert sealer.seal(b"payload") != sealer.seal(b"payload")
    assert sealer.digest("wamid.A") == sealer.digest("wamid.A") != other.digest("wamid.A")


def test_rendering_keeps_within_whatsapp_limits() -> None:
    phone = Address(wa_id=WA_ID)
    menu = free_form(Outgoing("Ajuda", menu=("A", "B", "C", "D")), phone, TEXTS)
    assert menu["interactive"]["type"] == "list"  # four choices: a list
    assert menu["interactive"]["action"]["button"] == "Opções"
    two = (Button("Sim", data="s"), Button("Não", data="n"))
    assert free_form(Outgoing("?", buttons=(two,)), phone, TEXTS)["interactive"]["type"] == "button"
    long = (Button("GTO-T-ABCDEF123456 · Dra. Teste", data="g:1"),)
    rows = free_form(Outgoing("?", buttons=(long,)), phone, TEXTS)["interactive"]["action"]
    [row] = rows["sections"][0]["rows"]
    assert len(row["title"]) <= 24 and row["description"].startswith("GTO-T-ABCDEF123456 · Dra")
    short = WhatsAppTexts("x", "Opções", short_labels={"Não reconheço esta guia": "Não reconheço"})
    card = Outgoing("c", buttons=((Button("Não reconheço esta guia", data="f:1"),),))
    [button] = free_form(card, phone, short)["interactive"]["action"]["buttons"]
    assert button["reply"]["title"] == "Não reconheço"
    ask = free_form(Outgoing("Compartilhe", ask_contact="📱"), Address(user_id=BSUID), TEXTS)
    assert ask["interactive"]["type"] == "request_contact_info"
    assert free_form(Outgoing("Compartilhe", ask_contact="📱"), phone, TEXTS)["type"] == "text"
    template = code_template(SecretCode("12345678"), OtpTemplate("codigo", "pt_BR"))["template"]
    body, copy = template["components"]
    assert body["parameters"] == copy["parameters"] == [{"type": "text", "text": "12345678"}]
    assert copy["sub_type"] == "url" and copy["index"] == "0"


async def test_the_window_is_open_for_24_hours_from_the_last_message(
    store: EphemeralStore, elapse: Elapse
) -> None:
    window = ServiceWindow(store, seconds=1.0)
    await window.opened("a", time.time())
    await window.opened("late", time.time() - 5)  # delivered after its window closed
    assert await window.is_open("a") and not await window.is_open("late")
    await elapse(1.2)
    assert not await window.is_open("a")
