"""/healthz and /readyz as an orchestrator uses them: unsigned, never cached, and /readyz
naming what does not answer — Redis stopped and started again under a running server, a
gateway nobody listens on — without a restart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.peers.base import free_port
from tests.peers.sms_gateway import TEST_API_TOKEN, SmsGateway
from tests.support.metrics_scrape import scrape, value
from tests.support.redis_server import PrivateRedis
from tests.support.server import running_server, server_settings
from tests.support.waiting import wait_until
from token_core.storage.redis_store import RedisStore

OUTAGES = "odontoken_outages_total"


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path / "redis")
    await redis.start()
    try:
        yield redis
    finally:
        redis.kill()


async def test_healthz_answers_without_a_signature_and_is_never_cached(tmp_path: Path) -> None:
    async with running_server(server_settings(tmp_path)) as server:
        answer = await server.call("GET", "/healthz", signed=False)

    assert answer.status == 200
    assert answer.body == {"status": "ok"}
    assert answer.headers["Cache-Control"] == "no-store"


async def test_readyz_names_redis_while_it_is_down_and_recovers_without_a_restart(
    tmp_path: Path, private_redis: PrivateRedis
) -> None:
    settings = server_settings(
        tmp_path, redis={"url": private_redis.url, "prefix": "ready:", "timeout_seconds": 1}
    )
    async with running_server(settings) as server:
        assert isinstance(server.services.store, RedisStore)
        ready = await server.call("GET", "/readyz", signed=False)
        assert (ready.status, ready.body["status"]) == (200, "ok"), ready.body
        assert ready.body["checks"] == {"database": "ok", "redis": "ok"}
        assert ready.headers["Cache-Control"] == "no-store"

        outages_before = value(
            await scrape(server.session, server.base_url), OUTAGES, backend="store"
        )
        private_redis.kill()
        down = await server.call("GET", "/readyz", signed=False)
        assert down.status == 503
        assert down.body["status"] == "unavailable"
        assert down.body["failed"] == ["redis"]
        assert down.body["checks"]["database"] == "ok"
        assert "127.0.0.1" not in str(down.body) and "redis://" not in str(down.body)

        refused = await server.call("GET", "/api/v1/guias/GTO-0")  # signed: a nonce in Redis
        assert refused.status == 503
        samples = await scrape(server.session, server.base_url)
        assert value(samples, OUTAGES, backend="store") == outages_before + 1

        await private_redis.start()

        async def ready_again() -> bool:
            return (await server.call("GET", "/readyz", signed=False)).status == 200

        await wait_until(ready_again, within=15, interval=0.2)


async def test_readyz_names_an_sms_gateway_that_does_not_answer(tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    settings = server_settings(
        tmp_path, sms={"backend": "zenvia", "base_url": nobody, "api_token": TEST_API_TOKEN}
    )
    async with running_server(settings) as server:
        answer = await server.call("GET", "/readyz", signed=False)

    assert answer.status == 503
    assert answer.body["failed"] == ["sms"]
    assert answer.body["checks"]["sms"] == "ConnectionRefusedError"
    assert TEST_API_TOKEN not in str(answer.body)


async def test_readyz_is_ready_with_the_sms_gateway_up(tmp_path: Path) -> None:
    async with SmsGateway() as gateway:
        settings = server_settings(
            tmp_path,
            sms={"backend": "zenvia", "base_url": gateway.base_url, "api_token": TEST_API_TOKEN},
        )
        async with running_server(settings) as server:
            answer = await server.call("GET", "/readyz", signed=False)

    assert answer.status == 200, answer.body
    assert answer.body["checks"]["sms"] == "ok"
