"""The store contract for what the abuse rules need, on both stores: a counted event given back
(`refund`), and the beneficiary-wide failure limit counted per API client while the per-guide
rule is shared by every client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support import backends, refs
from tests.support.clock import FakeClock
from token_core.codes.single_use import AttemptPolicy, AttemptStatus, Candidate, Scope
from token_core.storage.memory import InProcessStore
from token_core.storage.ports import EphemeralStore

POLICY = AttemptPolicy(
    guide_max_failures=3,
    guide_lock_seconds=30,
    beneficiary_max_failures=4,
    beneficiary_window_seconds=30,
    memory_seconds=30,
)


@pytest.fixture(params=["in-process", "redis"])
async def any_store(
    request: pytest.FixtureRequest, clock: FakeClock
) -> AsyncIterator[EphemeralStore]:
    if request.param == "in-process":
        yield InProcessStore(clock=clock)
        return
    async with backends.redis_store() as store:
        yield store


async def test_a_refund_takes_back_one_count_and_never_goes_below_zero(
    any_store: EphemeralStore,
) -> None:
    key = f"guess:{refs.suffix()}"
    await any_store.refund(key)  # nothing counted: nothing to give back
    assert await any_store.hit(key, 2, 30) is None
    assert await any_store.hit(key, 2, 30) is None
    await any_store.refund(key)
    assert await any_store.hit(key, 2, 30) is None  # the third counts as the second
    wait = await any_store.hit(key, 2, 30)
    assert wait is not None and 0 < wait <= 30  # the window kept its end


async def test_concurrent_hits_let_through_exactly_the_limit(any_store: EphemeralStore) -> None:
    key = f"guess:{refs.suffix()}"
    waits = await asyncio.gather(*(any_store.hit(key, 5, 30) for _ in range(200)))
    assert sum(w is None for w in waits) == 5


async def test_the_beneficiary_limit_is_per_client_and_the_guide_rule_is_shared(
    any_store: EphemeralStore,
) -> None:
    beneficiary = refs.carteirinha()

    async def fail(guide: str, client: str) -> AttemptStatus:
        wrong = Candidate(Scope(beneficiary, guide), refs.suffix())
        return (await any_store.attempt(guide, [wrong], POLICY, refs.suffix(), client)).status

    assert [await fail("G1", "a") for _ in range(2)] == [AttemptStatus.INVALID] * 2
    assert await fail("G1", "b") is AttemptStatus.GUIDE_LOCKED  # the guide's 3rd failure
    assert await fail("G2", "a") is AttemptStatus.INVALID
    assert await fail("G3", "a") is AttemptStatus.INVALID  # a's 4th failure on this person
    assert await fail("G4", "a") is AttemptStatus.BENEFICIARY_LIMIT
    assert await fail("G4", "b") is AttemptStatus.INVALID  # b has 1 failure here
    assert await fail("G4", "") is AttemptStatus.INVALID  # callers that are no API client
