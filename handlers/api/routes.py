"""Routes of the dentist API and its documentation, each with the client role it serves."""

from __future__ import annotations

from aiohttp import web

from handlers.api import beneficiaries, beneficiary_tokens, docs, guides, openapi
from handlers.api.middleware import idempotency, json_errors, signatures
from handlers.api.roles import only
from token_core.access.clients import ClientRole

MIDDLEWARES = [json_errors, signatures, idempotency]
DENTIST = only(ClientRole.DENTIST)
APP = only(ClientRole.APP)


def setup_api(app: web.Application) -> None:
    app.router.add_put("/api/v1/guias/{numero}", DENTIST(guides.put_guide))
    app.router.add_get("/api/v1/guias/{numero}", DENTIST(guides.get_guide), allow_head=False)
    app.router.add_post("/api/v1/guias/{numero}/token", DENTIST(guides.post_token))
    app.router.add_post("/api/v1/guias/{numero}/validacao", DENTIST(guides.post_validation))
    app.router.add_post("/api/v1/guias/{numero}/cancelamento", DENTIST(guides.post_cancellation))
    app.router.add_get(
        "/api/v1/beneficiarios/{carteirinha}/canais",
        DENTIST(beneficiaries.get_channels),
        allow_head=False,
    )
    app.router.add_post(
        "/api/v1/beneficiarios/{carteirinha}/token",
        APP(beneficiary_tokens.post_beneficiary_token),
    )
    app.router.add_get("/api/openapi.json", openapi.openapi_json, allow_head=False)
    app.router.add_get("/api/docs", docs.docs_page, allow_head=False)
