"""Console sessions in the ephemeral store (valid on every worker, expire when idle and, at the
latest, `MAX_AGE_SECONDS` after sign-in). The cookie holds a random id signed with
`console.cookie_secret`; the session holds the agent and the CSRF token of its forms.

A new session is made at every sign-in (the id a browser held before is ended, never reused).
An ended session leaves a tombstone, so a request that read the session just before Sair and
refreshes it just after cannot bring it back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

from token_core.storage.ports import EphemeralStore
from token_core.support.agents import SignedIn
from token_core.vocabulary import AgentRole

COOKIE = "odontoken_sab"
MAX_AGE_SECONDS = 12 * 3600


def _key(sid: str) -> str:
    return f"console:session:{sid}"


def _ended(sid: str) -> str:
    return f"console:session-ended:{sid}"


class ConsoleSessions:
    def __init__(self, store: EphemeralStore, secret: str, idle_seconds: float) -> None:
        self._store = store
        self._key = hashlib.sha256(b"odontoken/console-cookie/v1" + secret.encode()).digest()
        self._idle = idle_seconds

    def _sign(self, sid: str) -> str:
        return hmac.new(self._key, sid.encode(), hashlib.sha256).hexdigest()

    def session_id(self, cookie: str | None) -> str | None:
        """The session id of a cookie whose signature is ours (the session may be over)."""
        if not cookie or "." not in cookie or len(cookie) > 200:
            return None
        sid, _, signature = cookie.partition(".")
        if not hmac.compare_digest(self._sign(sid).encode(), signature.encode("utf-8", "replace")):
            return None
        return sid

    async def create(self, agent: SignedIn) -> tuple[str, str]:
        """A new session: (cookie value, CSRF token)."""
        sid = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        data = {
            "login": agent.login,
            "name": agent.name,
            "role": agent.role.value,
            "csrf": csrf,
            "since": time.time(),
        }
        await self._store.set(_key(sid), json.dumps(data), self._idle)
        return f"{sid}.{self._sign(sid)}", csrf

    async def load(self, cookie: str | None) -> tuple[str, SignedIn, str] | None:
        """(session id, agent, CSRF token) for a live session, refreshing its idle time."""
        sid = self.session_id(cookie)
        if sid is None:
            return None
        data = await self._live(sid)
        if data is None:
            return None
        await self._store.set(_key(sid), json.dumps(data), self._idle)
        agent = SignedIn(str(data["login"]), str(data["name"]), AgentRole(str(data["role"])))
        return sid, agent, str(data["csrf"])

    async def alive(self, sid: str) -> bool:
        """Whether the session still stands (without refreshing it): for long-lived streams."""
        return await self._live(sid) is not None

    async def _live(self, sid: str) -> dict[str, object] | None:
        raw = await self._store.get(_key(sid))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            since = float(data.get("since", 0))
        except (ValueError, TypeError, AttributeError):
            data, since = None, 0.0
        if not isinstance(data, dict) or time.time() - since > MAX_AGE_SECONDS:
            await self.end(sid)
            return None
        if await self._store.get(_ended(sid)) is not None:
            await self._store.delete(_key(sid))  # brought back by a late refresh: end it again
            return None
        return data

    async def end(self, sid: str) -> None:
        await self._store.set(_ended(sid), "1", 2 * self._idle)
        await self._store.delete(_key(sid))
