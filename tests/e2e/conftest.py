"""A running server per test, on the selected backend and the session's database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.server import RunningServer, running_server, server_settings


@pytest.fixture(autouse=True)
def _database(database: str) -> None:
    """Opens the database (once per run) before any test here."""


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(server_settings(tmp_path)) as running:
        yield running
