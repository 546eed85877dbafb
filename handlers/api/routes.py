"""Routes of the dentist API and its documentation."""

from __future__ import annotations

from aiohttp import web

from handlers.api import beneficiaries, docs, guides, openapi
from handlers.api.middleware import idempotency, json_errors, signatures

MIDDLEWARES = [json_errors, signatures, idempotency]


def setup_api(app: web.Application) -> None:
    app.router.add_put("/api/v1/guias/{numero}", guides.put_guide)
    app.router.add_get("/api/v1/guias/{numero}", guides.get_guide, allow_head=False)
    app.router.add_post("/api/v1/guias/{numero}/token", guides.post_token)
    app.router.add_post("/api/v1/guias/{numero}/validacao", guides.post_validation)
    app.router.add_get(
        "/api/v1/beneficiarios/{carteirinha}/canais", beneficiaries.get_channels, allow_head=False
    )
    app.router.add_get("/api/openapi.json", openapi.openapi_json, allow_head=False)
    app.router.add_get("/api/docs", docs.docs_page, allow_head=False)
