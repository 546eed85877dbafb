"""gunicorn's configuration for odontoken, read by the master:

    gunicorn -c python:bot.gunicorn_conf --workers 4 bot.wsgi:app_factory

(`odontoken serve --workers N` execs exactly that.) It binds server.host:server.port (and
metrics.port when set), runs aiohttp's `GunicornWebWorker`, and in the master, before forking:
sets up logging, applies migrations and registers the Telegram webhook (bot/startup.py), so no
worker repeats them. SIGTERM: every worker stops accepting, finishes what it holds within
server.shutdown_timeout_seconds, then closes its pools; gunicorn kills what is left a few
seconds after that.

Metrics: prometheus-client's multiprocess mode. PROMETHEUS_MULTIPROC_DIR (kept if set, else
app.data_dir/prometheus) is emptied here, before any worker imports prometheus-client; each
worker writes its values there and a scrape adds them up.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from bot.settings import load_settings

# Nothing above may import prometheus-client: it reads PROMETHEUS_MULTIPROC_DIR on import.
_settings = load_settings()
_metrics_dir = Path(
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_settings.app.data_dir / "prometheus"))
)
_metrics_dir.mkdir(parents=True, exist_ok=True)
for _stale in _metrics_dir.glob("*.db"):  # values of an earlier run
    _stale.unlink()

_server = _settings.server
bind = [f"{_server.host}:{_server.port}"]
if _settings.metrics.port:
    bind.append(f"{_server.host}:{_settings.metrics.port}")
worker_class = "aiohttp.GunicornWebWorker"
graceful_timeout = math.ceil(_server.shutdown_timeout_seconds) + 5
proc_name = "odontoken"
# No gunicornc control socket: its default path ($HOME/.gunicorn) is one per user, not per server.
control_socket_disable = True
# gunicorn's own lines in the service's format too (app.log_format), on the same handler.
_handler = {"handlers": ["odontoken"], "propagate": False}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "odontoken": {"()": "bot.logs.service_handler", "log_format": _settings.log_format}
    },
    "root": {"level": _settings.app.log_level, "handlers": ["odontoken"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", **_handler},
        "gunicorn.access": {"level": "INFO", **_handler},
    },
}


def on_starting(server: Any) -> None:
    """In the master, before the workers: logging, migrations, webhook."""
    import asyncio

    from bot.logs import configure_logging
    from bot.startup import before_workers

    configure_logging(_settings.app.log_level, _settings.log_format)  # the level pins
    asyncio.run(before_workers(_settings))


def when_ready(server: Any) -> None:
    host, port = _server.host, _server.port
    print(f"listening on http://{host}:{port} (gunicorn, {server.num_workers} workers)", flush=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker's files stay (its counts still add up); only its live gauges are dropped."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(_metrics_dir))  # type: ignore[no-untyped-call]
