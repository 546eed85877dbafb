"""Two OS processes sharing PostgreSQL + Redis race to spend the same code."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.composition import assemble
from tests.conftest import World
from tests.support import backends
from token_core import audit
from token_core.codes.policy import TokenPolicy
from token_core.keyring import Keyring
from token_core.persistence.models import Guide
from token_core.storage.ports import EphemeralStore
from token_core.storage.redis_store import RedisStore
from token_core.vocabulary import AuditKind, Channel, GuideStatus

pytestmark = pytest.mark.production
ROOT = Path(__file__).resolve().parents[2]


async def run_worker(
    db_url: str, prefix: str, guide: str, code: str, start_at: float, redis_url: str | None = None
) -> list[str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.validate_worker",
        db_url,
        prefix,
        guide,
        "100",
        str(start_at),
        *([redis_url] if redis_url else []),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(f"{code}\n".encode())
    assert proc.returncode == 0, err.decode()
    statuses: list[str] = json.loads(out)
    return statuses


async def test_two_hundred_concurrent_validations_in_two_processes_yield_one_success(
    store: EphemeralStore, world: World, database: str
) -> None:
    assert isinstance(store, RedisStore), "this test needs the production backend"
    guide = await world.guide()
    issued = await world.services.issuer.for_guide(guide.numero, Channel.SMS, actor="sio")
    start_at = time.time() + 1.5  # both processes start importing well before this

    results = await asyncio.gather(
        run_worker(database, store.prefix, guide.numero, issued.code.reveal(), start_at),
        run_worker(database, store.prefix, guide.numero, issued.code.reveal(), start_at),
    )

    statuses = Counter(status for batch in results for status in batch)
    print(dict(statuses))
    assert sum(statuses.values()) == 200
    assert statuses["valid"] == 1, statuses
    # The losers hear that the code was spent: "already used" while the guide row was still
    # being updated, "already validated" once it was.
    assert set(statuses) <= {"valid", "already_used", "already_validated"}, statuses
    assert (await Guide.get(numero=guide.numero)).status is GuideStatus.VALIDATED
    events = await audit.trail(guide=guide.numero)
    assert [e.kind for e in events].count(AuditKind.TOKEN_VALIDATED) == 1


async def test_the_same_race_on_a_three_node_redis_cluster_yields_one_success(
    world: World, database: str, cluster_url: str, keyring: Keyring
) -> None:
    """Every key of a beneficiary shares a hash tag: the attempt script runs in one slot."""
    cluster = RedisStore.from_url(cluster_url, backends.redis_prefix())
    try:
        services = assemble(cluster, keyring, TokenPolicy())
        guide = await world.guide()
        issued = await services.issuer.for_guide(guide.numero, Channel.SMS, actor="sio")
        start_at = time.time() + 1.5
        results = await asyncio.gather(
            *(
                run_worker(
                    database,
                    cluster.prefix,
                    guide.numero,
                    issued.code.reveal(),
                    start_at,
                    cluster_url,
                )
                for _ in range(2)
            )
        )
    finally:
        await cluster.close()
    statuses = Counter(status for batch in results for status in batch)
    print(dict(statuses))
    assert sum(statuses.values()) == 200
    assert statuses["valid"] == 1, statuses
    assert set(statuses) <= {"valid", "already_used", "already_validated"}, statuses
    events = await audit.trail(guide=guide.numero)
    assert [e.kind for e in events].count(AuditKind.TOKEN_VALIDATED) == 1
