"""Secrets the service needs at run time: from the environment, a file, or (development only)
generated once under app.data_dir and kept there with mode 0600.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from bot.settings import ConfigError, Settings

MIN_PEPPER_LENGTH = 32


def _secret(settings: Settings, value: str, file: str, name: str) -> str:
    if not value and file:
        try:
            value = Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read security.{name}_file: {exc.strerror}") from None
    if not value and settings.production:
        raise ConfigError(f"production mode needs security.{name}")
    return value


def resolve_pepper(settings: Settings) -> bytes:
    """Return the secret pepper, generating and keeping a local one in development only."""
    sec = settings.security
    value = _secret(settings, sec.pepper, sec.pepper_file, "pepper")
    if not value:
        value = _local_secret(settings.app.data_dir / "pepper.key", lambda: secrets.token_hex(32))
    if len(value) < MIN_PEPPER_LENGTH:
        raise ConfigError(f"security.pepper must have at least {MIN_PEPPER_LENGTH} characters")
    return value.encode("utf-8")


def resolve_secrets_keys(settings: Settings) -> list[bytes]:
    """Fernet keys for client secrets at rest: the first encrypts, any of them decrypts."""
    sec = settings.security
    value = _secret(settings, sec.secrets_key, sec.secrets_key_file, "secrets_key")
    if not value:
        value = _local_secret(
            settings.app.data_dir / "secrets.key",
            lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        )
    keys = [k.strip().encode() for k in value.split(",") if k.strip()]
    for key in keys:
        try:
            if len(base64.urlsafe_b64decode(key)) != 32:
                raise ValueError
        except ValueError:
            raise ConfigError(
                "security.secrets_key: each key must be 32 url-safe base64 bytes "
                "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')"
            ) from None
    return keys


def _local_secret(path: Path, make: Callable[[], str]) -> str:
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value
