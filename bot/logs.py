"""Logging set-up. Driver loggers that print SQL parameters (phones, e-mails) stay at INFO
or above whatever the service's level, so DEBUG logging leaks no personal data.
"""

from __future__ import annotations

import logging
import sys

# aiosqlite logs every call with its parameters at DEBUG; Tortoise's db_client logs queries
# with their values at DEBUG; asyncpg is pinned for the same reason.
# python-telegram-bot logs whole updates (CPF typed, shared phone) and Bot API parameters (the
# code on its card) at DEBUG.
PARAMETER_LOGGERS = ("aiosqlite", "tortoise.db_client", "asyncpg", "telegram")


def pin_parameter_loggers() -> None:
    for name in PARAMETER_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if level != "DEBUG":
        logging.getLogger("tortoise").setLevel(logging.WARNING)
    pin_parameter_loggers()
