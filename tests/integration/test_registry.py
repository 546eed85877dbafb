"""Importing the beneficiary registry CSV into the real database, on the selected backend."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from tests.support import refs
from token_core.keyring import Keyring
from token_core.persistence.models import Beneficiary, ChatLink
from token_core.registry.beneficiaries import find_by_cpf
from token_core.registry.identity import Cpf, Mobile
from token_core.registry.importer import (
    HEADER,
    RegistryFormatError,
    RegistryRow,
    RowError,
    import_registry,
    parse_registry,
)
from token_core.vocabulary import Channel


def registry(*rows: str, header: str = ",".join(HEADER)) -> io.StringIO:
    return io.StringIO("\n".join([header, *rows]) + "\n")


def row(
    carteirinha: str, cpf: str | None = None, mobile: str | None = None, email: str = ""
) -> str:
    return f"{carteirinha},{cpf or refs.cpf()},Beneficiária Teste,{mobile or refs.mobile()},{email}"


async def snapshot(*carteirinhas: str) -> list[dict[str, object]]:
    return await Beneficiary.filter(carteirinha__in=carteirinhas).order_by("carteirinha").values()


async def test_bad_rows_are_reported_with_their_line_and_reason_while_good_rows_load(
    keyring: Keyring,
) -> None:
    good, other, bad = (
        refs.carteirinha(),
        refs.carteirinha(),
        [refs.carteirinha() for _ in range(5)],
    )
    source = registry(
        row(good),
        row(bad[0], cpf="52998224724"),
        row(bad[1], mobile="12345"),
        row(bad[2], email="maria-at-example.com.br"),
        f"{bad[3]},{refs.cpf()},  ,{refs.mobile()},",
        f"{bad[4]},{refs.cpf()},Sem E-mail,{refs.mobile()}",
        row(other),
        "",
        f"{good},{refs.cpf()},Outra Pessoa,{refs.mobile()},",
    )

    report = await import_registry(source, keyring)

    reasons = {error.line: error.reason for error in report.errors}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 10]
    assert reasons[3].startswith("cpf: CPF inválido")
    assert reasons[4].startswith("celular: ")
    assert reasons[5].startswith("email: ")
    assert reasons[6].startswith("nome vazio")
    assert reasons[7] == "esperadas 5 colunas, há 4"
    assert reasons[10] == "carteirinha repetida (já na linha 2)"
    assert (report.read, report.inserted, report.updated, report.unchanged) == (8, 2, 0, 0)
    loaded = await snapshot(good, other, *bad)
    assert [b["carteirinha"] for b in loaded] == sorted([good, other])
    assert {b["name"] for b in loaded} == {"Beneficiária Teste"}


@pytest.mark.parametrize(
    "header",
    ["carteirinha,cpf,nome,telefone,email", "cpf,carteirinha,nome,celular,email", "carteirinha"],
)
async def test_a_wrong_header_is_refused_and_loads_nothing(keyring: Keyring, header: str) -> None:
    carteirinha = refs.carteirinha()
    with pytest.raises(RegistryFormatError, match="carteirinha,cpf,nome,celular,email"):
        await import_registry(registry(row(carteirinha), header=header), keyring)
    assert not await Beneficiary.exists(carteirinha=carteirinha)


def test_an_empty_file_is_not_a_registry() -> None:
    with pytest.raises(RegistryFormatError):
        list(parse_registry([]))


def test_a_header_in_capitals_or_with_a_byte_order_mark_is_accepted() -> None:
    source = ["\ufeffCarteirinha, CPF ,Nome,CELULAR,Email", row("C-1.A", mobile="41988575949")]
    (parsed,) = parse_registry(source)
    assert isinstance(parsed, RegistryRow)
    assert parsed.carteirinha == "C-1.A" and parsed.line == 2
    assert parsed.mobile == Mobile("+5541988575949")


async def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    keyring: Keyring,
) -> None:
    carteirinhas = [refs.carteirinha() for _ in range(3)]
    text = registry(*(row(c, email=f"{c.lower()}@example.com.br") for c in carteirinhas))
    first = await import_registry(text.getvalue().splitlines(), keyring)
    before = await snapshot(*carteirinhas)

    second = await import_registry(text.getvalue().splitlines(), keyring)

    assert (first.inserted, first.unchanged) == (3, 0)
    assert (second.read, second.inserted, second.updated, second.unchanged) == (3, 0, 0, 3)
    assert second.errors == [] and second.links_revoked == 0
    after = await snapshot(*carteirinhas)
    assert after == before
    assert [b["updated_at"] for b in after] == [b["updated_at"] for b in before]


async def test_the_same_values_written_differently_count_as_unchanged(keyring: Keyring) -> None:
    carteirinha, cpf = refs.carteirinha(), refs.cpf()
    await import_registry(
        registry(row(carteirinha, cpf, "41988575949", "Ana@Example.com")), keyring
    )
    formatted = Cpf.parse(cpf).formatted
    report = await import_registry(
        registry(row(carteirinha, formatted, "+55 (41) 98857-5949", " ana@example.com ")), keyring
    )
    assert (report.updated, report.unchanged) == (0, 1)


async def test_a_new_phone_is_stored_and_revokes_the_active_chat_links(keyring: Keyring) -> None:
    moved, stays = refs.carteirinha(), refs.carteirinha()
    moved_cpf, stays_cpf, stays_phone = refs.cpf(), refs.cpf(), refs.mobile()
    await import_registry(
        registry(row(moved, moved_cpf, "41 98000-0001"), row(stays, stays_cpf, stays_phone)),
        keyring,
    )
    moved_ben, stays_ben = (
        await Beneficiary.get(carteirinha=moved),
        await Beneficiary.get(carteirinha=stays),
    )
    earlier = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    active = await ChatLink.create(channel=Channel.TELEGRAM, chat_id="1001", beneficiary=moved_ben)
    old = await ChatLink.create(
        channel=Channel.WHATSAPP, chat_id="1002", beneficiary=moved_ben, revoked_at=earlier
    )
    untouched = await ChatLink.create(
        channel=Channel.TELEGRAM, chat_id="1003", beneficiary=stays_ben
    )

    report = await import_registry(
        registry(
            row(moved, moved_cpf, "41 98000-0002"),
            row(stays, stays_cpf, stays_phone, email="nova@example.com.br"),
        ),
        keyring,
    )

    assert (report.updated, report.unchanged, report.links_revoked) == (2, 0, 1)
    assert (await Beneficiary.get(carteirinha=moved)).mobile == "+5541980000002"
    await active.refresh_from_db()
    await old.refresh_from_db()
    await untouched.refresh_from_db()
    assert active.revoked_at is not None and active.revoked_at > earlier
    assert old.revoked_at == earlier
    assert untouched.revoked_at is None


async def test_the_cpf_is_kept_only_as_a_keyed_hash_and_a_masked_form(keyring: Keyring) -> None:
    carteirinha, digits = refs.carteirinha(), refs.cpf()
    cpf = Cpf.parse(digits)
    report = await import_registry(registry(row(carteirinha, cpf.formatted)), keyring)
    assert report.inserted == 1

    (stored,) = await snapshot(carteirinha)

    assert stored["cpf_hash"] == keyring.cpf_lookup(digits)
    assert stored["cpf_masked"] == cpf.masked
    for column, value in stored.items():
        assert digits not in str(value), column
        assert cpf.formatted not in str(value), column
    found = await find_by_cpf(keyring, cpf)
    assert [b.carteirinha for b in found] == [carteirinha]
    assert await find_by_cpf(Keyring(b"another-pepper-0123456789-abcdefghijk"), cpf) == []


def test_a_row_error_names_only_the_line_and_the_reason() -> None:
    (error,) = parse_registry([",".join(HEADER), "X1,52998224725,Ana"])
    assert error == RowError(2, "esperadas 5 colunas, há 3")
    assert "52998224725" not in repr(error)
