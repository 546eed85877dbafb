"""The `odontoken` command."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from bot import banner
from bot.app import create_app
from bot.cli_privacy import add_purge, add_subject_requests
from bot.composition import running_services
from bot.logs import configure_logging
from bot.serving import exec_gunicorn
from bot.settings import ConfigError, Settings, load_settings
from token_core import audit
from token_core.access.clients import ClientError, ClientRole
from token_core.demo import load_demo
from token_core.registry.importer import ImportReport, RegistryFormatError, import_registry
from token_core.support.agents import AgentError
from token_core.vocabulary import AgentRole, AuditKind

logger = logging.getLogger("odontoken")


async def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    async with running_services(settings, apply_migrations=True):
        pass
    print(f"database is up to date: {_describe_db(settings)}")
    return 0


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    reset = bool(getattr(args, "reset", False))
    async with running_services(settings, apply_migrations=True) as services:
        summary = await load_demo(
            services.keyring, services.guides, reset_store=services.store if reset else None
        )
    banner.say(banner.demo_table(summary))
    if reset and not settings.redis.url:
        print(
            "Demo reset. A server running on the in-process store keeps its own codes and "
            "locks until it restarts (scripts/run resets the demo at every start)."
        )
    return 0


async def _run(settings: Settings, _args: argparse.Namespace) -> int:
    """Set up, put the demo back as new, serve: the banner first, the log lines after it."""
    with banner.logs_after():
        banner.say(banner.head(settings))
        async with running_services(settings, apply_migrations=True) as services:
            summary = await load_demo(services.keyring, services.guides, reset_store=services.store)
        banner.say(banner.demo_table(summary))
        runner, stop = await _listen(settings)
    return await _until_stopped(runner, stop)


async def _serve(settings: Settings, args: argparse.Namespace) -> int:
    workers = getattr(args, "workers", 1)  # `run` serves one process
    if workers > 1:
        exec_gunicorn(settings, workers)  # gunicorn takes over this process
    with banner.logs_after():
        if not settings.redis.url:
            print(banner.IN_PROCESS_WARNING)
        runner, stop = await _listen(settings)
    return await _until_stopped(runner, stop)


async def _listen(settings: Settings) -> tuple[web.AppRunner, asyncio.Event]:
    """Start the server, stop it on SIGTERM or SIGINT from now on (a Ctrl+C while the held log
    lines are written just stops it), and print where it listens (the banner's last lines)."""
    runner = web.AppRunner(
        create_app(settings), shutdown_timeout=settings.server.shutdown_timeout_seconds
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.server.host, settings.server.port)
    await site.start()
    if settings.metrics.port:  # /metrics (and the probes) on a port of its own
        await web.TCPSite(runner, settings.server.host, settings.metrics.port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Process managers stop with SIGTERM; a background job may have SIGINT ignored.
        loop.add_signal_handler(signum, stop.set)
    host, port = runner.addresses[0][:2]
    banner.say(banner.urls(settings, f"http://{host}:{port}"))
    return runner, stop


async def _until_stopped(runner: web.AppRunner, stop: asyncio.Event) -> int:
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0


async def _clients(settings: Settings, args: argparse.Namespace) -> int:
    async with running_services(settings, apply_migrations=True) as services:
        try:
            if args.action == "create":
                secret = await services.clients.create(args.client_id, ClientRole(args.papel))
            else:
                secret = await services.clients.rotate(args.client_id)
        except ClientError as exc:
            print(f"odontoken: {exc}", file=sys.stderr)
            return 2
    print(f"client: {args.client_id}")
    if args.action == "create":
        print(f"papel: {args.papel}")
    print(f"secret: {secret}")
    print("Keep the secret now: it is shown only this once.", file=sys.stderr)
    return 0


async def _agents(settings: Settings, args: argparse.Namespace) -> int:
    async with running_services(settings, apply_migrations=True) as services:
        try:
            if args.action == "create":
                password = await services.agents.create(
                    args.login, args.nome, AgentRole(args.papel)
                )
            elif args.action == "reset-password":
                password = await services.agents.reset_password(args.login)
            else:
                await services.agents.disable(args.login)
                await audit.For("cli").record(
                    AuditKind.AGENT_CHANGED, login=args.login, acao="disable"
                )
                print(f"agent {args.login} disabled")
                return 0
        except AgentError as exc:
            print(f"odontoken: {exc}", file=sys.stderr)
            return 2
        await audit.For("cli").record(AuditKind.AGENT_CHANGED, login=args.login, acao=args.action)
    print(f"agent: {args.login}")
    print(f"password: {password}")
    print("Give the password now: it is shown only this once.", file=sys.stderr)
    return 0


def _describe_db(settings: Settings) -> str:
    return banner.describe_db(settings)


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        # Decoded whole before anything loads: a bad byte anywhere refuses the file, not half of it.
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(f"{path}: the file must be UTF-8 (bad byte at position {exc.start})", file=sys.stderr)
        return 2
    async with running_services(settings, apply_migrations=True) as services:
        try:
            report = await import_registry(io.StringIO(text, newline=""), services.keyring)
        except RegistryFormatError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return 2
    _print_report(report)
    return 1 if report.errors else 0


def _print_report(report: ImportReport) -> None:
    for error in report.errors:
        print(f"line {error.line}: {error.reason}")
    print(
        f"rows read: {report.read}; inserted: {report.inserted}; updated: {report.updated}; "
        f"unchanged: {report.unchanged}; rejected: {len(report.errors)}; "
        f"chat links revoked: {report.links_revoked}"
    )


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("must be a whole number, 1 or more")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="odontoken",
        description="Single-use security codes for dental treatment guides.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="set up, load the demo data and run the server").set_defaults(
        handler=_run
    )
    sub.add_parser("migrate", help="apply the database migrations").set_defaults(handler=_migrate)
    demo = sub.add_parser("demo", help="load the demo beneficiaries and guides")
    demo.add_argument(
        "--reset",
        action="store_true",
        help="put the demo guides back awaiting a token (no live code, lock or chat link)",
    )
    demo.set_defaults(handler=_demo)
    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help="worker processes under gunicorn (default 1: this process serves alone)",
    )
    serve.set_defaults(handler=_serve)
    clients = sub.add_parser("clients", help="manage API clients (dentist systems)")
    client_actions = clients.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("create", "create a client and print its secret once"),
        ("rotate", "new secret; the previous one stays valid until the next rotation"),
    ):
        one = client_actions.add_parser(action, help=text)
        one.add_argument("client_id", metavar="ID")
        if action == "create":
            one.add_argument(
                "--papel",
                choices=[r.value for r in ClientRole],
                default=ClientRole.DENTIST.value,
                help="dentista: the dentist system (never receives a code); app: the "
                "operator's app backend (only asks a code for its beneficiary)",
            )
        one.set_defaults(handler=_clients)
    agents = sub.add_parser("agents", help="manage support (SAB) console agents")
    agent_actions = agents.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = agent_actions.add_parser("create", help="create an agent and print a password once")
    create.add_argument("login", metavar="LOGIN")
    create.add_argument("--nome", required=True, help="the agent's name as the console shows it")
    create.add_argument(
        "--papel", choices=[r.value for r in AgentRole], default=AgentRole.ATTENDANT.value
    )
    create.set_defaults(handler=_agents)
    for action, text in (
        ("reset-password", "a new one-time password (printed once)"),
        ("disable", "the agent can no longer sign in; open sessions end"),
    ):
        one = agent_actions.add_parser(action, help=text)
        one.add_argument("login", metavar="LOGIN")
        one.set_defaults(handler=_agents)
    beneficiaries = sub.add_parser("beneficiaries", help="manage the beneficiary registry")
    ben_sub = beneficiaries.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = ben_sub.add_parser(
        "import", help="upsert beneficiaries from a CSV (carteirinha,cpf,nome,celular,email)"
    )
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.set_defaults(handler=_import)
    add_subject_requests(ben_sub)  # export, erase (bot/cli_privacy.py)
    add_purge(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"odontoken: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.app.log_level, settings.log_format)
    banner.quiet_store_warning()  # said once by the banner, where a server runs
    try:
        code: int = asyncio.run(args.handler(settings, args))
        return code
    except KeyboardInterrupt:
        return 0
    except ConfigError as exc:
        print(f"odontoken: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
