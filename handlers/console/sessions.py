"""Console sessions in the ephemeral store (valid on every worker, expire when idle). The cookie
holds a random id signed with `console.cookie_secret`; the session holds the agent and the
CSRF token of its forms.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

from token_core.storage.ports import EphemeralStore
from token_core.support.agents import SignedIn
from token_core.vocabulary import AgentRole

COOKIE = "odontoken_sab"


class ConsoleSessions:
    def __init__(self, store: EphemeralStore, secret: str, idle_seconds: float) -> None:
        self._store = store
        self._key = hashlib.sha256(b"odontoken/console-cookie/v1" + secret.encode()).digest()
        self._idle = idle_seconds

    def _sign(self, sid: str) -> str:
        return hmac.new(self._key, sid.encode(), hashlib.sha256).hexdigest()

    async def create(self, agent: SignedIn) -> tuple[str, str]:
        """A new session: (cookie value, CSRF token)."""
        sid = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        data = {"login": agent.login, "name": agent.name, "role": agent.role.value, "csrf": csrf}
        await self._store.set(f"console:session:{sid}", json.dumps(data), self._idle)
        return f"{sid}.{self._sign(sid)}", csrf

    async def load(self, cookie: str | None) -> tuple[str, SignedIn, str] | None:
        """(session id, agent, CSRF token) for a valid cookie, refreshing its idle time."""
        if not cookie or "." not in cookie:
            return None
        sid, _, signature = cookie.partition(".")
        if not hmac.compare_digest(self._sign(sid).encode(), signature.encode("utf-8", "replace")):
            return None
        raw = await self._store.get(f"console:session:{sid}")
        if raw is None:
            return None
        await self._store.set(f"console:session:{sid}", raw, self._idle)
        data = json.loads(raw)
        agent = SignedIn(data["login"], data["name"], AgentRole(data["role"]))
        return sid, agent, str(data["csrf"])

    async def end(self, sid: str) -> None:
        await self._store.delete(f"console:session:{sid}")
