"""Values as people type them into a dentist system, read into the one form we keep.

- CRO: `CRO-PR 12345`, `CRO/PR 12.345`, `PR 12345`, `PR-12345`, `pr-12345`, `12345-PR`,
  `12345/PR`, `CRO-PR nº 12345`… → `PR-12345` (UF one of the 27; 1 to 8 digits).
- carteirinha: spaces ignored (`0001 0001 0001 0`); dots and hyphens are kept when a beneficiary
  is registered with them, else ignored too (see `parsing.known_carteirinha`).
- guide number: surrounding spaces ignored.
"""

from __future__ import annotations

import re

UFS = frozenset(
    "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO".split()
)
CRO_EXAMPLES = "PR-12345, CRO-PR 12345, CRO/PR 12.345, PR 12345 ou 12345/PR"
CRO_FORMAT = (
    "CRO não reconhecido: informe a UF e o número, como "
    + CRO_EXAMPLES
    + " (UF de um dos 27 estados, até 8 dígitos)"
)
CRO_UF = "UF do CRO desconhecida ({uf}): use a sigla de um dos 27 estados, como " + CRO_EXAMPLES

_SEP = r"[ /:-]*"
_NUMBER = r"(?P<num>[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)"
_PREFIX = r"(?:CRO" + _SEP + r")?"
_NO = r"(?:N[º°.]" + _SEP + r")?"  # "nº 12345"
_UF_FIRST = re.compile(r"^" + _PREFIX + r"(?P<uf>[A-Z]{2})" + _SEP + _NO + _NUMBER + r"$")
_NUMBER_FIRST = re.compile(r"^" + _NUMBER + _SEP + _PREFIX + r"(?P<uf>[A-Z]{2})$")
_SPACES = re.compile(r"\s+")
MAX_DIGITS = 8


class UnreadableCro(ValueError):
    """Not a CRO; the message (pt-BR) names the accepted forms."""


def canonical_cro(typed: str) -> str:
    """`UF-NÚMERO` for a CRO written any of the usual ways; UnreadableCro otherwise."""
    text = _SPACES.sub(" ", typed.strip().upper())
    found = _UF_FIRST.fullmatch(text) or _NUMBER_FIRST.fullmatch(text)
    if found is None:
        raise UnreadableCro(CRO_FORMAT)
    digits = found["num"].replace(".", "")
    if len(digits) > MAX_DIGITS:
        raise UnreadableCro(CRO_FORMAT)
    if found["uf"] not in UFS:
        raise UnreadableCro(CRO_UF.format(uf=found["uf"]))
    return f"{found['uf']}-{digits}"


def without_spaces(typed: str) -> str:
    """A carteirinha as typed, spaces removed (no registry writes one with spaces)."""
    return _SPACES.sub("", typed)


def without_separators(carteirinha: str) -> str:
    """A carteirinha with its dots and hyphens removed too (`0001.0001.0001-0`)."""
    return carteirinha.replace(".", "").replace("-", "")
