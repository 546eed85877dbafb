"""A DEBUG start on PostgreSQL with the password in `database.url` logs no part of it (Tortoise
prints the connection URL at start-up with the first third of the password; bot/logs.py pins
that logger).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import string
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support import backends

pytestmark = pytest.mark.production
ODONTOKEN = shutil.which("odontoken", path=str(Path(sys.executable).parent))


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


async def test_a_debug_start_on_postgresql_logs_no_part_of_the_password(tmp_path: Path) -> None:
    assert ODONTOKEN is not None
    password = "".join(secrets.choice(string.ascii_letters) for _ in range(30))
    async with backends.postgres_database() as url:  # trust auth: any password is accepted
        environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("ODONTOKEN_")}
        environ |= {
            "ODONTOKEN_APP__DATA_DIR": str(tmp_path),
            "ODONTOKEN_APP__LOG_LEVEL": "DEBUG",
            "ODONTOKEN_DATABASE__URL": with_password(url, password),
        }
        process = await asyncio.create_subprocess_exec(
            ODONTOKEN,
            "migrate",
            cwd=tmp_path,
            env=environ,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 120)
    output = out.decode()
    assert process.returncode == 0, output
    assert " DEBUG " in output  # it did log at DEBUG
    pieces = {password[i : i + 5] for i in range(len(password) - 4)}
    assert [p for p in pieces if p in output] == []
