"""Durable inbound chat updates, the same for every chat channel.

A webhook answers 200 only after `InboundQueue.push` has put the update in the store: on Redis a
stream read by a consumer group (every worker consumes; an entry is acknowledged only after it
was handled; a dead worker's entries are claimed by another after `claim_after_seconds`); on the
in-process store an in-memory queue (one process). Each chat's updates are handled in the order
they arrived, one at a time, and an update already handled is not handled again when its entry
is delivered a second time. A chat over `backlog_cap` unhandled updates gets one notice and its
further updates are dropped (and audited) until it drains.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from token_core.request_context import current_request_id
from token_core.vocabulary import Channel


@dataclass(frozen=True, slots=True)
class InboundUpdate:
    """One update as the platform sent it (`payload`, the adapter's own JSON) for one chat."""

    channel: Channel
    chat_id: str
    update_id: str  # the platform's id, for dropping a resent update
    payload: str
    # The id of the webhook call that received it (by default, the request being handled when
    # the update is made): the log lines of its handling carry it.
    request_id: str = field(default_factory=current_request_id)


class Pushed(enum.Enum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"  # this update_id was already received
    OVER_CAP = "over_cap"  # dropped: the chat has too many unhandled updates
    OVER_CAP_FIRST = "over_cap_first"  # dropped, and the chat has not been told yet


Handler = Callable[[InboundUpdate], Awaitable[None]]


class InboundQueue(Protocol):
    async def push(self, update: InboundUpdate) -> Pushed:
        """Keep the update durably (or say why not); returns once it is safe to answer 200."""

    async def run(self, handle: Handler, stop: Callable[[], bool]) -> None:
        """Consume until `stop()` is true: each update is given to `handle` once it is the
        oldest unhandled one of its chat; an update whose `handle` raised is logged and counted
        as handled (a broken update must not block its chat forever).
        """

    async def close(self) -> None: ...
