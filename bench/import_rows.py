"""Benchmark: import N generated registry rows (default 100,000) and print rows/s.

Runs on a fresh SQLite file and, unless --sqlite-only, on a fresh PostgreSQL database
(ODONTOKEN_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432). Each backend is timed
twice: the first import (all inserts) and a second one of the same file (all unchanged).

    .venv/bin/python -m bench.import_rows [--rows 100000] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.backends import TEST_PEPPER, postgres_database, sqlite_url
from token_core.keyring import Keyring
from token_core.persistence.database import close_database, migrate, open_database
from token_core.registry.identity import cpf_with_check_digits
from token_core.registry.importer import import_registry


def write_rows(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("carteirinha,cpf,nome,celular,email\n")
        for i in range(rows):
            cpf = cpf_with_check_digits(f"{rng.randrange(1, 10**9):09d}")
            phone = f"(41) 9{rng.randrange(8000, 10000)}-{rng.randrange(10**4):04d}"
            out.write(f"{i:013d},{cpf},Beneficiário {i},{phone},pessoa{i}@example.com.br\n")


@asynccontextmanager
async def sqlite_db(folder: Path) -> AsyncIterator[str]:
    yield sqlite_url(folder)


async def time_import(url: str, csv_path: Path, keyring: Keyring) -> list[tuple[str, float, str]]:
    await migrate(url)
    await open_database(url)
    figures = []
    try:
        for label in ("first import", "same file again"):
            with csv_path.open(encoding="utf-8") as handle:
                started = time.perf_counter()
                report = await import_registry(handle, keyring)
                elapsed = time.perf_counter() - started
            summary = (
                f"inserted {report.inserted}, updated {report.updated}, "
                f"unchanged {report.unchanged}, rejected {len(report.errors)}"
            )
            figures.append((label, report.read / elapsed, summary))
    finally:
        await close_database()
    return figures


async def main(rows: int, sqlite_only: bool) -> None:
    keyring = Keyring(TEST_PEPPER.encode())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "registry.csv"
        started = time.perf_counter()
        write_rows(csv_path, rows)
        print(f"generated {rows:,} rows in {time.perf_counter() - started:.1f} s")
        backends = [("SQLite", sqlite_db(folder))]
        if not sqlite_only:
            backends.append(("PostgreSQL", postgres_database()))
        for name, database in backends:
            async with database as url:
                for label, rate, summary in await time_import(url, csv_path, keyring):
                    print(f"{name:<10} {label:<16} {rate:>10,.0f} rows/s   ({summary})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.sqlite_only))
