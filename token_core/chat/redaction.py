"""Masking what support may read: codes, CPFs and phone numbers inside free text."""

from __future__ import annotations

import re
from collections.abc import Iterable

from token_core.errors import InvalidCpf
from token_core.registry.identity import Cpf

_CPF = re.compile(r"(?<!\d)\d{3}\.?\d{3}\.?\d{3}-?\d{2}(?!\d)", re.ASCII)
_PHONE = re.compile(r"(?<![\w(-])\+?\(?\d[\d\s().-]{8,17}\d(?![\w-])", re.ASCII)
# Digit runs standing alone (a code, typed whole or "123 456"); not the digits inside a guide
# number such as GTO-2026-000101.
_DIGIT_RUN = re.compile(r"(?<![\w-])(?:\d{6,8}|\d{3}[ .]\d{3,5})(?![\w-])", re.ASCII)


def _mask_cpf(match: re.Match[str]) -> str:
    try:
        return Cpf.parse(match.group()).masked
    except InvalidCpf:
        return "*" * len(match.group())


def _mask_phone(match: re.Match[str]) -> str:
    digits = [c for c in match.group() if c.isdigit()]
    if len(digits) < 10:
        return match.group()
    return "(**) *****-" + "".join(digits[-4:])


def looks_like_cpf(text: str) -> bool:
    """Whether a message carries something shaped like a CPF (to delete it from the chat)."""
    return _CPF.search(text) is not None


def mask_sensitive(text: str, codes: Iterable[str] = ()) -> str:
    """The text with known codes, CPFs, phone numbers and any 6-8 digit run masked."""
    for code in codes:
        if code:
            text = text.replace(code, "•" * len(code))
    text = _CPF.sub(_mask_cpf, text)
    text = _PHONE.sub(_mask_phone, text)
    return _DIGIT_RUN.sub(lambda m: "•" * len(m.group()), text)
