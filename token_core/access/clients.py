"""API clients (the dentist system, the portal): provisioning, rotation, secret look-up.

Secrets are encrypted at rest with Fernet under keys from the environment; `MultiFernet`
lets the operator add a new key first and re-encrypt later.
"""

from __future__ import annotations

import enum
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from token_core.errors import DomainError
from token_core.persistence.models import ApiClient
from token_core.persistence.transactions import DuplicateKey

CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{1,49}", re.ASCII)


class ClientError(DomainError):
    pass


class ClientRole(enum.StrEnum):
    """What a client may do: the dentist system never receives a code; the operator's app
    backend receives one for its logged-in beneficiary and does nothing else."""

    DENTIST = "dentista"
    APP = "app"


@dataclass(frozen=True, slots=True)
class Credentials:
    """An active client's valid secrets (newest first) and its role."""

    secrets: list[str]
    role: ClientRole


class SecretsUnreadable(RuntimeError):
    """A stored secret does not open with the configured keys: an operator error, not a client's."""


class SecretBox:
    """Encrypts with the first key, decrypts with any of them."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretsUnreadable(
                "a client secret cannot be decrypted with the current security.secrets_key"
            ) from None


def new_key() -> str:
    return Fernet.generate_key().decode()


class ClientRegistry:
    """Creates and rotates clients; answers "which secrets are valid for X" with a short cache,
    so a rotation reaches every worker within `cache_seconds`. Unknown ids are not cached: a
    flood of made-up ids cannot push real clients out.
    """

    def __init__(self, box: SecretBox, cache_seconds: float = 5) -> None:
        self._box = box
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Credentials]] = {}

    async def create(self, client_id: str, role: ClientRole = ClientRole.DENTIST) -> str:
        if not CLIENT_ID.fullmatch(client_id):
            raise ClientError("client id: 2-50 lower-case letters, digits, '.', '_' or '-'")
        if await ApiClient.exists(client_id=client_id):
            raise ClientError(f"client {client_id} already exists (use rotate)")
        secret = secrets.token_urlsafe(32)
        await ApiClient.create(
            client_id=client_id, role=role.value, secret_current=self._box.seal(secret)
        )
        return secret

    async def ensure(self, client_id: str) -> None:
        """Create the client if it does not exist yet (the built-in reference portal)."""
        if await ApiClient.exists(client_id=client_id):
            return
        try:
            await self.create(client_id)
        except (ClientError, DuplicateKey):
            if not await ApiClient.exists(client_id=client_id):
                raise  # not a concurrent creation by another worker

    async def rotate(self, client_id: str) -> str:
        """A new current secret; the old one stays valid as the previous until the next rotation."""
        client = await ApiClient.get_or_none(client_id=client_id)
        if client is None:
            raise ClientError(f"no client {client_id}")
        secret = secrets.token_urlsafe(32)
        client.secret_previous = client.secret_current
        client.secret_current = self._box.seal(secret)
        client.rotated_at = datetime.now(UTC)
        await client.save()
        self._cache.pop(client_id, None)
        return secret

    async def secrets_for(self, client_id: str) -> list[str]:
        """The secrets valid for an active client, newest first; empty for an unknown one."""
        found = await self.credentials_for(client_id)
        return found.secrets if found else []

    async def credentials_for(self, client_id: str) -> Credentials | None:
        """An active client's secrets and role; None for an unknown or inactive one."""
        now = time.monotonic()
        cached = self._cache.get(client_id)
        if cached and cached[0] > now:
            return cached[1]
        client = await ApiClient.get_or_none(client_id=client_id, active=True)
        if client is None:
            return None
        try:
            role = ClientRole(client.role)
        except ValueError:  # a role this version does not know: no rights at all
            return None
        found = [self._box.open(client.secret_current)]
        if client.secret_previous:
            found.append(self._box.open(client.secret_previous))
        credentials = Credentials(found, role)
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[client_id] = (now + self._cache_seconds, credentials)
        return credentials
