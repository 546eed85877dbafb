"""A registry import keeps what the token flow and the SAB learned: where each contact came from
(`mobile_source`, `email_source`), what an empty cell or another value does to it, and the
default channel, which never points at a contact that is gone.
"""

from __future__ import annotations

import io

import pytest

from bot.composition import Services
from tests.support import refs
from token_core.chat import links
from token_core.keyring import Keyring
from token_core.persistence.models import Beneficiary, ChatLink
from token_core.registry import beneficiaries
from token_core.registry.identity import Mobile
from token_core.registry.importer import HEADER, ImportReport, import_registry
from token_core.support.agents import SignedIn
from token_core.vocabulary import AgentRole, Channel

REASON = "Beneficiário ligou e confirmou os dados"


class Card:
    """One beneficiary's row in the registry file, imported as often as a test needs."""

    def __init__(self, keyring: Keyring, mobile: str = "", email: str = "") -> None:
        self.keyring = keyring
        self.carteirinha, self.cpf = refs.carteirinha(), refs.cpf()
        self.mobile, self.email = mobile, email

    async def imported(self, **cells: str) -> ImportReport:
        mobile, email = cells.get("mobile", self.mobile), cells.get("email", self.email)
        line = f"{self.carteirinha},{self.cpf},Beneficiária Teste,{mobile},{email}"
        text = f"{','.join(HEADER)}\n{line}\n"
        return await import_registry(io.StringIO(text), self.keyring)

    async def saved(self) -> Beneficiary:
        return await Beneficiary.get(carteirinha=self.carteirinha)


def mobile() -> Mobile:
    return Mobile.parse(refs.mobile())


async def test_new_rows_take_the_registry_as_the_source_of_their_contacts(
    keyring: Keyring,
) -> None:
    phone = mobile()
    full, bare = Card(keyring, phone.e164, "ana@example.com.br"), Card(keyring)
    await full.imported()
    await bare.imported()
    saved = await full.saved()
    assert (saved.mobile, saved.mobile_source) == (phone.e164, "registry")
    assert (saved.email, saved.email_source) == ("ana@example.com.br", "registry")
    empty = await bare.saved()
    assert (empty.mobile, empty.mobile_source, empty.email_source) == (None, None, None)


async def test_an_empty_cell_keeps_the_mobile_the_first_sms_registered(keyring: Keyring) -> None:
    card = Card(keyring)
    await card.imported()
    ben = await card.saved()
    phone = mobile()
    assert await beneficiaries.claim_contact(ben.id, Channel.SMS, phone.e164) == phone.e164
    await beneficiaries.set_default_channel(ben.id, Channel.SMS)

    again = await card.imported()

    assert (again.updated, again.unchanged) == (0, 1)
    saved = await card.saved()
    assert (saved.mobile, saved.mobile_source) == (phone.e164, "flow")
    assert saved.default_channel is Channel.SMS


async def test_the_registry_confirming_a_learned_contact_leaves_it_as_it_is(
    keyring: Keyring,
) -> None:
    card = Card(keyring)
    await card.imported()
    ben = await card.saved()
    phone = mobile()
    await beneficiaries.claim_contact(ben.id, Channel.SMS, phone.e164)
    report = await card.imported(mobile=phone.e164)
    assert report.unchanged == 1
    assert (await card.saved()).mobile_source == "flow"


async def test_another_value_replaces_a_learned_mobile_revokes_links_and_a_chat_default(
    keyring: Keyring,
) -> None:
    card = Card(keyring)
    await card.imported()
    ben = await card.saved()
    learned, registry_phone = mobile(), mobile()
    await beneficiaries.claim_contact(ben.id, Channel.SMS, learned.e164)
    await ChatLink.create(channel=Channel.TELEGRAM, chat_id=refs.suffix(), beneficiary=ben)
    await beneficiaries.set_default_channel(ben.id, Channel.TELEGRAM)

    report = await card.imported(mobile=registry_phone.e164)

    assert (report.updated, report.links_revoked) == (1, 1)
    saved = await card.saved()
    assert (saved.mobile, saved.mobile_source) == (registry_phone.e164, "registry")
    assert saved.default_channel is None
    assert await links.channels_of(ben.id) == set()


async def test_an_empty_cell_erases_a_registry_mobile_and_the_default_that_used_it(
    keyring: Keyring,
) -> None:
    phone = mobile()
    card = Card(keyring, phone.e164, "bia@example.com.br")
    await card.imported()
    ben = await card.saved()
    # A row from before contact sources existed (NULL = the registry).
    await Beneficiary.filter(id=ben.id).update(mobile_source=None, default_channel=Channel.SMS)

    report = await card.imported(mobile="")

    assert report.updated == 1
    saved = await card.saved()
    assert (saved.mobile, saved.mobile_source) == (None, None)
    assert saved.default_channel is None
    assert saved.email == "bia@example.com.br"


@pytest.mark.parametrize("default", [Channel.EMAIL, Channel.SMS])
async def test_contacts_the_sab_changed_survive_empty_cells(
    services: Services, keyring: Keyring, default: Channel
) -> None:
    card = Card(keyring)
    await card.imported()
    agent = SignedIn(f"ana{refs.suffix()}", "Ana Atendente", AgentRole.ATTENDANT)
    phone = mobile()
    await services.desk.change_mobile(agent, card.carteirinha, phone.e164, REASON)
    await services.desk.change_email(agent, card.carteirinha, "nova@example.com.br", REASON)
    await beneficiaries.set_default_channel((await card.saved()).id, default)

    report = await card.imported()

    assert report.unchanged == 1
    saved = await card.saved()
    assert (saved.mobile, saved.mobile_source) == (phone.e164, "sab")
    assert (saved.email, saved.email_source) == ("nova@example.com.br", "sab")
    assert saved.default_channel is default


async def test_a_registry_email_left_out_takes_an_email_default_with_it(keyring: Keyring) -> None:
    card = Card(keyring, mobile().e164, "caio@example.com.br")
    await card.imported()
    ben = await card.saved()
    await beneficiaries.set_default_channel(ben.id, Channel.EMAIL)
    await card.imported(email="")
    saved = await card.saved()
    assert saved.email is None and saved.default_channel is None
    assert saved.mobile is not None


async def test_a_released_first_contact_forgets_its_source(keyring: Keyring) -> None:
    card = Card(keyring)
    await card.imported()
    ben = await card.saved()
    phone = mobile()
    await beneficiaries.claim_contact(ben.id, Channel.SMS, phone.e164)
    await beneficiaries.release_contact(ben.id, Channel.SMS, phone.e164)
    saved = await card.saved()
    assert (saved.mobile, saved.mobile_source) == (None, None)


async def test_a_full_batch_is_read_and_written_in_one_go(keyring: Keyring) -> None:
    cards = [refs.carteirinha() for _ in range(2000)]  # the default batch size
    lines = [
        f"{c},{refs.cpf()},Beneficiária Teste,,pessoa{i}@example.com.br"
        for i, c in enumerate(cards)
    ]
    text = "\n".join([",".join(HEADER), *lines]) + "\n"
    first = await import_registry(io.StringIO(text), keyring)
    again = await import_registry(io.StringIO(text), keyring)
    assert (first.inserted, again.unchanged) == (2000, 2000)
