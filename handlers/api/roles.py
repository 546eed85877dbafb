"""Which API clients may call which view: the dentist system (`dentista`) registers, reads,
sends, validates and cancels guides and never receives a code; the operator's app backend
(`app`) only asks a code for its logged-in beneficiary, which comes back in the answer.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from handlers.api.errors import ApiError
from token_core.access.clients import ClientRole

CLIENT_ROLE = web.RequestKey("client_role", ClientRole)
View = Callable[[web.Request], Awaitable[web.StreamResponse]]

_REFUSALS = {
    ClientRole.DENTIST: "Esta chamada é do app da operadora: o sistema do dentista nunca "
    "recebe o código do beneficiário.",
    ClientRole.APP: "Esta chamada é do sistema do dentista: o cliente do app só pede o código "
    "do beneficiário (POST /api/v1/beneficiarios/{carteirinha}/token).",
}


def only(role: ClientRole) -> Callable[[View], View]:
    """The view answers clients of `role`; any other signed client gets 403."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        async def checked(request: web.Request) -> web.StreamResponse:
            given = request.get(CLIENT_ROLE)
            if given is not role:
                refused = given if given is not None else ClientRole.APP
                raise ApiError(403, "PAPEL_NAO_PERMITIDO", _REFUSALS[refused], papel=given)
            return await view(request)

        return checked

    return wrap
