"""Logging set-up. Driver loggers that print SQL parameters (phones, e-mails) stay at INFO
or above whatever the service's level, so DEBUG logging leaks no personal data.
"""

from __future__ import annotations

import logging
import sys

from bot.log_format import RequestIdFilter, formatter
from bot.log_redaction import RedactingFilter

# aiosqlite logs every call with its parameters at DEBUG; Tortoise's db_client logs queries
# with their values at DEBUG; asyncpg is pinned for the same reason.
# python-telegram-bot logs whole updates (CPF typed, shared phone) and Bot API parameters (the
# code on its card) at DEBUG. Tortoise's own logger ("tortoise") prints the connection URL at
# start-up (Tortoise.init, "Tortoise-ORM startup") with the first third of the password.
PARAMETER_LOGGERS = ("aiosqlite", "tortoise", "tortoise.db_client", "asyncpg", "telegram")


def pin_parameter_loggers() -> None:
    for name in PARAMETER_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


def service_handler(log_format: str = "plain") -> logging.Handler:
    """The one handler of the service (gunicorn's lines go through it too): stderr, "plain" or
    "json" lines (bot/log_format.py) with the request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter())  # codes, CPFs, phones: masked in every line
    return handler


def configure_logging(level: str, log_format: str = "plain") -> None:
    logging.basicConfig(level=level, handlers=[service_handler(log_format)])
    if level != "DEBUG":
        logging.getLogger("tortoise").setLevel(logging.WARNING)
    pin_parameter_loggers()
