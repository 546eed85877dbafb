"""Beneficiários: search (Buscar), a beneficiary's page, and the SAB actions posted from it
(handlers/console/sab_actions.py), each with a reason.
"""

from __future__ import annotations

from aiohttp import web

from handlers.console.beneficiary_page import carteirinha_of, render
from handlers.console.render import page
from handlers.console.sab_actions import (
    change_email,
    change_mobile,
    phone_code,
    unlink_chat,
    unlock_guide,
    unlock_linking,
)
from token_core.chat.redaction import mask_sensitive
from token_core.registry.identity import Mobile
from token_core.support import views

__all__ = [
    "change_email",
    "change_mobile",
    "one",
    "phone_code",
    "search",
    "unlink_chat",
    "unlock_guide",
    "unlock_linking",
]


async def search(request: web.Request) -> web.Response:
    """By carteirinha, guide number or the last 4 digits of the phone; masked rows."""
    query = request.query.get("q", "").strip()[:40]
    found = await views.find_beneficiaries(query) if query else []
    rows = [
        {
            "nome": b.name,
            "carteirinha": b.carteirinha,
            "cpf": b.cpf_masked,
            "celular": Mobile(b.mobile).masked if b.mobile else "—",
            "ativo": b.active,
        }
        for b in found
    ]
    # What was typed goes back on the page; a CPF or phone typed by mistake goes back masked.
    shown = query if found else mask_sensitive(query)
    return page(request, "beneficiarios.html", q=shown, buscou=bool(query), resultados=rows)


async def one(request: web.Request) -> web.Response:
    return await render(request, carteirinha_of(request))
