"""Redaction follows the data, not the format: a CPF or a code typed in any digits, with any
separators, zero-width characters or line breaks, never survives; guide numbers, carteirinhas
and ordinary pt-BR text do.

"Survives" is judged on the output read the same way the redaction reads its input (NFKC, ASCII
digits, invisible characters dropped): the digits of every run of groups joined by separators.
"""

from __future__ import annotations

import logging
import re
import sys
import unicodedata

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.log_redaction import RedactingFilter
from token_core.chat.digit_forms import SEPARATORS, normalise
from token_core.chat.redaction import looks_like_cpf, mask_sensitive
from token_core.registry.identity import Cpf, cpf_with_check_digits

BOUNDED = settings(max_examples=200, deadline=None)

# Every decimal digit Unicode knows (category Nd), by value: fullwidth, Arabic-Indic, Devanagari…
DIGIT_FORMS: dict[int, list[str]] = {value: [] for value in range(10)}
for point in range(0x20000):
    char = chr(point)
    if unicodedata.category(char) == "Nd":
        DIGIT_FORMS[unicodedata.decimal(char)].append(char)
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f"]
CPF_SEPARATORS = [" ", ".", "-", "/", "\n", "\r\n", " - ", ". ", "\t", "–", "\u00a0", " / ", "\n\n"]
CODE_SEPARATORS = [" ", ".", "-", "  ", " . ", " - ", "–", "\u00a0"]
WORDS = (
    "meu cpf é o código que chegou agora obrigada por favor não recebi atendimento dentista "
    "consulta está aqui segue número você olá bom dia boa tarde tratamento guia liberação "
    "canal ortodontia coração ação já também até próximo mês semana clínica doutora"
).split()
PUNCTUATION = ["", "", "", ",", ":", "!", "?", "."]
RUN = re.compile(f"[0-9]+(?:[{SEPARATORS}]+[0-9]+)*")

nine_digits = st.text("0123456789", min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1)
valid_cpfs = nine_digits.map(cpf_with_check_digits)
codes = st.integers(6, 8).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))


@st.composite
def obfuscated(draw: st.DrawFn, digits: str, separators: list[str]) -> str:
    """`digits` split into groups at random places, joined by random separators, each digit in
    a random Nd form, with zero-width characters sprinkled in."""
    out = []
    for i, digit in enumerate(digits):
        if i and draw(st.booleans()):
            out.append(draw(st.sampled_from(separators)))
        if draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from(ZERO_WIDTH)))
        same_form = draw(st.booleans())
        forms = DIGIT_FORMS[int(digit)]
        out.append(digit if same_form else draw(st.sampled_from(forms)))
    return "".join(out)


@st.composite
def ptbr_text(draw: st.DrawFn, max_words: int = 8) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), max_size=max_words))
    return " ".join(w + draw(st.sampled_from(PUNCTUATION)) for w in words)


def runs_of(output: str) -> list[str]:
    """The digits of every run in the output, read as the redaction reads its input."""
    return [re.sub("[^0-9]", "", run) for run in RUN.findall(normalise(output))]


def survives(value: str, output: str) -> bool:
    return any(value in run for run in runs_of(output))


@BOUNDED
@given(valid_cpfs, st.data())
def test_no_cpf_survives_in_any_form(cpf: str, data: st.DataObject) -> None:
    typed = data.draw(obfuscated(cpf, CPF_SEPARATORS))
    text = f"{data.draw(ptbr_text())} {typed} {data.draw(ptbr_text())}"

    masked = mask_sensitive(text)

    assert not survives(cpf, masked), (typed, masked)
    assert Cpf.parse(cpf).masked in masked  # the shape support reads
    assert looks_like_cpf(text)


@BOUNDED
@given(codes, st.data())
def test_no_code_survives_in_any_form(code: str, data: st.DataObject) -> None:
    typed = data.draw(obfuscated(code, CODE_SEPARATORS))
    text = f"{data.draw(ptbr_text())} {typed}{data.draw(st.sampled_from(['', '.', '!']))} "
    text += data.draw(ptbr_text())

    assert not survives(code, mask_sensitive(text)), typed


