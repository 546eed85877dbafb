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
from token_core.persistence.sql import connection, is_postgres
from token_core.persistence.transactions import atomic
from token_core.registry.identity import Cpf, Mobile
from token_core.registry.import_merge import STORED_FIELDS, RowFields, Stored, merge, unproven
from token_core.vocabulary import Channel

HEADER = ["carteirinha", "cpf", "nome", "celular", "email"]
_CARTEIRINHA = re.compile(r"[0-9A-Za-z.\-]{1,20}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


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


def _fields(row: RegistryRow, keyring: Keyring) -> RowFields:
    return (
        keyring.cpf_lookup(row.cpf.digits),
        row.cpf.masked,
        row.name,
        row.mobile.e164 if row.mobile else None,
        row.email,
    )


_COLUMNS = ", ".join(("carteirinha", *STORED_FIELDS))


async def _read_for_update(carteirinhas: list[str]) -> dict[str, Stored]:
    """The stored rows of this batch, locked until the batch commits (PostgreSQL), so a first
    contact the token flow claims meanwhile is either seen here or claimed after the import.
    """
    conn = connection()
    # Only the constant column names and placeholders are formatted into the texts. Locked in
    # card order, so two imports at once cannot deadlock.
    if is_postgres(conn):
        text = (
            f"SELECT {_COLUMNS} FROM beneficiary WHERE carteirinha = ANY($1::varchar[]) "  # noqa: S608
            "ORDER BY carteirinha FOR UPDATE"
        )
        _, rows = await conn.execute_query(text, [carteirinhas])
    else:
        marks = ",".join("?" * len(carteirinhas))
        text = f"SELECT {_COLUMNS} FROM beneficiary WHERE carteirinha IN ({marks})"  # noqa: S608
        _, rows = await conn.execute_query(text, carteirinhas)
    return {str(r[0]): tuple(r[1:]) for r in rows}


def _model(carteirinha: str, stored: Stored, now: datetime) -> Beneficiary:
    values = dict(zip(STORED_FIELDS, stored, strict=True))
    default = values.pop("default_channel")
    return Beneficiary(
        carteirinha=carteirinha,
        **values,
        default_channel=Channel(default) if default else None,
        created_at=now,
        updated_at=now,
    )


async def _upsert(rows: list[RegistryRow], keyring: Keyring, report: ImportReport) -> None:
    now = datetime.now(UTC)
    async with atomic():
        existing = await _read_for_update([r.carteirinha for r in rows])
        wanted = {
            r.carteirinha: merge(_fields(r, keyring), existing.get(r.carteirinha)) for r in rows
        }
        changed = {c: f for c, f in wanted.items() if existing.get(c) != f}
        if changed:
            await Beneficiary.bulk_create(
                [_model(c, f, now) for c, f in changed.items()],
                update_fields=[*STORED_FIELDS, "updated_at"],
                on_conflict=["carteirinha"],
            )
        revoke = [
            c for c, f in changed.items() if c in existing and unproven(existing[c], f[0], f[3])
        ]
        if revoke:
            report.links_revoked += await links.revoke_of_carteirinhas(revoke, now)
    report.inserted += sum(c not in existing for c in changed)
    report.updated += sum(c in existing for c in changed)
    report.unchanged += len(rows) - len(changed)
