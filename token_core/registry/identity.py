"""Identity values: CPF and Brazilian mobile numbers, validated, normalised and masked.

Both classes keep the full value for the code that needs it (`.digits`, `.e164`) but show only
the masked form in `str()`/`repr()`, so logging or raising with one of them leaks nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers

from token_core.errors import InvalidCpf, InvalidPhone

_NON_DIGITS = re.compile(r"\D", re.ASCII)
_CPF_SHAPE = re.compile(r"\d{11}|\d{3}\.\d{3}\.\d{3}-\d{2}", re.ASCII)
_PHONE_ALLOWED = re.compile(r"[\d\s()+\-.]+", re.ASCII)
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def _cpf_check_digit(digits: str) -> str:
    weight = len(digits) + 1
    total = sum(int(d) * (weight - i) for i, d in enumerate(digits))
    rest = total * 10 % 11
    return str(0 if rest == 10 else rest)


@dataclass(frozen=True, slots=True)
class Cpf:
    """A valid CPF: eleven digits whose last two are the check digits of the first nine."""

    digits: str = field(repr=False)

    @classmethod
    def parse(cls, raw: str) -> Cpf:
        """Accept "12345678909" or "123.456.789-09" (spaces around are ignored)."""
        text = raw.strip()
        if not _CPF_SHAPE.fullmatch(text):
            raise InvalidCpf("O CPF deve ter 11 dígitos.")
        digits = _NON_DIGITS.sub("", text)
        if len(set(digits)) == 1:
            raise InvalidCpf("CPF inválido.")
        expected = _cpf_check_digit(digits[:9])
        expected += _cpf_check_digit(digits[:9] + expected)
        if digits[9:] != expected:
            raise InvalidCpf("CPF inválido: os dígitos verificadores não conferem.")
        return cls(digits)

    @property
    def formatted(self) -> str:
        d = self.digits
        return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"

    @property
    def masked(self) -> str:
        """The form shown to people: ***.456.789-**."""
        return f"***.{self.digits[3:6]}.{self.digits[6:9]}-**"

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Cpf({self.masked!r})"


def cpf_with_check_digits(nine: str) -> str:
    """Complete nine digits into a valid CPF (for demo data, tests and benchmarks)."""
    first = _cpf_check_digit(nine)
    return nine + first + _cpf_check_digit(nine + first)


@dataclass(frozen=True, slots=True)
class Mobile:
    """A Brazilian mobile number in E.164: +55, two-digit DDD, 9 and eight digits."""

    e164: str = field(repr=False)

    @classmethod
    def parse(cls, raw: str) -> Mobile:
        """Accept national or international forms, with or without the legacy missing 9.

        "(41) 98857-5949", "41988575949", "+55 41 98857-5949", "0 41 98857-5949" and the old
        eight-digit "+55 41 8857-5949" that WhatsApp still reports for some numbers all give
        +5541988575949.
        """
        text = raw.strip()
        if not text or not _PHONE_ALLOWED.fullmatch(text):
            raise InvalidPhone("Informe o celular com DDD, só com números.")
        digits = _NON_DIGITS.sub("", text)
        if text.startswith("+") and not digits.startswith("55"):
            raise InvalidPhone("Informe um celular do Brasil.")
        national = _national_part(digits)
        if len(national) == 10 and national[2] in "6789":
            national = national[:2] + "9" + national[2:]
        if len(national) != 11 or national[2] != "9":
            raise InvalidPhone("Informe um celular com DDD e 9 dígitos.")
        # phonenumbers' metadata knows which DDDs exist and which ranges are mobile.
        number = phonenumbers.PhoneNumber(country_code=55, national_number=int(national))
        if phonenumbers.number_type(number) not in _MOBILE_TYPES:
            raise InvalidPhone("Esse celular não parece válido. Confira o DDD e o número.")
        return cls(f"+55{national}")

    @property
    def ddd(self) -> str:
        return self.e164[3:5]

    @property
    def local(self) -> str:
        """The nine-digit subscriber number."""
        return self.e164[5:]

    @property
    def legacy_e164(self) -> str:
        """The same number without the leading 9, as older WhatsApp accounts report it."""
        return f"+55{self.ddd}{self.local[1:]}"

    @property
    def masked(self) -> str:
        """The form shown to people: (41) 9****-5949."""
        return f"({self.ddd}) {self.local[0]}****-{self.local[-4:]}"

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Mobile({self.masked!r})"


def _national_part(digits: str) -> str:
    """Strip the country code or the trunk prefix from a digits-only phone number."""
    if len(digits) in (12, 13) and digits.startswith("55"):
        return digits[2:]
    if len(digits) in (11, 12) and digits.startswith("0"):
        return digits[1:]
    return digits


def mask_email(address: str) -> str:
    """Show the first letter and the domain: m****@exemplo.com.br."""
    local, _, domain = address.partition("@")
    if not domain:
        return "****"
    return f"{local[:1]}****@{domain}"
