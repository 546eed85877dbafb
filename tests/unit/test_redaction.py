"""What support reads in transcripts has codes, CPFs and phones masked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from token_core.chat.redaction import mask_sensitive
from token_core.registry.identity import cpf_with_check_digits


def test_a_cpf_in_any_form_is_shown_masked() -> None:
    assert mask_sensitive("meu cpf é 529.982.247-25") == "meu cpf é ***.982.247-**"
    assert mask_sensitive("52998224725") == "***.982.247-**"


def test_a_code_and_loose_digit_runs_are_hidden() -> None:
    assert mask_sensitive("Seu código é 048213.", codes=["048213"]) == "Seu código é ••••••."
    assert mask_sensitive("token 12345678") == "token ••••••••"


def test_a_phone_keeps_only_its_last_four_digits() -> None:
    assert mask_sensitive("liga no (41) 98857-5949") == "liga no (**) *****-5949"
    assert mask_sensitive("+55 41 98857-5949") == "(**) *****-5949"


def test_ordinary_text_and_guide_numbers_stay_readable() -> None:
    assert mask_sensitive("gerar token para GTO-12") == "gerar token para GTO-12"


@given(
    st.text("0123456789", min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1),
    st.text(max_size=20),
    st.text(max_size=20),
)
def test_no_valid_cpf_survives_masking(nine: str, before: str, after: str) -> None:
    cpf = cpf_with_check_digits(nine)
    formatted = f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"
    for form in (cpf, formatted):
        masked = mask_sensitive(f"{before} {form} {after}")
        assert cpf not in masked.replace(".", "").replace("-", "")


def test_a_code_typed_with_a_space_is_hidden_but_guide_numbers_stay() -> None:
    assert mask_sensitive("o código é 123 456") == "o código é •••••••"
    assert mask_sensitive("Guia GTO-2026-000101 de hoje") == "Guia GTO-2026-000101 de hoje"
