"""A clock that stands still until a test moves it: TTLs expire without waiting for them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from token_core.storage.memory import InProcessStore
from token_core.storage.ports import EphemeralStore

Elapse = Callable[[float], Awaitable[None]]
"""`await elapse(seconds)`: let that much time pass for a store's expiries (fixture `elapse`)."""


class FakeClock:
    """Monotonic seconds, for code that takes a `clock: Callable[[], float]`."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock never goes back")
        self.now += seconds


def elapse_for(store: EphemeralStore, clock: FakeClock) -> Elapse:
    """How time passes for `store`: the in-process store (built on `clock`) skips ahead at once;
    Redis expires keys on its own clock, so there the time is really waited.
    """

    async def elapse(seconds: float) -> None:
        if isinstance(store, InProcessStore):
            clock.advance(seconds)
        else:
            await asyncio.sleep(seconds)

    return elapse
