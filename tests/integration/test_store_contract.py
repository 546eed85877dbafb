"""One contract, two stores: the in-process store and Redis must behave the same."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support import backends, refs
from tests.support.clock import Elapse, FakeClock, elapse_for
from tests.support.waiting import wait_until
from token_core.codes.single_use import AttemptPolicy, AttemptStatus, Candidate, Scope, spent_marker
from token_core.storage.memory import InProcessStore
from token_core.storage.ports import EphemeralStore
from token_core.storage.redis_store import RedisStore

POLICY = AttemptPolicy(
    guide_max_failures=3,
    guide_lock_seconds=30,
    beneficiary_max_failures=5,
    beneficiary_window_seconds=30,
    memory_seconds=30,
)


@pytest.fixture(params=["in-process", "redis", "redis-cluster"])
async def any_store(
    request: pytest.FixtureRequest, clock: FakeClock, cluster_url: str
) -> AsyncIterator[EphemeralStore]:
    if request.param == "in-process":
        yield InProcessStore(clock=clock)
        return
    if request.param == "redis-cluster":
        cluster = RedisStore.from_url(cluster_url, backends.redis_prefix())
        await cluster.ping()
        yield cluster
        await cluster.close()
        return
    async with backends.redis_store() as store:
        yield store


@pytest.fixture
def elapse(any_store: EphemeralStore, clock: FakeClock) -> Elapse:
    """Time passing for `any_store`: the in-process one skips ahead, Redis really waits."""
    return elapse_for(any_store, clock)


async def until_subscribed(store: EphemeralStore, topic: str) -> None:
    """Return once a subscriber just started on `topic` is in place: Redis lists the channel as
    active once it has processed the SUBSCRIBE; the in-process store registers the subscriber in
    the subscriber's first step, which one turn of the event loop runs.
    """
    if isinstance(store, RedisStore):
        await wait_until(lambda: store.has_subscribers(f"{store.prefix}kv:topic:{topic}"))
    else:
        await asyncio.sleep(0)


def scope(guide: str | None = "G1") -> Scope:
    return Scope(refs.carteirinha(), guide)


async def test_a_live_code_is_valid_once_then_used(any_store: EphemeralStore) -> None:
    s = scope()
    await any_store.put_code(s, "d1", ttl=30, memory=30)
    first = await any_store.attempt("G1", [Candidate(s, "d1")], POLICY, "a1")
    elsewhere = await any_store.attempt("G2", [Candidate(s, "d1")], POLICY, "a2")
    assert first.status is AttemptStatus.VALID and first.matched == s
    assert elsewhere.status is AttemptStatus.USED


async def test_a_code_spent_for_a_guide_is_resumed_only_for_that_guide(
    any_store: EphemeralStore,
) -> None:
    """An attempt that spent the code and then lost the database leaves it spent *for that
    guide*: a retry for the same guide takes it over, any other guide hears "já utilizado".
    """
    open_code = scope(None)
    await any_store.put_code(open_code, "d1", ttl=30, memory=30)
    first = await any_store.attempt("G1", [Candidate(open_code, "d1")], POLICY, "a1")
    retry = await any_store.attempt("G1", [Candidate(open_code, "d1")], POLICY, "a2")
    other = await any_store.attempt("G2", [Candidate(open_code, "d1")], POLICY, "a3")
    assert first.status is AttemptStatus.VALID
    assert retry.status is AttemptStatus.RESUMED and retry.matched == open_code
    assert other.status is AttemptStatus.USED
    # the retry took the spend over: the first attempt can no longer give the code back
    assert await any_store.restore_code(open_code, "d1", 30, 30, spent_marker("G1", "a1")) is False
    assert await any_store.restore_code(open_code, "d1", 30, 30, spent_marker("G1", "a2")) is True
    assert (
        await any_store.attempt("G2", [Candidate(open_code, "d1")], POLICY, "a4")
    ).status is AttemptStatus.VALID


async def test_a_wrong_code_counts_down_then_locks(any_store: EphemeralStore) -> None:
    s = scope()
    await any_store.put_code(s, "good", ttl=30, memory=30)
    outcomes = [await any_store.attempt("G1", [Candidate(s, f"bad{i}")], POLICY) for i in range(3)]
    assert [o.status for o in outcomes] == [
        AttemptStatus.INVALID,
        AttemptStatus.INVALID,
        AttemptStatus.GUIDE_LOCKED,
    ]
    assert [o.failures_left for o in outcomes] == [2, 1, 0]
    assert outcomes[2].locked_now and 29 < (outcomes[2].retry_after or 0) <= 30
    locked = await any_store.attempt("G1", [Candidate(s, "good")], POLICY)
    assert locked.status is AttemptStatus.GUIDE_LOCKED and not locked.locked_now


async def test_unlocking_a_guide_lets_the_right_code_through(any_store: EphemeralStore) -> None:
    s = scope()
    await any_store.put_code(s, "good", ttl=30, memory=30)
    for i in range(3):
        await any_store.attempt("G1", [Candidate(s, f"bad{i}")], POLICY)
    assert await any_store.unlock_guide(s.beneficiary, "G1") is True
    assert await any_store.unlock_guide(s.beneficiary, "G1") is False
    outcome = await any_store.attempt("G1", [Candidate(s, "good")], POLICY)
    assert outcome.status is AttemptStatus.VALID


async def test_a_code_past_its_lifetime_reads_as_expired(
    any_store: EphemeralStore, elapse: Elapse
) -> None:
    s = scope()
    await any_store.put_code(s, "d1", ttl=0.15, memory=30)
    await elapse(0.25)
    outcome = await any_store.attempt("G1", [Candidate(s, "d1")], POLICY)
    assert outcome.status is AttemptStatus.EXPIRED


async def test_issuing_again_replaces_the_code_and_forgets_the_old_one(
    any_store: EphemeralStore,
) -> None:
    s = scope()
    await any_store.put_code(s, "old", ttl=30, memory=30)
    await any_store.put_code(s, "new", ttl=30, memory=30)
    old = await any_store.attempt("G1", [Candidate(s, "old")], POLICY)
    new = await any_store.attempt("G1", [Candidate(s, "new")], POLICY)
    assert old.status is AttemptStatus.INVALID
    assert new.status is AttemptStatus.VALID


async def test_a_revoked_code_reads_as_invalid(any_store: EphemeralStore) -> None:
    s = scope()
    await any_store.put_code(s, "d1", ttl=30, memory=30)
    assert await any_store.revoke_code(s) is True
    assert await any_store.revoke_code(s) is False
    outcome = await any_store.attempt("G1", [Candidate(s, "d1")], POLICY)
    assert outcome.status is AttemptStatus.INVALID


async def test_the_second_candidate_matches_and_only_its_code_is_spent(
    any_store: EphemeralStore,
) -> None:
    ben = refs.carteirinha()
    guide_scope, open_scope = Scope(ben, "G1"), Scope(ben, None)
    await any_store.put_code(guide_scope, "g", ttl=30, memory=30)
    await any_store.put_code(open_scope, "b", ttl=30, memory=30)
    outcome = await any_store.attempt(
        "G1", [Candidate(guide_scope, "x"), Candidate(open_scope, "b")], POLICY
    )
    assert outcome.status is AttemptStatus.VALID and outcome.matched == open_scope
    again = await any_store.attempt("G1", [Candidate(guide_scope, "g")], POLICY)
    assert again.status is AttemptStatus.VALID


async def test_failures_across_guides_stop_at_the_beneficiary_limit(
    any_store: EphemeralStore,
) -> None:
    ben = refs.carteirinha()
    statuses = []
    for i in range(6):
        guide = f"G{i}"
        out = await any_store.attempt(guide, [Candidate(Scope(ben, guide), "bad")], POLICY)
        statuses.append(out.status)
    assert statuses[:5] == [AttemptStatus.INVALID] * 5
    assert statuses[5] is AttemptStatus.BENEFICIARY_LIMIT


async def test_concurrent_attempts_spend_a_code_exactly_once(any_store: EphemeralStore) -> None:
    s = scope()
    await any_store.put_code(s, "d1", ttl=30, memory=30)
    outcomes = await asyncio.gather(
        *(any_store.attempt("G1", [Candidate(s, "d1")], POLICY, f"a{i}") for i in range(50))
    )
    statuses = [o.status for o in outcomes]
    assert statuses.count(AttemptStatus.VALID) == 1
    assert statuses.count(AttemptStatus.RESUMED) == 49  # the same guide: the database decides


async def test_concurrent_attempts_on_many_guides_spend_an_open_code_for_one(
    any_store: EphemeralStore,
) -> None:
    s = scope(None)
    await any_store.put_code(s, "d1", ttl=30, memory=30)
    outcomes = await asyncio.gather(
        *(any_store.attempt(f"G{i}", [Candidate(s, "d1")], POLICY, f"a{i}") for i in range(50))
    )
    [winner] = [o for o in outcomes if o.status is AttemptStatus.VALID]
    assert [o.status for o in outcomes].count(AttemptStatus.USED) == 49
    assert winner.matched == s


async def test_a_rate_limit_allows_up_to_the_limit_in_a_window(
    any_store: EphemeralStore, elapse: Elapse
) -> None:
    key = f"issue:{refs.suffix()}"
    results = [await any_store.hit(key, 2, 0.3) for _ in range(3)]
    assert results[:2] == [None, None]
    assert results[2] is not None and 0 < results[2] <= 0.3
    await elapse(0.35)
    assert await any_store.hit(key, 2, 0.3) is None


async def test_set_if_absent_takes_a_key_once_until_it_expires(
    any_store: EphemeralStore, elapse: Elapse
) -> None:
    key = f"nonce:{refs.suffix()}"
    assert await any_store.set_if_absent(key, "a", 0.2) is True
    assert await any_store.set_if_absent(key, "b", 0.2) is False
    assert await any_store.get(key) == "a"
    await elapse(0.3)
    assert await any_store.get(key) is None
    assert await any_store.set_if_absent(key, "c", 0.2) is True


async def test_plain_values_can_be_set_and_deleted(any_store: EphemeralStore) -> None:
    key = f"state:{refs.suffix()}"
    await any_store.set(key, "x", 30)
    assert await any_store.get(key) == "x"
    assert await any_store.delete(key) is True
    assert await any_store.delete(key) is False
    assert await any_store.get(key) is None


async def test_revoking_with_a_digest_spares_a_newer_code(any_store: EphemeralStore) -> None:
    s = scope()
    await any_store.put_code(s, "first", ttl=30, memory=30)
    await any_store.put_code(s, "second", ttl=30, memory=30)
    assert await any_store.revoke_code(s, "first") is False
    assert (
        await any_store.attempt("G1", [Candidate(s, "second")], POLICY)
    ).status is AttemptStatus.VALID


async def test_a_restored_code_is_live_again_and_not_used(any_store: EphemeralStore) -> None:
    s = scope()
    await any_store.put_code(s, "d1", ttl=30, memory=30)
    spent = await any_store.attempt("G1", [Candidate(s, "d1")], POLICY, "a1")
    assert spent.status is AttemptStatus.VALID and 29 < (spent.remaining_ttl or 0) <= 30
    marker = spent_marker("G1", "a1")
    assert await any_store.restore_code(s, "d1", spent.remaining_ttl or 1, 30, marker) is True
    again = await any_store.attempt("G1", [Candidate(s, "d1")], POLICY)
    assert again.status is AttemptStatus.VALID


async def test_a_restore_never_overwrites_a_newer_code(any_store: EphemeralStore) -> None:
    s = scope()
    await any_store.put_code(s, "old", ttl=30, memory=30)
    await any_store.attempt("G1", [Candidate(s, "old")], POLICY, "a1")
    await any_store.put_code(s, "new", ttl=30, memory=30)
    assert await any_store.restore_code(s, "old", 30, 30, spent_marker("G1", "a1")) is False
    assert (
        await any_store.attempt("G1", [Candidate(s, "new")], POLICY)
    ).status is AttemptStatus.VALID


async def test_blocked_tells_the_limit_without_counting(any_store: EphemeralStore) -> None:
    key = f"guess:{refs.suffix()}"
    assert await any_store.blocked(key, 2) is None
    await any_store.hit(key, 2, 30)
    assert await any_store.blocked(key, 2) is None
    await any_store.hit(key, 2, 30)
    wait = await any_store.blocked(key, 2)
    assert wait is not None and 29 < wait <= 30
    assert await any_store.blocked(key, 3) is None


async def test_a_subscriber_receives_what_is_published_after_it_subscribed(
    any_store: EphemeralStore,
) -> None:
    topic = f"live:{refs.suffix()}"
    await any_store.publish(topic, "before anyone listens")
    stream = any_store.subscribe(topic)
    first = asyncio.ensure_future(anext(stream))
    await until_subscribed(any_store, topic)
    await any_store.publish(topic, "hello")
    await any_store.publish(f"{topic}-other", "elsewhere")
    assert await asyncio.wait_for(first, 2) == "hello"
    await any_store.publish(topic, "again")
    assert await asyncio.wait_for(anext(stream), 2) == "again"
    await stream.aclose()  # type: ignore[attr-defined]


async def test_delete_if_releases_only_ones_own_value(any_store: EphemeralStore) -> None:
    key = f"lock:{refs.suffix()}"
    await any_store.set(key, "mine", 30)
    assert await any_store.delete_if(key, "theirs") is False
    assert await any_store.get(key) == "mine"
    assert await any_store.delete_if(key, "mine") is True
    assert await any_store.get(key) is None
