"""Digits in whatever form they were typed, read as ASCII: the first step of redaction.

A person can type a CPF or a code in fullwidth (３００), Arabic-Indic (٣٠٠), Devanagari (३००) or
any other decimal digits, or with zero-width characters between them. Redaction looks for the
data, not for one way of writing it, so it first rewrites the text: Unicode NFKC wherever the
compatibility form of a character holds a digit or a separator (fullwidth ３, circled ③, "…",
a no-break space), every decimal digit (category Nd) as its ASCII digit, and invisible
characters (formats Cf, combining marks Mn/Me) dropped where they sit next to a digit or a
separator. Other characters stay as typed ("1ª consulta" keeps its "ª", which NFKC would make
"1a"), so ordinary text reads as it was written.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

_NON_ASCII_DIGITS = re.compile(r"(?:(?![0-9])\d)+")  # str patterns: \d is every Nd character
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Mn", "Me"})
# Characters that may stand between the digit groups of one number (typed or obfuscated).
SEPARATORS = "\\s.\\-/\\\\_()\u00b7\u2010-\u2015\u2212\u2043"
_DIGIT_OR_SEPARATOR = re.compile(f"[0-9{SEPARATORS}]")


def ascii_digits(text: str) -> str:
    """`text` with every decimal digit as its ASCII digit (no other change)."""
    return _NON_ASCII_DIGITS.sub(
        lambda m: "".join(str(unicodedata.decimal(c)) for c in m.group()), text
    )


def normalise(text: str) -> str:
    """NFKC, ASCII digits, no invisible characters next to digits or separators. ASCII text
    comes back unchanged (and at once).
    """
    if text.isascii():
        return text
    text = _NON_ASCII.sub(lambda m: _compatible(m.group()), text)
    return _invisible_near_digits().sub("", text)


def digit_count(text: str) -> int:
    """How many ASCII digits `text` holds (cheap: ten scans in C)."""
    return sum(map(text.count, "0123456789"))


@functools.lru_cache(maxsize=8192)
def _compatible(char: str) -> str:
    """The NFKC form of one character, with ASCII digits, when it holds a digit or a
    separator; else the character itself.
    """
    folded = ascii_digits(unicodedata.normalize("NFKC", char))
    return folded if _DIGIT_OR_SEPARATOR.search(folded) else char


@functools.cache
def _invisible_near_digits() -> re.Pattern[str]:
    """Invisible characters right after a digit or a separator (an emoji's joiner between two
    pictures stays). Built once, on first use: the table covers the planes in use (BMP, SMP, tags).
    """
    ranges: list[tuple[int, int]] = []
    planes = (range(0x20000), range(0xE0000, min(0xE1000, sys.maxunicode + 1)))
    for plane in planes:
        for point in plane:
            if unicodedata.category(chr(point)) in _INVISIBLE_CATEGORIES:
                if ranges and ranges[-1][1] == point - 1:
                    ranges[-1] = (ranges[-1][0], point)
                else:
                    ranges.append((point, point))
    members = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return re.compile(f"(?<=[0-9{SEPARATORS}])[{members}]+")
