"""Views of beneficiary resources: which channels reach a beneficiary."""

from __future__ import annotations

from aiohttp import web

from handlers.api.errors import ApiError
from handlers.api.jsonio import json_response
from handlers.api.parsing import known_carteirinha, path_carteirinha
from handlers.api.presenters import canais_out
from handlers.appkeys import API_CONFIG, SERVICES
from token_core.delivery.sending import reachability
from token_core.registry import beneficiaries


async def get_channels(request: web.Request) -> web.Response:
    carteirinha = await known_carteirinha(path_carteirinha(request))
    beneficiary = await beneficiaries.by_carteirinha(carteirinha)
    if beneficiary is None:
        raise ApiError(404, "BENEFICIARIO_NAO_ENCONTRADO", "Beneficiário não encontrado.")
    reach = await reachability(beneficiary, request.app[SERVICES].sending.channels)
    out = canais_out(reach, request.app[API_CONFIG].sab_phones)
    return json_response(out.model_dump(mode="json"))
