"""Masking what support may read and what logs, the audit and events keep: codes, CPFs and
phone numbers inside free text, found by what the digits are, not by how they were typed.

The text is first read with ASCII digits (`digit_forms.normalise`: NFKC, every Nd digit as
ASCII, invisible characters between digits dropped). Then every run of digit groups joined by
separators (spaces, dots, dashes, slashes, line breaks, up to five in a row) is read, window by
window of whole groups:

1. 11 digits that are a valid CPF → the masked CPF (`***.456.789-**`);
2. 10 to 13 digits that are a valid Brazilian phone number → `(**) *****-5949`;
3. any other 11 digits → stars (a CPF with a typo is still most of a CPF);
4. 6 to 8 digits (every code length `tokens.digits` allows) joined only by spaces, dots or
   dashes → `•`. A slash does not join a code, so dates (12/03/2026) stay.

Words that hold letters are identifiers and stay (guide numbers such as GTO-2026-000101, test
cards such as T000123…, e-mails), except a valid CPF inside one. Digits alone that fit none of the
rules stay too: carteirinhas such as 0001000100010 (13 digits, not a phone), years, amounts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import phonenumbers

from token_core.chat.digit_forms import SEPARATORS, digit_count, normalise
from token_core.errors import InvalidCpf
from token_core.registry.identity import Cpf

CODE_MASK, STAR = "•", "*"
_CHAIN = re.compile(f"[0-9]+(?:[{SEPARATORS}]{{1,5}}[0-9]+)*")
_GROUP = re.compile("[0-9]+")
_DIGIT = re.compile("[0-9]")
_CODE_JOINER = re.compile("[\\s.\\-_\u00b7\u2010-\u2015\u2212\u2043]+")
_WORD = re.compile(r"\w+(?:[./\-]\w+)*")
_LETTER = re.compile(r"[^\W\d_]")
# Kept whole, digits and all: a CPF already masked, and timestamps as machines write them.
_KEPT = (
    re.compile(r"\*\*\*\.[0-9]{3}\.[0-9]{3}-\*\*"),
    re.compile(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"
        r"(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
    ),
)
_BLANK = "\x00"

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    kind: str  # cpf | phone | stars | code
    text: str


def mask_sensitive(text: str, codes: Iterable[str] = ()) -> str:
    """The text with known codes, CPFs, phone numbers and any 6-8 digit run masked. Cheap for
    what holds nothing to mask: ASCII text with fewer than six digits comes back at once, and
    text where nothing was found comes back exactly as written.
    """
    if text.isascii() and digit_count(text) < 6:
        return text
    typed = text
    text = read = normalise(text)
    for code in codes:
        if code:
            text = text.replace(code, CODE_MASK * len(code))
    hits = sorted(_scan(text), key=lambda h: h.start)
    if not hits and text == read:
        return typed
    out, last = [], 0
    for hit in hits:
        out += [text[last : hit.start], hit.text]
        last = hit.end
    return "".join([*out, text[last:]])


def looks_like_cpf(text: str) -> bool:
    """Whether a message carries something that reads as a CPF (to delete it from the chat)."""
    text = normalise(text)
    return any(hit.kind in ("cpf", "stars") for hit in _scan(text))


def _scan(text: str) -> list[_Hit]:
    work = _blank(text, [m.span() for pattern in _KEPT for m in pattern.finditer(text)])
    # Words with letters and digits; words without digits cannot hide one, and digits alone
    # are read by every rule below.
    words = [m.span() for m in _WORD.finditer(work) if _has_digit_and_letter(m.group())]
    hits: list[_Hit] = []
    for start, end in words:
        if digit_count(text[start:end]) >= 11:
            inner = _LETTER.sub(_BLANK, text[start:end])
            hits += [
                h
                for chain in _CHAIN.finditer(inner)
                for h in _chain(text, chain, start).valid_cpfs()
            ]
    for chain in _CHAIN.finditer(_blank(work, words)):
        if digit_count(chain.group()) >= 6:
            hits += _chain(text, chain).all_hits()
    return hits


def _has_digit_and_letter(word: str) -> bool:
    return (
        not word.isdigit() and _DIGIT.search(word) is not None and _LETTER.search(word) is not None
    )


def _chain(text: str, chain: re.Match[str], offset: int = 0) -> _Chain:
    base = offset + chain.start()
    groups = [(base + g.start(), base + g.end()) for g in _GROUP.finditer(chain.group())]
    return _Chain(text, groups)


def _blank(text: str, spans: list[Span]) -> str:
    if not spans:
        return text
    out, last = [], 0
    for start, end in sorted(spans):
        start = max(start, last)
        out += [text[last:start], _BLANK * (end - start)]
        last = max(last, end)
    return "".join([*out, text[last:]])


class _Chain:
    """Digit groups joined by separators; each rule marks windows of whole groups."""

    def __init__(self, text: str, groups: list[Span]) -> None:
        self.text, self.groups = text, groups
        self.sizes = [end - start for start, end in groups]
        self.marks: list[tuple[str, int] | None] = [None] * len(groups)

    def valid_cpfs(self) -> list[_Hit]:
        self._mark("cpf", 11, 11, _is_cpf)
        return self._hits()

    def all_hits(self) -> list[_Hit]:
        self._mark("cpf", 11, 11, _is_cpf)
        self._mark("phone", 10, 13, _is_phone)
        self._mark("stars", 11, 11, lambda _digits: True)
        for i in range(len(self.groups)):
            for j, total in self._windows(i, 8, code=True):
                if total >= 6:
                    for k in range(i, j + 1):
                        self.marks[k] = ("code", 0)
        return self._hits()

    def _windows(self, i: int, limit: int, *, code: bool = False) -> Iterator[tuple[int, int]]:
        """(last group, digits) of each window starting at group i made of free groups."""
        total = 0
        for j in range(i, len(self.groups)):
            mark = self.marks[j]
            if mark is not None and not (code and mark[0] == "code"):
                return
            if code and j > i and not self._code_joined(j):
                return
            total += self.sizes[j]
            if total > limit:
                return
            yield j, total

    def _code_joined(self, j: int) -> bool:
        between = self.text[self.groups[j - 1][1] : self.groups[j][0]]
        return _CODE_JOINER.fullmatch(between) is not None

    def _mark(self, kind: str, low: int, high: int, accepts: Callable[[str], bool]) -> None:
        i = 0
        while i < len(self.groups):
            found = None
            for j, total in self._windows(i, high):
                if total >= low and accepts(self._digits(i, j)):
                    found = j
            if found is None:
                i += 1
                continue
            for k in range(i, found + 1):
                self.marks[k] = (kind, i)
            i = found + 1

    def _digits(self, i: int, j: int) -> str:
        return "".join(self.text[start:end] for start, end in self.groups[i : j + 1])

    def _hits(self) -> list[_Hit]:
        hits, i = [], 0
        while i < len(self.groups):
            mark = self.marks[i]
            j = i
            while j + 1 < len(self.groups) and mark is not None and self.marks[j + 1] == mark:
                j += 1
            if mark is not None:
                hits.append(self._hit(mark[0], i, j))
            i = j + 1
        return hits

    def _hit(self, kind: str, i: int, j: int) -> _Hit:
        start, end = self.groups[i][0], self.groups[j][1]
        digits = self._digits(i, j)
        if kind == "cpf":
            return _Hit(start, end, kind, Cpf.parse(digits).masked)
        if kind == "phone":
            if start and self.text[start - 1] == "(":
                start -= 1
            if start and self.text[start - 1] == "+":
                start -= 1
            return _Hit(start, end, kind, "(**) *****-" + digits[-4:])
        return _Hit(start, end, kind, (STAR if kind == "stars" else CODE_MASK) * (end - start))


@functools.lru_cache(maxsize=4096)
def _is_cpf(digits: str) -> bool:
    try:
        Cpf.parse(digits)
    except InvalidCpf:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _is_phone(digits: str) -> bool:
    if digits.startswith("00"):  # no area code or trunk prefix starts so (a card number)
        return False
    try:
        number = phonenumbers.parse(digits, "BR")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))
