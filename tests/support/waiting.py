"""Waiting for something a server, a peer or a background task does, without a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

T = TypeVar("T")


@overload
async def wait_until(
    check: Callable[[], Awaitable[T]], within: float = ..., interval: float = ...
) -> T: ...
@overload
async def wait_until(check: Callable[[], T], within: float = ..., interval: float = ...) -> T: ...
async def wait_until(
    check: Callable[[], object], within: float = 5.0, interval: float = 0.02
) -> object:
    """Call `check` (plain or async) every `interval` seconds until it gives something truthy,
    and return that; fail with TimeoutError once `within` seconds have passed.
    """
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() >= deadline:
            raise TimeoutError(f"still {value!r} after {within} s")
        await asyncio.sleep(interval)
