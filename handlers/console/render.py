"""Rendering the console's pages: Jinja2 with autoescape, one environment per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from handlers.console.config import AGENT, CSRF
from token_core.vocabulary import BRASILIA

TEMPLATES = Path(__file__).with_name("templates")
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _local_time(value: Any, fmt: str = "%d/%m/%Y %H:%M") -> str:
    if value is None:
        return "—"
    return f"{value.astimezone(BRASILIA):{fmt}}"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["hora"] = _local_time
    return env


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A full page, with the signed-in agent and the CSRF token for its forms."""
    context.setdefault("agent", request.get(AGENT))
    context.setdefault("csrf", request.get(CSRF, ""))
    context.setdefault("path", request.path)
    html = environment().get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", headers=PAGE_HEADERS)
