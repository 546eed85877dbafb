"""Tortoise ORM wiring: the config for a URL, migrations, opening and closing connections."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api import migrate as run_migrations

MODELS_APP = "models"


def tortoise_config(url: str) -> dict[str, Any]:
    return {
        "connections": {"default": url},
        "apps": {
            MODELS_APP: {
                "models": ["token_core.persistence.models"],
                "default_connection": "default",
                "migrations": "token_core.persistence.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(url: str) -> None:
    """Apply every pending migration (idempotent) and leave the connections closed."""
    try:
        await run_migrations(config=tortoise_config(url))
    finally:
        await Tortoise.close_connections()


async def open_database(url: str) -> None:
    await Tortoise.init(config=tortoise_config(url))


async def close_database() -> None:
    await Tortoise.close_connections()
