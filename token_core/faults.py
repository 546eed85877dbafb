"""Which failures are outages (a store or the database did not answer: the outcome is unknown,
retrying is safe) as opposed to refusals or bugs. The edges answer outages with 503.
"""

from __future__ import annotations

import asyncpg
from redis import exceptions as redis_errors

from token_core.errors import Unavailable
from token_core.persistence.transactions import ConnectionLost

OUTAGES: tuple[type[BaseException], ...] = (
    Unavailable,
    redis_errors.ConnectionError,  # refused, reset, pool exhausted, Redis loading its data
    redis_errors.TimeoutError,  # no answer within redis.timeout_seconds (e.g. Redis paused)
    asyncpg.PostgresConnectionError,  # class 08: connection failures
    asyncpg.InterfaceError,  # a connection closed under us (terminated backend)
    asyncpg.exceptions.OperatorInterventionError,  # class 57: admin shutdown, query cancelled
    # A connection left mid-protocol by a terminated backend ("cannot switch to state …").
    asyncpg.exceptions._base.InternalClientError,
    ConnectionLost,
    ConnectionError,
    TimeoutError,
)


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is an outage."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OUTAGES):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
