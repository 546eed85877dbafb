"""CPF and mobile parsing, normalisation and masking (examples and properties)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from token_core.errors import InvalidCpf, InvalidPhone
from token_core.registry.identity import Cpf, Mobile, cpf_with_check_digits, mask_email

nine_digits = st.text("0123456789", min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1)
ddds = st.sampled_from(["11", "21", "41", "51", "61", "71", "81", "91", "93", "55", "68"])
subscriber = st.text("0123456789", min_size=8, max_size=8)


def test_a_known_cpf_is_accepted_bare_and_formatted() -> None:
    assert Cpf.parse("52998224725").digits == "52998224725"
    assert Cpf.parse(" 529.982.247-25 ").digits == "52998224725"


@pytest.mark.parametrize(
    "raw",
    [
        "52998224724",
        "11111111111",
        "00000000000",
        "5299822472",
        "529982247255",
        "529.982.24725",
        "529 982 247 25",
        "abc",
        "",
    ],
)
def test_a_bad_cpf_is_refused(raw: str) -> None:
    with pytest.raises(InvalidCpf):
        Cpf.parse(raw)


def test_a_cpf_shows_only_its_middle_digits() -> None:
    cpf = Cpf.parse("52998224725")
    assert cpf.masked == "***.982.247-**"
    assert str(cpf) == cpf.masked
    assert "52998224725" not in repr(cpf) and "529" not in repr(cpf)


@given(nine_digits)
def test_any_cpf_with_right_check_digits_parses_in_both_forms(nine: str) -> None:
    digits = cpf_with_check_digits(nine)
    formatted = f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"
    assert Cpf.parse(digits) == Cpf.parse(formatted)
    assert Cpf.parse(formatted).formatted == formatted


@given(nine_digits, st.integers(9, 10), st.integers(1, 9))
def test_changing_a_check_digit_makes_a_cpf_invalid(nine: str, pos: int, delta: int) -> None:
    digits = cpf_with_check_digits(nine)
    changed = digits[:pos] + str((int(digits[pos]) + delta) % 10) + digits[pos + 1 :]
    with pytest.raises(InvalidCpf):
        Cpf.parse(changed)


@pytest.mark.parametrize(
    "raw",
    [
        "(41) 98857-5949",
        "41988575949",
        "+55 41 98857-5949",
        "0 41 98857-5949",
        "5541988575949",
        "+55 41 8857-5949",
        "554188575949",
        "41 8857-5949",
    ],
)
def test_every_written_form_of_a_mobile_gives_one_e164(raw: str) -> None:
    assert Mobile.parse(raw).e164 == "+5541988575949"


@pytest.mark.parametrize(
    "raw",
    [
        "4133334444",
        "(41) 3333-4444",
        "+1 415 555 1234",
        "41 98857",
        "",
        "41-9885a-5949",
        "(00) 98857-5949",
        "419885759499",
    ],
)
def test_a_landline_foreign_or_malformed_number_is_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        Mobile.parse(raw)


def test_a_mobile_shows_only_ddd_first_and_last_four_digits() -> None:
    mobile = Mobile.parse("41988575949")
    assert mobile.masked == "(41) 9****-5949"
    assert "88575949" not in repr(mobile) and "88575949" not in str(mobile)


@given(ddds, subscriber)
def test_national_international_and_legacy_forms_agree(ddd: str, rest: str) -> None:
    try:
        expected = Mobile.parse(f"{ddd}9{rest}")
    except InvalidPhone:
        return  # numbering-plan gaps (phonenumbers metadata) are allowed to be refused
    assert expected.e164 == f"+55{ddd}9{rest}"
    assert Mobile.parse(f"+55 ({ddd}) 9{rest[:4]}-{rest[4:]}") == expected
    assert Mobile.parse(f"0{ddd}9{rest}") == expected
    if rest[0] in "6789":
        assert Mobile.parse(f"+55{ddd}{rest}") == expected
        assert Mobile.parse(expected.legacy_e164) == expected


@given(st.text(max_size=20))
def test_mobile_parsing_never_fails_with_anything_but_invalid_phone(raw: str) -> None:
    try:
        mobile = Mobile.parse(raw)
    except InvalidPhone:
        return
    assert mobile.e164.startswith("+55") and len(mobile.e164) == 14


def test_an_email_keeps_first_letter_and_domain() -> None:
    assert mask_email("maria.souza@example.com.br") == "m****@example.com.br"


@pytest.mark.parametrize("raw", ["４１９８８５７５９４９", "٤١٩٨٨٥٧٥٩٤٩"])
def test_non_ascii_digits_are_not_a_phone(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        Mobile.parse(raw)


def test_non_ascii_digits_are_not_a_cpf() -> None:
    with pytest.raises(InvalidCpf):
        Cpf.parse("５２９９８２２４７２５")
