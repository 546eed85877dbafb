"""The reference portal has no login, so it answers only this machine's own browser."""

from __future__ import annotations

from tests.conftest import World
from tests.support.server import RunningServer


async def test_the_portal_refuses_another_host_name(server: RunningServer, world: World) -> None:
    guide = await world.guide()
    own = await server.session.get(f"{server.base_url}/portal")
    rebound = await server.session.get(
        f"{server.base_url}/portal", headers={"Host": "portal.example.com"}
    )
    proxied = await server.session.get(
        f"{server.base_url}/portal/api/guias/{guide.numero}", headers={"Host": "portal.example.com"}
    )
    assert own.status == 200 and "Validar guia" in await own.text()
    assert rebound.status == 403
    assert proxied.status == 403 and (await proxied.json())["erro"] == "PORTAL_SOMENTE_LOCAL"


async def test_a_page_from_another_site_cannot_post_through_the_portal(
    server: RunningServer, world: World
) -> None:
    guide = await world.guide()
    url = f"{server.base_url}/portal/api/guias/{guide.numero}/validacao"
    foreign = await server.session.post(
        url, json={"token": "123456"}, headers={"Origin": "https://evil.example"}
    )
    same = await server.session.post(
        url, json={"token": "123456"}, headers={"Origin": server.base_url}
    )
    assert foreign.status == 403
    assert same.status == 422 and (await same.json())["erro"] == "TOKEN_INVALIDO"


async def test_a_number_made_only_of_dots_is_refused(server: RunningServer) -> None:
    answer = await server.call("GET", "/api/v1/guias/...")
    assert answer.status == 400 and answer.body["campo"] == "numero"
    proxied = await server.session.get(f"{server.base_url}/portal/api/guias/...")
    assert proxied.status == 400 and (await proxied.json())["campo"] == "numero"
