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

from bot.app import create_app
from bot.composition import Services, running_services
from bot.logs import configure_logging
from bot.settings import ConfigError, Settings, load_settings
from token_core import audit
from token_core.access.clients import ClientError
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


async def _demo(settings: Settings, _args: argparse.Namespace) -> int:
    async with running_services(settings, apply_migrations=True) as services:
        await _print_demo(services)
    return 0


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    print(
        f"odontoken ({settings.app.environment}) on {_describe_db(settings)}, "
        f"store: {'Redis' if settings.redis.url else 'in-process (one process only)'}"
    )
    await _demo(settings, args)
    return await _serve(settings, args)


async def _serve(settings: Settings, _args: argparse.Namespace) -> int:
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, settings.server.host, settings.server.port)
    await site.start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    portal = f", portal {base}/portal" if settings.portal.enabled else ""
    print(f"\nlistening on {base} (API docs {base}/api/docs{portal}); Ctrl+C stops.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Process managers stop with SIGTERM; a background job may have SIGINT ignored.
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0


async def _clients(settings: Settings, args: argparse.Namespace) -> int:
    async with running_services(settings, apply_migrations=True) as services:
        try:
            if args.action == "create":
                secret = await services.clients.create(args.client_id)
            else:
                secret = await services.clients.rotate(args.client_id)
        except ClientError as exc:
            print(f"odontoken: {exc}", file=sys.stderr)
            return 2
    print(f"client: {args.client_id}")
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


async def _print_demo(services: Services) -> None:
    summary = await load_demo(services.keyring, services.guides)
    print("\nDemo beneficiaries:")
    for b in summary.beneficiaries:
        phone = _mask_e164(b.mobile) if b.mobile else "-"
        print(f"  {b.carteirinha}  {b.name:<28} CPF {b.cpf_masked}  celular {phone}")
    print("\nDemo guides:")
    for g in summary.guides:
        print(
            f"  {g.numero}  {g.status.value:<16} carteirinha {g.beneficiary.carteirinha}  "
            f"{g.dentist_name} ({g.dentist_cro})"
        )
    print("\nThe demo CPFs and phones are listed in the README.")


def _mask_e164(e164: str) -> str:
    from token_core.registry.identity import Mobile

    return Mobile(e164).masked


def _describe_db(settings: Settings) -> str:
    url = settings.database_url
    return url.split("@")[-1] if "@" in url else url


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
    sub.add_parser("demo", help="load the demo beneficiaries and guides").set_defaults(
        handler=_demo
    )
    sub.add_parser("serve", help="run the HTTP server").set_defaults(handler=_serve)
    clients = sub.add_parser("clients", help="manage API clients (dentist systems)")
    client_actions = clients.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("create", "create a client and print its secret once"),
        ("rotate", "new secret; the previous one stays valid until the next rotation"),
    ):
        one = client_actions.add_parser(action, help=text)
        one.add_argument("client_id", metavar="ID")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"odontoken: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.app.log_level)
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
