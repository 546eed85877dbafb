"""Config for Tortoise's own CLI (makemigrations): `tortoise -c bot.tortoise_dev.TORTOISE_ORM`."""

from token_core.persistence.database import tortoise_config

TORTOISE_ORM = tortoise_config("sqlite://:memory:")
