"""`odontoken serve --workers N` with N > 1: gunicorn as the process manager (bot/gunicorn_conf.py,
bot/wsgi.py). The command replaces itself with gunicorn, so the process a supervisor started
(and signals) is the gunicorn master.
"""

from __future__ import annotations

import os
import sys

from bot.settings import ConfigError, Settings

GUNICORN_APP = "bot.wsgi:app_factory"
GUNICORN_CONFIG = "python:bot.gunicorn_conf"


def gunicorn_argv(workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        GUNICORN_CONFIG,
        "--workers",
        str(workers),
        GUNICORN_APP,
    ]


def exec_gunicorn(settings: Settings, workers: int) -> None:
    """Become the gunicorn master of `workers` workers; returns only on a refused setting."""
    if not settings.redis.url:
        raise ConfigError(
            "several workers need redis.url: the in-process store keeps codes, locks and "
            "counters in one process only"
        )
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, gunicorn_argv(workers))  # noqa: S606 - our own interpreter
