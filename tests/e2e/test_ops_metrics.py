"""GET /metrics as Prometheus scrapes it: parsed by prometheus-client's parser, counters that
move by exactly what happened, routes by their pattern (never a guide number), the outbox
backlog read at scrape time, and the bearer token or the port of its own when configured.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp import web

from bot.app import create_app
from tests.conftest import World
from tests.peers.base import free_port
from tests.support.metrics_scrape import Samples, scrape, value
from tests.support.server import running_server, server_settings
from token_core.vocabulary import Channel

VALIDATION_ROUTE = "/api/v1/guias/{numero}/validacao"


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_one_validation_and_one_wrong_code_move_each_counter_by_one(
    tmp_path: Path, world: World
) -> None:
    settings = server_settings(tmp_path, limits={"guide_max_failures": 2})
    async with running_server(settings) as server:
        guide = await world.guide()
        locked = await world.guide()
        before = await scrape(server.session, server.base_url)

        sent = await server.call("POST", f"/api/v1/guias/{guide.numero}/token", {"canal": "sms"})
        assert sent.status == 202, sent.body
        issued = await server.services.issuer.for_guide(guide.numero, Channel.APP, "app")
        code = issued.code.reveal()
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        path = f"/api/v1/guias/{guide.numero}/validacao"
        assert (await server.call("POST", path, {"token": wrong})).status == 422
        assert (await server.call("POST", path, {"token": code})).status == 200
        after = await scrape(server.session, server.base_url)

        lock_path = f"/api/v1/guias/{locked.numero}/validacao"
        for attempt in ("000000", "000001"):
            assert (await server.call("POST", lock_path, {"token": attempt})).status in (422, 423)
        locks = await scrape(server.session, server.base_url)

    requests = "odontoken_http_requests_total"
    post = {"method": "POST", "route": VALIDATION_ROUTE}
    assert moved(before, after, requests, **post, status="200") == 1
    assert moved(before, after, requests, **post, status="422") == 1
    assert moved(before, after, "odontoken_http_request_duration_seconds_count", **post) == 2
    assert moved(before, after, "odontoken_validations_total", result="valid") == 1
    assert moved(before, after, "odontoken_validations_total", result="invalid") == 1
    assert moved(before, after, "odontoken_codes_issued_total", channel="sms") == 1
    assert moved(before, after, "odontoken_codes_issued_total", channel="app") == 1
    assert moved(before, after, "odontoken_deliveries_total", channel="sms", outcome="ok") == 1
    assert moved(before, after, "odontoken_guide_locks_total") == 0
    assert moved(after, locks, "odontoken_guide_locks_total") == 1
    # The route is its pattern: no guide number in any label.
    labels = {v for (_name, pairs) in locks for _k, v in pairs}
    assert not any(guide.numero in v or locked.numero in v for v in labels)
    # The validation wrote guia.validada, which no dispatcher takes here: the backlog shows it.
    assert value(after, "odontoken_outbox_backlog", type="guia.validada") >= 1
    assert value(after, "odontoken_outbox_oldest_age_seconds", type="guia.validada") >= 0


async def test_metrics_want_the_bearer_token_when_one_is_set(tmp_path: Path) -> None:
    token = "metrics-token-0123456789"
    settings = server_settings(tmp_path, metrics={"token": token})
    async with running_server(settings) as server:
        refused = await server.call("GET", "/metrics", signed=False)
        wrong = await server.call(
            "GET", "/metrics", signed=False, headers={"Authorization": "Bearer nope"}
        )
        samples = await scrape(
            server.session, server.base_url, headers={"Authorization": f"Bearer {token}"}
        )

    assert (refused.status, refused.body["erro"]) == (401, "NAO_AUTORIZADO")
    assert wrong.status == 401
    assert ("odontoken_guide_locks_total", frozenset()) in samples


async def test_metrics_on_a_port_of_their_own_are_not_on_the_main_one(tmp_path: Path) -> None:
    metrics_port = free_port()
    settings = server_settings(tmp_path, metrics={"port": metrics_port})
    runner = web.AppRunner(create_app(settings, manage_database=False), access_log=None)
    await runner.setup()
    main = web.TCPSite(runner, "127.0.0.1", 0)
    await main.start()
    await web.TCPSite(runner, "127.0.0.1", metrics_port).start()
    main_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    metrics_url = f"http://127.0.0.1:{metrics_port}"
    try:
        async with aiohttp.ClientSession() as session:
            samples = await scrape(session, metrics_url)
            async with session.get(f"{main_url}/metrics") as on_main:
                main_status = on_main.status
            async with session.get(f"{metrics_url}/api/docs") as docs_on_metrics:
                docs_status = docs_on_metrics.status
            async with session.get(f"{main_url}/api/docs") as docs_on_main:
                docs_main_status = docs_on_main.status
            async with session.get(f"{metrics_url}/healthz") as health:
                health_status = health.status
    finally:
        await runner.cleanup()

    assert samples
    assert (main_status, docs_status) == (404, 404)
    assert (docs_main_status, health_status) == (200, 200)
