"""What `odontoken run` and `serve` print at start-up, as the README shows it: paths relative to
the working folder, each warning once, the demo table, then the URLs; the log lines written
meanwhile (the demo's audit lines) come after the banner, not inside it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.settings import Settings
from token_core.demo import DemoSummary
from token_core.registry.identity import Mobile

IN_PROCESS_WARNING = (
    "warning: the in-process store keeps codes, counters and locks in this process only: "
    "run a single worker, or set redis.url to share them."
)
_STORE_LOGGER = "token_core.storage.memory"


class _NoStoreWarning(logging.Filter):
    """The in-process store warns each time one is made; the banner says it once instead, and
    only where a server runs (a `clients create` or an import serves nothing)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("In-process store:")


def quiet_store_warning() -> None:
    logging.getLogger(_STORE_LOGGER).addFilter(_NoStoreWarning())


def shown_path(path: Path) -> str:
    """A path as the person typed it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def describe_db(settings: Settings) -> str:
    if not settings.database.url:
        return f"sqlite://{shown_path(settings.app.data_dir / 'odontoken.sqlite3')}"
    url = settings.database_url
    return url.split("@")[-1] if "@" in url else url


def head(settings: Settings) -> list[str]:
    store = "Redis" if settings.redis.url else "in-process (one process only)"
    lines = [f"odontoken ({settings.app.environment}) on {describe_db(settings)}, store: {store}"]
    if not settings.redis.url:
        lines.append(IN_PROCESS_WARNING)
    consoles = [
        what
        for what, backend in (("SMS", settings.sms.backend), ("e-mail", settings.email.backend))
        if backend == "console"
    ]
    if consoles:
        outbox = shown_path(settings.app.data_dir / "outbox.txt")
        lines.append(f"{' and '.join(consoles)} messages (console backend) go to {outbox}")
    return lines


def demo_table(summary: DemoSummary) -> list[str]:
    lines = ["", "Demo beneficiaries:"]
    for b in summary.beneficiaries:
        phone = Mobile(b.mobile).masked if b.mobile else "-"
        lines.append(f"  {b.carteirinha}  {b.name:<28} CPF {b.cpf_masked}  celular {phone}")
    lines += ["", "Demo guides:"]
    for g in summary.guides:
        lines.append(
            f"  {g.numero}  {g.status.value:<16} carteirinha {g.beneficiary.carteirinha}  "
            f"{g.dentist_name} ({g.dentist_cro})"
        )
    lines += ["", "The demo CPFs and phones are listed in the README."]
    return lines


def urls(settings: Settings, base: str) -> list[str]:
    pages = [
        ("sandbox chat", "/sandbox", settings.sandbox_enabled),
        ("portal", "/portal", settings.portal.enabled),
        ("console", "/atendimento", settings.console.enabled),
        ("API docs", "/api/docs", True),
    ]
    lines = ["", f"listening on {base}"]
    lines += [f"  {name:<14}{base}{path}" for name, path, on in pages if on]
    lines.append("Ctrl+C stops.")
    return lines


@contextmanager
def logs_after() -> Iterator[None]:
    """Hold the log lines written inside the block and write them when it ends."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    held: list[logging.LogRecord] = []

    class _Hold(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            held.append(record)

    root.handlers = [_Hold()]
    try:
        yield
    finally:
        root.handlers = handlers
        for record in held:
            for handler in handlers:
                if record.levelno >= handler.level:
                    handler.handle(record)


def say(lines: list[str]) -> None:
    print("\n".join(lines), flush=True)
