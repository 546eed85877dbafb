"""Benchmark: inbound Telegram updates/s end to end (webhook POST in → reply recorded by the Bot
API peer) for one `odontoken serve` worker on PostgreSQL + Redis, beside a stock PTB 22 echo bot
inside aiohttp (bench/echo_bot.py) on the same peer under the same load; then the service time
at a paced load.

    .venv/bin/python -m bench.chat [--chats 600] [--concurrency 64] [--rate 100] [--seconds 10]
        [--servers shipped,unlimited] [--profile | --spy /tmp/spy]

Every message comes from its own chat and goes through the real dialogue: "/start" from an
unlinked chat (welcome + contact button), "minhas guias" and "gerar token" from chats linked
beforehand (ChatLink rows written here; each beneficiary has one guide awaiting a token, so
"gerar token" issues a code bound to it and sends the card). "shipped" is `odontoken serve` as
configured; "unlimited" is the same server with AIORateLimiter's overall 30 messages/s limit
switched off (bench-only, see bench/chat_load.py) to show what the rest of the stack does.

Closed loop: `--concurrency` chats in flight, each sends when the previous one got its reply;
updates/s = replies / (first POST → last reply). Paced: messages due at fixed times whatever the
replies; latency counts from when each was due. A webhook answer other than 200, the error text
instead of a reply, or no reply within --timeout is counted apart, not as a reply. CPU/msg is
the server's (and this process's) CPU time over the run divided by the replies.

The peer and the load generator share this process, and the server and the echo bot share the
two cores with them: compare figures within one run.

--profile runs the last odontoken server under cProfile and prints its top functions.
--spy PREFIX records the last odontoken server with py-spy (raw, idle included) during each
throughput run into PREFIX-<run>.txt and prints where the samples fall; by hand:
    .venv/bin/py-spy record --pid <server pid> -d 5 --idle -f raw -o /tmp/spy.txt
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import signal
import sys
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

from bench.chat_load import (
    Load,
    Run,
    Sends,
    TimedTelegramApi,
    new_chats,
    process,
    seed_linked,
    spy_summary,
)
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
# "unlimited": the same server with telegram.max_messages_per_second = 0 (no overall limit).
SERVE = {"shipped": {}, "unlimited": {"ODONTOKEN_TELEGRAM__MAX_MESSAGES_PER_SECOND": "0"}}
OURS = "token_core|handlers|integrations|bot/|telegram/(_bot|ext/_app)|tortoise/(queryset|models)"
PY_SPY = Path(sys.executable).parent / "py-spy"


def server_env(db_url: str, prefix: str, port: int, peer: str, tmp: str) -> dict[str, str]:
    return {
        **os.environ,
        "ODONTOKEN_DATABASE__URL": db_url,
        "ODONTOKEN_REDIS__URL": REDIS_URL,
        "ODONTOKEN_REDIS__PREFIX": prefix,
        "ODONTOKEN_SECURITY__PEPPER": TEST_PEPPER,
        "ODONTOKEN_SECURITY__SECRETS_KEY": new_key(),
        "ODONTOKEN_SERVER__PORT": str(port),
        "ODONTOKEN_APP__LOG_LEVEL": "WARNING",
        "ODONTOKEN_APP__DATA_DIR": tmp,
        "ODONTOKEN_PORTAL__ENABLED": "false",
        "ODONTOKEN_TELEGRAM__TOKEN": TOKEN,
        "ODONTOKEN_TELEGRAM__BASE_URL": f"{peer}/bot",
        "ODONTOKEN_TELEGRAM__WEBHOOK_SECRET": SECRET,
        "ODONTOKEN_TELEGRAM__MODE": "webhook",
    }


async def spied(pid: int, path: Path | None, load: Awaitable[Run]) -> Run:
    """Run `load` while py-spy samples `pid` (when a path is given)."""
    if path is None:
        return await load
    spy = await asyncio.create_subprocess_exec(
        *(str(PY_SPY), "record", "--pid", str(pid), "-d", "120", "--idle", "-f", "raw"),
        *("-o", str(path), "--nonblocking"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(1)  # py-spy attaches
    try:
        return await load
    finally:
        spy.send_signal(signal.SIGINT)
        await spy.wait()


@dataclass
class Server:
    name: str
    cmd: list[str]
    env: dict[str, str]
    ready: str  # what it prints on stdout once it listens
    port: int
    runs: list[tuple[str, Sends]]  # the closed-loop loads, in order
    spy: str = ""  # py-spy output prefix


async def exercise(args: argparse.Namespace, peer: TimedTelegramApi, server: Server) -> list[Run]:
    """Start one server, warm it up, run each closed-loop load, then the paced one; stop it."""
    load = Load(peer, f"http://127.0.0.1:{server.port}/webhooks/telegram", SECRET, args.timeout)
    paced = peer.sends(new_chats(int(args.rate * args.seconds)), "/start")
    results: list[Run] = []
    errors: list[str] = []
    async with process(server.cmd, server.env, server.ready, errors) as proc:
        load.pid = proc.pid
        await load.closed("warm-up", peer.sends(new_chats(100), "/start"), args.concurrency)
        for what, sends in server.runs:
            spy = Path(f"{server.spy}-{what.strip('/').replace(' ', '-')}.txt")
            label = f"{server.name}: {what} ×{len(sends)}"
            run = load.closed(label, sends, args.concurrency)
            results.append(await spied(proc.pid, spy if server.spy else None, run))
            print(results[-1].line(), flush=True)
            if server.spy:
                print(spy_summary(spy), flush=True)
        label = f"{server.name}: /start paced {args.rate:g}/s ×{len(paced)}"
        results.append(await load.paced(label, paced, args.rate))
        print(results[-1].line(), flush=True)
    if errors := [e for e in errors if " INFO " not in e]:
        print(f"  {server.name} stderr: {len(errors)} lines, last: {errors[-1][:300]}", flush=True)
    return results


async def main(args: argparse.Namespace) -> None:
    kinds = args.servers.split(",")
    prefix = redis_prefix()
    peer = TimedTelegramApi(TOKEN)
    results: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        prof = Path(tmp) / "server.prof"
        async with peer, postgres_database() as db_url:
            await migrate(db_url)
            await open_database(db_url)
            try:
                keyring = Keyring(TEST_PEPPER.encode())
                linked = [await seed_linked(args.chats, keyring) for _ in kinds]
            finally:
                await close_database()
            print(f"seeded {args.chats:,} linked beneficiaries for each of {kinds}", flush=True)
            servers = []
            for kind, (guias, token) in zip(kinds, linked, strict=True):
                last = kind == kinds[-1]
                profile = ["-m", "cProfile", "-o", str(prof)] if args.profile and last else []
                port = free_port()
                runs = [
                    ("/start", peer.sends(new_chats(args.chats), "/start")),
                    ("minhas guias", peer.sends(guias, "Minhas guias")),
                    ("gerar token", peer.sends(token, "Gerar token")),
                ]
                env = server_env(db_url, prefix, port, peer.base_url, tmp) | SERVE[kind]
                cmd = [sys.executable, *profile, "-m", "bot.cli", "serve"]
                spy = f"{args.spy}-{kind}" if args.spy and last else ""
                servers.append(
                    Server(f"odontoken {kind}", cmd, env, "listening on", port, runs, spy)
                )
            port = free_port()
            echo = ["-m", "bench.echo_bot", str(port), f"{peer.base_url}/bot", TOKEN, SECRET]
            runs = [("/start", peer.sends(new_chats(args.chats), "/start"))]
            env = dict(os.environ)
            servers.append(
                Server("PTB echo bot", [sys.executable, *echo], env, "listening", port, runs)
            )
            try:
                for server in servers:
                    results += await exercise(args, peer, server)
            finally:
                await redis_cleanup(prefix)
        if args.profile and prof.exists():
            print(f"\n{kinds[-1]} server profile, top 25 by own time, then ours by cumulative:")
            stats = pstats.Stats(str(prof))
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(OURS, 40)
    report(args, results)


def report(args: argparse.Namespace, results: list[Run]) -> None:
    echo = next(r.rate for r in results if r.name.startswith("PTB echo bot: /start ×"))
    print(
        f"\none worker each; closed loop: {args.concurrency} chats in flight, one message per "
        "chat; the Bot API peer and the load generator share one process; 2 shared cores"
    )
    for run in results:
        ratio = "" if "paced" in run.name or not echo else f"  /echo {run.rate / echo:.2f}"
        print(run.line() + ratio)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=600, help="messages per throughput run")
    parser.add_argument("--concurrency", type=int, default=64, help="chats in flight")
    parser.add_argument("--rate", type=float, default=100.0, help="paced messages/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="paced duration")
    parser.add_argument("--timeout", type=float, default=60.0, help="wait for one reply at most")
    parser.add_argument("--servers", default="shipped,unlimited", help="shipped, unlimited or both")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--spy", default="", help="py-spy output prefix, e.g. /tmp/spy")
    args = parser.parse_args()
    if not set(args.servers.split(",")) <= set(SERVE):
        parser.error("--servers takes shipped, unlimited or shipped,unlimited")
    asyncio.run(main(args))
