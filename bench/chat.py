"""Benchmark: inbound chat updates/s end to end (webhook POST in → reply recorded by the
platform's peer) for one `odontoken serve` worker on PostgreSQL + Redis, on Telegram (Bot API
peer) and on WhatsApp (Graph API peer), beside a stock PTB 22 echo bot inside aiohttp
(bench/echo_bot.py) on the Bot API peer under the same load; then the service time at a paced
load.

    .venv/bin/python -m bench.chat [--chats 600] [--concurrency 64] [--rate 100] [--seconds 10]
        [--servers shipped,unlimited] [--channels telegram,whatsapp] [--profile | --spy /tmp/spy]

Every message comes from its own chat and goes through the real dialogue: "/start" from an
unlinked chat (welcome + contact button), "minhas guias" and "gerar token" from chats linked
beforehand (ChatLink rows written here; each beneficiary has one guide awaiting a token, so
"gerar token" issues a code bound to it and sends the card). "shipped" is `odontoken serve` as
configured; "unlimited" is the same server with AIORateLimiter's overall 30 messages/s limit
switched off (telegram.max_messages_per_second = 0) to show what the rest of the stack does.
"whatsapp" is the same server with only the WhatsApp channel (settings as the tests', Graph API
peer on 127.0.0.1): signed notifications, one message each, from senders with their own number;
"oi" from an unlinked sender is WhatsApp's "/start" (see bench/chat_whatsapp.py). The echo bot is
a Telegram baseline: the WhatsApp rows' /echo divides by the same figure.

Closed loop: `--concurrency` chats in flight, each sends when the previous one got its reply;
updates/s = replies / (first POST → last reply). Paced: messages due at fixed times whatever the
replies; latency counts from when each was due. A webhook answer other than 200, the error text
instead of a reply, or no reply within --timeout is counted apart, not as a reply. CPU/msg is
the server's (and this process's) CPU time over the run divided by the replies.

The peers and the load generator share this process, and the server and the echo bot share the
two cores with them: compare figures within one run.

--profile runs the last odontoken server (whatsapp when measured) under cProfile and prints
its top functions. --spy PREFIX records that server with py-spy (raw, idle included) during each
throughput run into PREFIX-<run>.txt and prints where the samples fall; by hand:
    .venv/bin/py-spy record --pid <server pid> -d 5 --idle -f raw -o /tmp/spy.txt
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import sys
import tempfile
from pathlib import Path

from bench.chat_load import Load, Run, TimedTelegramApi, new_chats, seed_linked
from bench.chat_procs import Server, process, spied, spy_summary
from bench.chat_whatsapp import TimedGraphApi, seed_linked_whatsapp, whatsapp_env, whatsapp_server
from tests.peers.base import free_port
from tests.support.backends import (
    REDIS_URL,
    TEST_PEPPER,
    postgres_database,
    redis_cleanup,
    redis_prefix,
)
from token_core.access.clients import new_key
from token_core.keyring import Keyring
from token_core.persistence.database import close_database, migrate, open_database

TOKEN = "123456:bench-token"
SECRET = "bench-webhook-secret-0123456789"
TG_HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
# "unlimited": the same server with telegram.max_messages_per_second = 0 (no overall limit).
SERVE = {"shipped": {}, "unlimited": {"ODONTOKEN_TELEGRAM__MAX_MESSAGES_PER_SECOND": "0"}}
CHANNELS = ("telegram", "whatsapp")
OURS = "token_core|handlers|integrations|bot/|telegram/(_bot|ext/_app)|tortoise/(queryset|models)"


def server_env(db_url: str, prefix: str, tmp: str) -> dict[str, str]:
    """An `odontoken serve` on PostgreSQL + Redis, before its port and chat channel."""
    return {
        **os.environ,
        "ODONTOKEN_DATABASE__URL": db_url,
        "ODONTOKEN_REDIS__URL": REDIS_URL,
        "ODONTOKEN_REDIS__PREFIX": prefix,
        "ODONTOKEN_SECURITY__PEPPER": TEST_PEPPER,
        "ODONTOKEN_SECURITY__SECRETS_KEY": new_key(),
        "ODONTOKEN_APP__LOG_LEVEL": "WARNING",
        "ODONTOKEN_APP__DATA_DIR": tmp,
        "ODONTOKEN_PORTAL__ENABLED": "false",
    }


def telegram_env(peer: str) -> dict[str, str]:
    return {
        "ODONTOKEN_TELEGRAM__TOKEN": TOKEN,
        "ODONTOKEN_TELEGRAM__BASE_URL": f"{peer}/bot",
        "ODONTOKEN_TELEGRAM__WEBHOOK_SECRET": SECRET,
        "ODONTOKEN_TELEGRAM__MODE": "webhook",
    }


async def exercise(args: argparse.Namespace, server: Server) -> list[Run]:
    """Start one server, warm it up, run each closed-loop load, then the paced one; stop it."""
    load = Load(server.replies, server.url, server.headers, args.timeout)
    results: list[Run] = []
    errors: list[str] = []
    async with process(server.cmd, server.env, server.ready, errors) as proc:
        load.pid = proc.pid
        await load.closed("warm-up", server.warm_up, args.concurrency)
        for what, sends in server.runs:
            spy = Path(f"{server.spy}-{what.strip('/').replace(' ', '-')}.txt")
            label = f"{server.name}: {what} ×{len(sends)}"
            run = load.closed(label, sends, args.concurrency)
            results.append(await spied(proc.pid, spy if server.spy else None, run))
            print(results[-1].line(), flush=True)
            if server.spy:
                print(spy_summary(spy), flush=True)
        what, paced = server.paced
        label = f"{server.name}: {what} paced {args.rate:g}/s ×{len(paced)}"
        results.append(await load.paced(label, paced, args.rate))
        print(results[-1].line(), flush=True)
    if errors := [e for e in errors if " INFO " not in e]:
        print(f"  {server.name} stderr: {len(errors)} lines, last: {errors[-1][:300]}", flush=True)
    return results


def serve(profile: Path | None) -> list[str]:
    cprofile = ["-m", "cProfile", "-o", str(profile)] if profile else []
    return [sys.executable, *cprofile, "-m", "bot.cli", "serve"]


def telegram_server(
    args: argparse.Namespace,
    kind: str,
    peer: TimedTelegramApi,
    env: dict[str, str],
    linked: tuple[list[int], list[int]],
    profile: Path | None,
    spy: str,
) -> Server:
    port = free_port()
    guias, token = linked
    return Server(
        name=f"odontoken {kind}",
        cmd=serve(profile),
        env=env | {"ODONTOKEN_SERVER__PORT": str(port)} | telegram_env(peer.base_url) | SERVE[kind],
        ready="listening on",
        url=f"http://127.0.0.1:{port}/webhooks/telegram",
        headers=TG_HEADERS,
        replies=peer.replies,
        warm_up=peer.sends(new_chats(100), "/start"),
        runs=[
            ("/start", peer.sends(new_chats(args.chats), "/start")),
            ("minhas guias", peer.sends(guias, "Minhas guias")),
            ("gerar token", peer.sends(token, "Gerar token")),
        ],
        paced=("/start", peer.sends(new_chats(int(args.rate * args.seconds)), "/start")),
        spy=spy,
    )


def echo_server(args: argparse.Namespace, peer: TimedTelegramApi) -> Server:
    port = free_port()
    echo = ["-m", "bench.echo_bot", str(port), f"{peer.base_url}/bot", TOKEN, SECRET]
    return Server(
        name="PTB echo bot",
        cmd=[sys.executable, *echo],
        env=dict(os.environ),
        ready="listening",
        url=f"http://127.0.0.1:{port}/webhooks/telegram",
        headers=TG_HEADERS,
        replies=peer.replies,
        warm_up=peer.sends(new_chats(100), "/start"),
        runs=[("/start", peer.sends(new_chats(args.chats), "/start"))],
        paced=("/start", peer.sends(new_chats(int(args.rate * args.seconds)), "/start")),
    )


async def main(args: argparse.Namespace) -> None:
    channels = args.channels.split(",")
    kinds = args.servers.split(",") if "telegram" in channels else []
    wa = ["whatsapp"] if "whatsapp" in channels else []
    last = (kinds + wa)[-1]  # the odontoken server --profile and --spy follow
    prefix = redis_prefix()
    peer, graph = TimedTelegramApi(TOKEN), TimedGraphApi()
    results: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        prof = Path(tmp) / "server.prof"
        async with peer, graph, postgres_database() as db_url:
            await migrate(db_url)
            await open_database(db_url)
            try:
                keyring = Keyring(TEST_PEPPER.encode())
                linked = [await seed_linked(args.chats, keyring) for _ in kinds]
                wa_linked = [await seed_linked_whatsapp(args.chats, keyring) for _ in wa]
            finally:
                await close_database()
            print(
                f"seeded {args.chats:,} linked beneficiaries for each of {kinds + wa}", flush=True
            )
            env = server_env(db_url, prefix, tmp)

            def spied_as(kind: str) -> tuple[Path | None, str]:
                profile = prof if args.profile and kind == last else None
                return profile, f"{args.spy}-{kind}" if args.spy and kind == last else ""

            servers = [
                telegram_server(args, kind, peer, env, links, *spied_as(kind))
                for kind, links in zip(kinds, linked, strict=True)
            ]
            servers.append(echo_server(args, peer))
            for links in wa_linked:
                port = free_port()
                env_wa = env | {"ODONTOKEN_SERVER__PORT": str(port)} | whatsapp_env(graph)
                profile, spy = spied_as("whatsapp")
                servers.append(
                    whatsapp_server(args, graph, port, serve(profile), env_wa, links, spy)
                )
            try:
                for server in servers:
                    results += await exercise(args, server)
            finally:
                await redis_cleanup(prefix)
        if args.profile and prof.exists():
            print(f"\n{last} server profile, top 25 by own time, then ours by cumulative:")
            stats = pstats.Stats(str(prof))
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(OURS, 40)
    report(args, results)


def report(args: argparse.Namespace, results: list[Run]) -> None:
    echo = next(r.rate for r in results if r.name.startswith("PTB echo bot: /start ×"))
    print(
        f"\none worker each; closed loop: {args.concurrency} chats in flight, one message per "
        "chat; the peers and the load generator share one process; 2 shared cores"
    )
    for run in results:
        ratio = "" if "paced" in run.name or not echo else f"  /echo {run.rate / echo:.2f}"
        print(run.line() + ratio)
    if any(r.name.startswith("odontoken whatsapp") for r in results):
        print(
            "/echo: replies/s over the PTB echo bot's in this run. The echo bot is a Telegram "
            "baseline (Bot API peer); the WhatsApp rows (Graph API peer, signed notifications) "
            "divide by the same figure."
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=600, help="messages per throughput run")
    parser.add_argument("--concurrency", type=int, default=64, help="chats in flight")
    parser.add_argument("--rate", type=float, default=100.0, help="paced messages/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="paced duration")
    parser.add_argument("--timeout", type=float, default=60.0, help="wait for one reply at most")
    parser.add_argument("--servers", default="shipped,unlimited", help="shipped, unlimited or both")
    parser.add_argument(
        "--channels", default="telegram,whatsapp", help="telegram, whatsapp or both"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--spy", default="", help="py-spy output prefix, e.g. /tmp/spy")
    args = parser.parse_args()
    if not set(args.servers.split(",")) <= set(SERVE):
        parser.error("--servers takes shipped, unlimited or shipped,unlimited")
    if not args.channels or not set(args.channels.split(",")) <= set(CHANNELS):
        parser.error("--channels takes telegram, whatsapp or telegram,whatsapp")
    asyncio.run(main(args))
