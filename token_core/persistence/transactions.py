"""Transactions and the database errors the core reacts to, so the rest of the core does not
import Tortoise.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from tortoise.exceptions import DBConnectionError as ConnectionLost
from tortoise.exceptions import IntegrityError as DuplicateKey
from tortoise.transactions import in_transaction

__all__ = ["ConnectionLost", "DuplicateKey", "atomic"]


def atomic() -> AbstractAsyncContextManager[Any]:
    """All or nothing: every write inside commits together or not at all."""
    return in_transaction()
