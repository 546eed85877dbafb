"""A callback receiver behind a login wall: while `redirect` is on, every request to the events
URL answers a redirect (302 unless `redirect_status` says otherwise) to a login page that
answers 200 to anything, as a dentist system behind an expired single sign-on does. Off, it is
the plain `CallbackReceiver` (signatures checked, dedupe by id, 204).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.peers.callback_receiver import CallbackReceiver

LOGIN_PATH = "/entrar"
# What a login redirect carries: where to go back to, and a session token that must not be logged.
LOGIN_QUERY = "?voltar=%2Fsio%2Feventos&sessao=token-da-sessao-expirada-0123#formulario"


class RedirectingCallbackReceiver(CallbackReceiver):
    """Counts `redirected` (events answered with a redirect) and `login_visits` (requests that
    followed one to the login page).
    """

    def __init__(self, client_id: str, secret: str) -> None:
        super().__init__(client_id, secret)
        self.redirect = False
        self.redirect_status = 302
        self.redirected = 0
        self.login_visits = 0

    @property
    def login_url(self) -> str:
        """The login page, without the query string the redirect adds."""
        return f"{self.base_url}{LOGIN_PATH}"

    def add_routes(self, app: web.Application) -> None:
        super().add_routes(app)
        app.router.add_route("*", LOGIN_PATH, self._login)
        app.middlewares.append(self._wall)

    @web.middleware
    async def _wall(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.redirect and request.path != LOGIN_PATH:
            self.redirected += 1
            return web.Response(
                status=self.redirect_status, headers={"Location": self.login_url + LOGIN_QUERY}
            )
        return await handler(request)

    async def _login(self, _request: web.Request) -> web.Response:
        self.login_visits += 1
        return web.Response(text="<h1>Entrar no SIO</h1>", content_type="text/html")
