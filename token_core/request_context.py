"""The id of the request (or chat update) being handled, for log lines: set by the HTTP edge
for each request and by the inbound consumer for each chat update (which carries the id of the
webhook call that queued it). A `ContextVar`, so concurrent requests each see their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_REQUEST_ID: ContextVar[str] = ContextVar("odontoken_request_id", default="")


def current_request_id() -> str:
    """The id of what is being handled now; "" outside any request or update."""
    return _REQUEST_ID.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def request_id_bound(request_id: str) -> Iterator[str]:
    """Log lines written inside carry `request_id`."""
    token = _REQUEST_ID.set(request_id)
    try:
        yield request_id
    finally:
        _REQUEST_ID.reset(token)
