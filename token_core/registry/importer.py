"""The beneficiary registry: CSV import (idempotent upsert by carteirinha) and look-ups."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from token_core.chat import links
from token_core.errors import DomainError, InvalidEmail
from token_core.keyring import Keyring
from token_core.persistence.models import Beneficiary
from token_core.persistence.transactions import atomic
from token_core.registry.identity import Cpf, Mobile

HEADER = ["carteirinha", "cpf", "nome", "celular", "email"]
_CARTEIRINHA = re.compile(r"[0-9A-Za-z.\-]{1,20}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_COMPARED_FIELDS = ("cpf_hash", "cpf_masked", "name", "mobile", "email")


class RegistryFormatError(Exception):
    """The file is not a registry CSV at all (wrong header); nothing was loaded."""


@dataclass(frozen=True, slots=True)
class RegistryRow:
    line: int
    carteirinha: str
    cpf: Cpf
    name: str
    mobile: Mobile | None
    email: str | None


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    links_revoked: int = 0
    errors: list[RowError] = field(default_factory=list)


def parse_email(raw: str) -> str:
    address = raw.strip()
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise InvalidEmail("E-mail inválido.")
    return address.lower()


def _parse_row(line: int, record: dict[str, str]) -> RegistryRow:
    carteirinha = record["carteirinha"].strip()
    if not _CARTEIRINHA.fullmatch(carteirinha):
        raise DomainError("carteirinha vazia ou inválida (até 20 letras, números, . ou -)")
    name = " ".join(record["nome"].split())
    if not name or len(name) > 200:
        raise DomainError("nome vazio ou com mais de 200 caracteres")
    try:
        cpf = Cpf.parse(record["cpf"])
    except DomainError as exc:
        raise DomainError(f"cpf: {exc}") from None
    try:
        mobile = Mobile.parse(record["celular"]) if record["celular"].strip() else None
    except DomainError as exc:
        raise DomainError(f"celular: {exc}") from None
    try:
        email = parse_email(record["email"]) if record["email"].strip() else None
    except DomainError as exc:
        raise DomainError(f"email: {exc}") from None
    return RegistryRow(line, carteirinha, cpf, name, mobile, email)


def parse_registry(lines: Iterable[str]) -> Iterator[RegistryRow | RowError]:
    """Read `carteirinha,cpf,nome,celular,email` rows; a bad row becomes a RowError."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or [h.strip().lstrip("\ufeff").lower() for h in header] != HEADER:
        raise RegistryFormatError(f"the first line must be the header: {','.join(HEADER)}")
    seen: dict[str, int] = {}
    line_after_previous = reader.line_num
    for values in reader:
        line, line_after_previous = line_after_previous + 1, reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(HEADER):
            yield RowError(line, f"esperadas {len(HEADER)} colunas, há {len(values)}")
            continue
        try:
            row = _parse_row(line, dict(zip(HEADER, values, strict=True)))
        except DomainError as exc:
            yield RowError(line, str(exc))
            continue
        if row.carteirinha in seen:
            yield RowError(line, f"carteirinha repetida (já na linha {seen[row.carteirinha]})")
            continue
        seen[row.carteirinha] = line
        yield row


async def import_registry(
    lines: Iterable[str], keyring: Keyring, batch_size: int = 2000
) -> ImportReport:
    """Load good rows in batches while reporting bad ones; importing again changes nothing."""
    report = ImportReport()
    batch: list[RegistryRow] = []
    for item in parse_registry(lines):
        report.read += 1
        if isinstance(item, RowError):
            report.errors.append(item)
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            await _upsert(batch, keyring, report)
            batch = []
    if batch:
        await _upsert(batch, keyring, report)
    return report


def _fields(row: RegistryRow, keyring: Keyring) -> tuple[str, str, str, str | None, str | None]:
    return (
        keyring.cpf_lookup(row.cpf.digits),
        row.cpf.masked,
        row.name,
        row.mobile.e164 if row.mobile else None,
        row.email,
    )


async def _upsert(rows: list[RegistryRow], keyring: Keyring, report: ImportReport) -> None:
    now = datetime.now(UTC)
    async with atomic():
        existing = {
            values[0]: tuple(values[1:])
            for values in await Beneficiary.filter(
                carteirinha__in=[r.carteirinha for r in rows]
            ).values_list("carteirinha", *_COMPARED_FIELDS)
        }
        wanted = {r.carteirinha: _fields(r, keyring) for r in rows}
        changed = {c: f for c, f in wanted.items() if existing.get(c) != f}
        if changed:
            await Beneficiary.bulk_create(
                [
                    Beneficiary(
                        carteirinha=c,
                        cpf_hash=f[0],
                        cpf_masked=f[1],
                        name=f[2],
                        mobile=f[3],
                        email=f[4],
                        created_at=now,
                        updated_at=now,
                    )
                    for c, f in changed.items()
                ],
                update_fields=[*_COMPARED_FIELDS, "updated_at"],
                on_conflict=["carteirinha"],
            )
        # A chat link proves "this phone and this CPF": a new phone or a new CPF undoes it.
        unproven = [
            c
            for c, f in changed.items()
            if c in existing and (existing[c][0] != f[0] or existing[c][3] != f[3])
        ]
        if unproven:
            report.links_revoked += await links.revoke_of_carteirinhas(unproven, now)
    report.inserted += sum(c not in existing for c in changed)
    report.updated += sum(c in existing for c in changed)
    report.unchanged += len(rows) - len(changed)
