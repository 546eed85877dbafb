"""A code authorises one guide, once, while PostgreSQL connections are killed, Redis is paused or
Redis restarts. Each test runs the whole server against its own redis-server (started here, with
an append-only file) and the run's PostgreSQL database. Outages answer 503 and a retry of the
same validation gives the right answer.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.conftest import World
from tests.support.redis_server import PrivateRedis
from tests.support.server import Answer, RunningServer, running_server, server_settings
from token_core.vocabulary import Channel

pytestmark = pytest.mark.production
SMS = Channel.SMS


def validation(numero: str) -> str:
    return f"/api/v1/guias/{numero}/validacao"


async def validate_until_answered(
    server: RunningServer, numero: str, code: str, seen: Counter[int], tries: int = 60
) -> Answer:
    """Validate, retrying while the server says the outcome is unknown (503)."""
    for _ in range(tries):
        answer = await server.call("POST", validation(numero), {"token": code})
        seen[answer.status] += 1
        if answer.status != 503:
            return answer
        assert answer.headers.get("Retry-After"), answer.headers
        await asyncio.sleep(0.05)
    raise AssertionError(f"guide {numero}: still 503 after {tries} tries")


@pytest.fixture
async def private_redis(tmp_path: Path) -> Any:
    redis = PrivateRedis(tmp_path / "redis")
    await redis.start()
    try:
        yield redis
    finally:
        redis.kill()


async def test_killed_database_connections_never_let_a_code_validate_two_guides(
    tmp_path: Path, world: World, database: str, private_redis: PrivateRedis
) -> None:
    settings = server_settings(
        tmp_path, redis={"url": private_redis.url, "prefix": "faults:", "timeout_seconds": 2}
    )
    async with running_server(settings) as server:
        services = server.services
        # 150 beneficiaries with an open code and two guides, 150 with a guide code: 300 runs.
        units: list[tuple[str, str, str | None]] = []  # (first guide, code, second guide)
        for i in range(300):
            ben = await world.beneficiary()
            first = await world.guide(ben)
            if i % 2:
                issued = await services.issuer.for_beneficiary(ben.carteirinha, SMS, "test")
                second = await world.guide(ben)
                units.append((first.numero, issued.code.reveal(), second.numero))
            else:
                issued = await services.issuer.for_guide(first.numero, SMS, "test")
                units.append((first.numero, issued.code.reveal(), None))
        db_name = database.rsplit("/", 1)[-1]
        admin = await asyncpg.connect(database.replace("postgres://", "postgresql://", 1))
        stop = asyncio.Event()
        terminated = 0

        async def kill_connections() -> None:
            nonlocal terminated
            while not stop.is_set():
                rows = await admin.fetch(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    db_name,
                )
                terminated += len(rows)
                await asyncio.sleep(random.uniform(0.1, 0.3))

        seen: Counter[int] = Counter()
        killer = asyncio.create_task(kill_connections())
        slots = asyncio.Semaphore(8)

        async def run(unit: tuple[str, str, str | None]) -> tuple[Answer, Answer | None]:
            first, code, second = unit
            async with slots:
                answer = await validate_until_answered(server, first, code, seen)
                other = None
                if second is not None:
                    other = await validate_until_answered(server, second, code, seen)
                return answer, other

        try:
            results = await asyncio.wait_for(asyncio.gather(*(run(u) for u in units)), 240)
        finally:
            stop.set()
            await killer
            await admin.close()

        assert terminated > 0
        assert seen[500] == 0, seen
        for (first_numero, _code, second_numero), (answer, other) in zip(
            units, results, strict=True
        ):
            # 200, or (when an earlier try's commit went through but its answer was lost to
            # the fault) 409 GUIA_JA_VALIDADA: either way validated once, and retrying says so.
            assert answer.status == 200 or answer.body["erro"] == "GUIA_JA_VALIDADA", (
                first_numero,
                answer.body,
            )
            if other is not None:  # the open code was spent on the first guide
                assert other.status == 409 and other.body["erro"] == "TOKEN_JA_UTILIZADO", (
                    second_numero,
                    other.body,
                )
        # Counted in the database, not sampled: one validation per first guide, none of the
        # second guides validated.
        check = await asyncpg.connect(database.replace("postgres://", "postgresql://", 1))
        try:
            firsts = [u[0] for u in units]
            seconds = [u[2] for u in units if u[2]]
            per_guide = await check.fetch(
                "SELECT guide_numero, count(*) AS n FROM audit_event "
                "WHERE kind = 'token.validated' AND guide_numero = ANY($1::text[]) "
                "GROUP BY guide_numero",
                firsts + seconds,
            )
            counts = {row["guide_numero"]: row["n"] for row in per_guide}
            statuses = dict(
                await check.fetch(
                    "SELECT numero, status FROM guide WHERE numero = ANY($1::text[])",
                    firsts + seconds,
                )
            )
        finally:
            await check.close()
        assert all(counts.get(numero) == 1 for numero in firsts), counts
        assert not any(counts.get(numero) for numero in seconds)
        assert all(statuses[numero] == "VALIDADA" for numero in firsts)
        assert all(statuses[numero] == "AGUARDANDO_TOKEN" for numero in seconds)
        again = await validate_until_answered(server, units[0][0], units[0][1], seen)
        assert again.status == 409 and again.body["erro"] == "GUIA_JA_VALIDADA"
        print(f"\nterminated {terminated} connections; answers {dict(seen)}")


async def test_a_paused_redis_answers_503_and_no_code_is_burned(
    tmp_path: Path, world: World, private_redis: PrivateRedis
) -> None:
    settings = server_settings(
        tmp_path, redis={"url": private_redis.url, "prefix": "pause:", "timeout_seconds": 0.5}
    )
    async with running_server(settings) as server:
        units = []
        for _ in range(12):
            guide = await world.guide()
            issued = await server.services.issuer.for_guide(guide.numero, SMS, "test")
            units.append((guide.numero, issued.code.reveal()))
        private_redis.pause()
        try:
            during = await asyncio.gather(
                *(server.call("POST", validation(n), {"token": c}) for n, c in units)
            )
        finally:
            private_redis.resume()
        assert {a.status for a in during} == {503}, [a.body for a in during]
        assert all(a.body["erro"] == "SERVICO_INDISPONIVEL" for a in during)
        # Redis ran the queued scripts when it woke up: the codes are spent *for their guides*,
        # so retrying each validation finishes it.
        seen: Counter[int] = Counter()
        after = [await validate_until_answered(server, n, c, seen) for n, c in units]
        assert [a.status for a in after] == [200] * len(units), [a.body for a in after]


async def test_after_a_redis_restart_locks_and_replay_refusals_hold_and_nothing_fails(
    tmp_path: Path, world: World, private_redis: PrivateRedis
) -> None:
    settings = server_settings(tmp_path, redis={"url": private_redis.url, "prefix": "restart:"})
    async with running_server(settings) as server:
        locked = await world.guide()
        for _ in range(5):
            await server.call("POST", validation(locked.numero), {"token": "000000"})
        assert (
            await server.call("POST", validation(locked.numero), {"token": "000000"})
        ).status == 423
        captured = await world.guide()
        ts = int(time.time())
        first = await server.call(
            "POST", f"/api/v1/guias/{captured.numero}/token", {"canal": "sms"}, timestamp=ts
        )
        assert first.status == 202
        fresh = [await world.guide() for _ in range(30)]
        codes = [
            (g.numero, (await server.services.issuer.for_guide(g.numero, SMS, "t")).code.reveal())
            for g in fresh
        ]

        await private_redis.restart()

        statuses = [
            (await server.call("POST", validation(n), {"token": c})).status for n, c in codes
        ]
        assert statuses == [200] * len(codes)
        still = await server.call("POST", validation(locked.numero), {"token": "000000"})
        assert still.status == 423, still.body
        replay = await server.call(
            "POST", f"/api/v1/guias/{captured.numero}/token", {"canal": "sms"}, timestamp=ts
        )
        assert replay.status == 401, replay.body
