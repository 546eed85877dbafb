"""The inbound queue as the operations side sees it: updates in are counted by channel and
outcome, and each update is handled under the request id of the webhook call that queued it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from token_core.chat.inbound import Handler, InboundQueue, InboundUpdate, Pushed
from token_core.metrics import Metrics
from token_core.request_context import new_request_id, request_id_bound

logger = logging.getLogger(__name__)

_OUTCOME = {
    Pushed.QUEUED: "queued",
    Pushed.DUPLICATE: "duplicate",
    Pushed.OVER_CAP: "dropped",
    Pushed.OVER_CAP_FIRST: "dropped",
}


class CountedInbound:
    """An `InboundQueue` that counts what the webhooks push into the one it wraps."""

    def __init__(self, queue: InboundQueue, metrics: Metrics) -> None:
        self._queue = queue
        self._metrics = metrics

    async def push(self, update: InboundUpdate) -> Pushed:
        pushed = await self._queue.push(update)
        self._metrics.chat_update_in(update.channel, _OUTCOME[pushed])
        return pushed

    async def run(self, handle: Handler, stop: Callable[[], bool]) -> None:
        await self._queue.run(handle, stop)

    async def close(self) -> None:
        await self._queue.close()


async def handle_traced(update: InboundUpdate, process: Handler) -> None:
    """Handle one update with its request id on every log line written meanwhile."""
    with request_id_bound(update.request_id or new_request_id()):
        await process(update)


async def finish_within(task: asyncio.Task[None], seconds: float) -> None:
    """Let the consumer finish the updates it holds for up to `seconds`, then stop it (an
    update it did not finish is not acknowledged: another worker takes it over)."""
    try:
        await asyncio.wait_for(asyncio.shield(task), seconds)
    except TimeoutError:
        logger.warning("chat updates still in flight after %.0f s; stopped", seconds)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
