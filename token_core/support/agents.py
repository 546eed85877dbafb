"""Support agents: created by the operator on the command line, signing in to the console with
a password kept only as an argon2id hash. An unknown login costs the same work as a wrong
password, and both get the same answer.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from token_core.errors import DomainError
from token_core.persistence.models import Agent
from token_core.persistence.transactions import DuplicateKey
from token_core.vocabulary import AgentRole, utc_now

LOGIN = re.compile(r"[a-z][a-z0-9._-]{1,39}", re.ASCII)


class AgentError(DomainError):
    pass


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who is using the console (what a session holds)."""

    login: str
    name: str
    role: AgentRole

    @property
    def supervisor(self) -> bool:
        return self.role is AgentRole.SUPERVISOR

    @property
    def actor(self) -> str:
        return f"agent:{self.login}"


def new_password() -> str:
    """A one-time password to read out or paste: 16 URL-safe characters."""
    return secrets.token_urlsafe(12)


class AgentRegistry:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()  # argon2id, the library's current defaults
        self._dummy: str | None = None  # verified against for unknown logins (same work)

    async def _hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def create(self, login: str, name: str, role: AgentRole) -> str:
        """Create an agent; returns the one-time password (shown once, never stored)."""
        if not LOGIN.fullmatch(login):
            raise AgentError("login: 2-40 letras minúsculas, números, '.', '_' ou '-'")
        name = " ".join(name.split())
        if not name or len(name) > 120:
            raise AgentError("nome: de 1 a 120 caracteres")
        password = new_password()
        try:
            await Agent.create(
                login=login,
                name=name,
                role=role.value,
                password_hash=await self._hash(password),
                password_set_at=utc_now(),
            )
        except DuplicateKey:
            raise AgentError(f"o agente {login} já existe") from None
        return password

    async def reset_password(self, login: str) -> str:
        password = new_password()
        changed = await Agent.filter(login=login).update(
            password_hash=await self._hash(password), password_set_at=utc_now(), active=True
        )
        if not changed:
            raise AgentError(f"não há agente {login}")
        return password

    async def disable(self, login: str) -> None:
        if not await Agent.filter(login=login).update(active=False):
            raise AgentError(f"não há agente {login}")

    async def authenticate(self, login: str, password: str) -> SignedIn | None:
        """The agent when the password matches an active agent; None otherwise, after the same
        work (an argon2 verification) whether the login exists or not.
        """
        agent = await Agent.get_or_none(login=login[:40], active=True)
        if self._dummy is None:
            self._dummy = await self._hash(secrets.token_urlsafe(16))
        stored = agent.password_hash if agent else self._dummy
        try:
            await asyncio.to_thread(self._hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if agent is None:
            return None
        return SignedIn(agent.login, agent.name, AgentRole(agent.role))

    async def get(self, login: str) -> SignedIn | None:
        agent = await Agent.get_or_none(login=login, active=True)
        return SignedIn(agent.login, agent.name, AgentRole(agent.role)) if agent else None
