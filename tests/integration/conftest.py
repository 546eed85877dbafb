"""Every integration test runs against the session's database (tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _database(database: str) -> None:
    """Opens the database (once per run) before any test here."""
