"""A readable page of the API for integrators (pt-BR), drawn from the OpenAPI document."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2
from aiohttp import web

from handlers.api.openapi import build_spec

_TEMPLATES = Path(__file__).with_name("templates")


@cache
def _page() -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("docs.html.j2").render(spec=build_spec())


async def docs_page(_request: web.Request) -> web.Response:
    return web.Response(text=_page(), content_type="text/html")