@BOUNDED
@given(valid_cpfs, codes, st.data())
def test_a_cpf_and_a_code_in_one_message_both_go(cpf: str, code: str, data: st.DataObject) -> None:
    assume(code not in cpf[3:9])  # the masked CPF keeps digits 4-9 on purpose
    parts = [
        data.draw(obfuscated(cpf, CPF_SEPARATORS)),
        data.draw(obfuscated(code, CODE_SEPARATORS)),
    ]
    joiner = data.draw(st.sampled_from([" ", "\n", " e ", ", ", " código: "]))
    text = data.draw(ptbr_text()) + " " + joiner.join(data.draw(st.permutations(parts)))

    masked = mask_sensitive(text)

    assert not survives(cpf, masked) and not survives(code, masked), masked


@BOUNDED
@given(
    st.integers(2020, 2030),
    st.integers(0, 999_999),
    st.text("0123456789", min_size=9, max_size=9),
    codes,
    st.data(),
)
def test_guide_numbers_and_carteirinhas_survive_next_to_a_code(
    year: int, serial: int, card_tail: str, code: str, data: st.DataObject
) -> None:
    guide, card = f"GTO-{year}-{serial:06d}", f"0001{card_tail}"
    assume(not survives(code, f"{guide} {card}"))  # the code's digits inside the card itself
    typed = data.draw(obfuscated(code, CODE_SEPARATORS))
    pieces = [f"guia {guide}", f"carteirinha {card}", f"código {typed}"]
    text = " ".join(data.draw(st.permutations(pieces))) + " " + data.draw(ptbr_text())

    masked = mask_sensitive(text)

    assert guide in masked and card in masked, masked
    assert not survives(code, masked), masked


@st.composite
def ordinary(draw: st.DrawFn) -> str:
    """pt-BR text with the numbers people write: amounts, dates, times, small counts, each
    between words."""
    numbers = st.one_of(
        st.integers(0, 9999).map(str),
        st.integers(1, 999).map(lambda n: f"R$ {n},00"),
        st.tuples(st.integers(1, 28), st.integers(1, 12)).map(lambda d: f"{d[0]:02d}/{d[1]:02d}"),
        st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]}:{t[1]:02d}"),
        st.just("1ª consulta"),
        st.just("2º andar"),
    )
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        parts.append(draw(ptbr_text(4)) or "olá")
        if draw(st.booleans()):
            parts.append(draw(numbers))
    return " ".join(parts)


@BOUNDED
@given(ordinary())
def test_ordinary_text_is_kept_as_written(text: str) -> None:
    assert mask_sensitive(text) == text
    assert not looks_like_cpf(text)


@BOUNDED
@given(valid_cpfs, codes, st.data())
def test_masking_twice_changes_nothing_more(cpf: str, code: str, data: st.DataObject) -> None:
    text = f"{data.draw(obfuscated(cpf, CPF_SEPARATORS))} e {data.draw(obfuscated(code, [' ']))}"
    once = mask_sensitive(text)
    assert mask_sensitive(once) == once


@BOUNDED
@given(valid_cpfs, codes, st.data())
def test_a_log_record_is_masked_in_its_message_args_and_traceback(
    cpf: str, code: str, data: st.DataObject
) -> None:
    assume(code not in cpf[3:9])  # the masked CPF keeps digits 4-9 on purpose
    typed_cpf = data.draw(obfuscated(cpf, CPF_SEPARATORS))
    typed_code = data.draw(obfuscated(code, CODE_SEPARATORS))
    try:
        raise ValueError(f"recusado: {typed_cpf}")
    except ValueError:
        record = logging.LogRecord(
            "odontoken", logging.ERROR, __file__, 1, "typed %s and %s", (typed_code, 42), None
        )
        record.exc_info = sys.exc_info()

    assert RedactingFilter().filter(record) is True

    line = logging.Formatter("%(message)s").format(record)
    assert not survives(cpf, line) and not survives(code, line), line
    assert record.exc_info is not None  # still there for any other handler
