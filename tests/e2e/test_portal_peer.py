"""The reference portal's "local only" rule reads the connection's peer address: a browser on
another machine that writes `Host: 127.0.0.1` is refused, this machine's own browser is not.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import create_app
from handlers.portal.proxy import peer_is_loopback
from tests.conftest import World
from tests.support import backends
from tests.support.server import server_settings


def non_loopback_address() -> str:
    """An IPv4 address of this machine that is not loopback: the one its route out uses
    (connect() on a UDP socket sends nothing).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never reached
        address = str(probe.getsockname()[0])
    assert not peer_is_loopback((address, 0)), "this test needs a non-loopback interface"
    return address


@asynccontextmanager
async def listening_twice(tmp_path: Path) -> AsyncIterator[tuple[int, int, str]]:
    """The server on 127.0.0.1 and on this machine's other address: (port, port, address)."""
    settings = server_settings(tmp_path)
    runner = web.AppRunner(create_app(settings, manage_database=False), access_log=None)
    await runner.setup()
    address = non_loopback_address()
    try:
        loopback, other = web.TCPSite(runner, "127.0.0.1", 0), web.TCPSite(runner, address, 0)
        await loopback.start()
        await other.start()
        ports = [int(a[1]) for a in runner.addresses]
        yield ports[0], ports[1], address
    finally:
        await runner.cleanup()
        if settings.redis.url:
            await backends.redis_cleanup(settings.redis.prefix)


async def test_a_remote_peer_naming_localhost_is_refused_and_the_local_browser_is_served(
    tmp_path: Path, world: World
) -> None:
    guide = await world.guide()
    async with listening_twice(tmp_path) as (local_port, remote_port, address):
        local_host = {"Host": f"127.0.0.1:{remote_port}"}
        async with aiohttp.ClientSession() as session:
            own = await session.get(f"http://127.0.0.1:{local_port}/portal")
            remote_page = await session.get(
                f"http://{address}:{remote_port}/portal", headers=local_host
            )
            remote_api = await session.get(
                f"http://{address}:{remote_port}/portal/api/guias/{guide.numero}",
                headers=local_host,
            )
            own_api = await session.get(
                f"http://127.0.0.1:{local_port}/portal/api/guias/{guide.numero}"
            )
            assert own.status == 200 and "Validar guia" in await own.text()
            assert remote_page.status == 403
            assert remote_api.status == 403
            assert (await remote_api.json())["erro"] == "PORTAL_SOMENTE_LOCAL"
            assert own_api.status == 200 and (await own_api.json())["numero"] == guide.numero


@pytest.mark.parametrize(
    ("peername", "local"),
    [
        (("127.0.0.1", 5000), True),
        (("127.8.0.3", 5000), True),
        (("::1", 5000, 0, 0), True),
        (("::ffff:127.0.0.1", 5000, 0, 0), True),
        (("192.0.2.7", 5000), False),
        (("::ffff:192.0.2.7", 5000, 0, 0), False),
        (("fe80::1%eth0", 5000, 0, 2), False),
        ("", False),
        (None, False),
    ],
)
def test_which_peer_addresses_are_this_machine(peername: object, local: bool) -> None:
    assert peer_is_loopback(peername) is local
