"""Helpers for bench/chat.py: the Bot API peer with arrival times, the two load shapes (closed
loop and paced open loop), seeding linked chats, subprocesses and a py-spy summary.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import random
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.seeding import beneficiaries_with_guides
from handlers.chat import texts
from tests.peers.telegram_api import TelegramApi
from tests.peers.telegram_rules import Params
from token_core.keyring import Keyring
from token_core.persistence.models import ChatLink
from token_core.vocabulary import Channel

ROOT = Path(__file__).resolve().parent.parent
Sends = list[tuple[int, bytes]]  # (chat id, update JSON)
_chat_ids = itertools.count(random.randrange(10**9, 2 * 10**9))


class TimedTelegramApi(TelegramApi):
    """The Bot API peer; `expect(chat_id)` gives a future of when the next reply to that chat
    arrived (perf_counter, this process) and its text."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self._waiting: dict[int, asyncio.Future[tuple[float, str]]] = {}

    def expect(self, chat_id: int) -> asyncio.Future[tuple[float, str]]:
        reply = asyncio.get_running_loop().create_future()
        self._waiting[chat_id] = reply
        return reply

    def forget(self, chat_id: int) -> None:
        self._waiting.pop(chat_id, None)

    async def _sendMessage(self, p: Params) -> Params:
        message = await super()._sendMessage(p)
        reply = self._waiting.pop(message["chat"]["id"], None)
        if reply is not None and not reply.done():
            reply.set_result((time.perf_counter(), message["text"]))
        return message

    def sends(self, chats: list[int], text: str) -> Sends:
        return [(c, json.dumps(self.text_update(c, c, text)).encode()) for c in chats]


def new_chats(count: int) -> list[int]:
    return list(itertools.islice(_chat_ids, count))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    name: str
    latencies: list[float] = field(default_factory=list)
    first: float = math.inf
    last: float = 0.0
    failed: Counter[str] = field(default_factory=Counter)
    server_cpu: float = 0.0  # seconds, the server process, over the run
    bench_cpu: float = 0.0  # seconds, this process (load generator + peer)

    @property
    def rate(self) -> float:
        span = self.last - self.first
        return len(self.latencies) / span if self.latencies and span > 0 else 0.0

    def ms(self, p: float) -> float:
        ordered = sorted(self.latencies) or [math.nan]
        return ordered[min(int(len(ordered) * p), len(ordered) - 1)] * 1000

    def line(self) -> str:
        lost = " ".join(f"{why}×{n}" for why, n in sorted(self.failed.items()))
        per = 1000 / max(len(self.latencies), 1)
        return (
            f"{self.name:<44} {len(self.latencies):>5} replies {self.rate:>6,.0f}/s  "
            f"p50 {self.ms(0.5):>7,.1f} ms  p99 {self.ms(0.99):>7,.1f} ms  CPU/msg server "
            f"{self.server_cpu * per:4.2f} ms, bench {self.bench_cpu * per:4.2f} ms  {lost}"
        )


class Load:
    """Posts updates to one server's webhook and waits for each reply at the peer."""

    def __init__(self, peer: TimedTelegramApi, url: str, secret: str, timeout: float) -> None:
        self.peer, self.url, self.timeout = peer, url, timeout
        self.headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        self.headers["Content-Type"] = "application/json"
        self.pid = 0  # the server's, for its CPU time

    async def closed(self, name: str, sends: Sends, concurrency: int) -> Run:
        """`concurrency` chats in flight: each sends when the previous one got its reply."""
        left = iter(sends)

        async def worker(session: aiohttp.ClientSession, run: Run) -> None:
            for chat_id, body in left:
                await self._exchange(session, run, chat_id, body, time.perf_counter())

        return await self._measured(name, lambda s, r: [worker(s, r) for _ in range(concurrency)])

    async def paced(self, name: str, sends: Sends, rate: float) -> Run:
        """Open loop: message i is due at start + i/rate, whatever the replies; latency counts
        from when it was due, so a late load generator cannot hide a slow server."""
        start = time.perf_counter() + 0.1

        async def one(
            session: aiohttp.ClientSession, run: Run, i: int, chat: int, body: bytes
        ) -> None:
            await asyncio.sleep(start + i / rate - time.perf_counter())
            await self._exchange(session, run, chat, body, start + i / rate)

        return await self._measured(
            name, lambda s, r: [one(s, r, i, *cb) for i, cb in enumerate(sends)]
        )

    async def _measured(
        self, name: str, tasks: Callable[[aiohttp.ClientSession, Run], list[Awaitable[None]]]
    ) -> Run:
        run = Run(name)
        server, bench = cpu_seconds(self.pid), time.process_time()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await asyncio.gather(*tasks(session, run))
        run.server_cpu = cpu_seconds(self.pid) - server
        run.bench_cpu = time.process_time() - bench
        return run

    async def _exchange(
        self, session: aiohttp.ClientSession, run: Run, chat_id: int, body: bytes, due: float
    ) -> None:
        reply = self.peer.expect(chat_id)
        run.first = min(run.first, due)
        async with session.post(self.url, data=body, headers=self.headers) as resp:
            await resp.read()
            status = resp.status
        try:
            if status != 200:
                raise LookupError(f"HTTP {status}")
            arrived, text = await asyncio.wait_for(reply, self.timeout)
            if text == texts.ERROR:
                raise LookupError("error reply")
        except (TimeoutError, LookupError) as exc:
            self.peer.forget(chat_id)
            run.failed[str(exc) or f"no reply in {self.timeout:.0f} s"] += 1
            return
        run.latencies.append(arrived - due)
        run.last = max(run.last, arrived)


async def seed_linked(count: int, keyring: Keyring) -> tuple[list[int], list[int]]:
    """`count` beneficiaries with one guide awaiting a token, each linked to two chats: the first
    list asks "minhas guias", the second "gerar token"."""
    ids = [b for b, _ in await beneficiaries_with_guides(count, keyring)]
    guias, token = new_chats(count), new_chats(count)
    links = [
        ChatLink(channel=Channel.TELEGRAM, chat_id=str(chat), beneficiary_id=b)
        for chats in (guias, token)
        for chat, b in zip(chats, ids, strict=True)
    ]
    await ChatLink.bulk_create(links, batch_size=1000)
    return guias, token


@asynccontextmanager
async def process(
    args: list[str], env: dict[str, str], ready: str, log: list[str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start `args`, wait for `ready` on its stdout, gather its stderr lines into `log`."""
    pipe = asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(*args, cwd=ROOT, env=env, stdout=pipe, stderr=pipe)
    assert proc.stdout is not None and proc.stderr is not None
    errors = proc.stderr

    async def gather_stderr() -> None:
        while line := await errors.readline():
            log.append(line.decode(errors="replace").rstrip())

    gathering = asyncio.create_task(gather_stderr())
    try:
        async with asyncio.timeout(30):
            while ready not in (await proc.stdout.readline()).decode():
                if proc.returncode is not None or proc.stdout.at_eof():
                    raise RuntimeError(f"{args} exited before it was ready")
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            await proc.wait()
            await gathering


LAYERS = {
    "asyncpg": ("asyncpg/",),
    "tortoise": ("tortoise/", "pypika"),
    "redis-py": ("redis/",),
    "python-telegram-bot": ("telegram/",),
    "aiolimiter": ("aiolimiter/",),
    "aiohttp (server + client)": ("aiohttp/", "yarl/", "multidict/"),
    "odontoken code": ("token_core/", "handlers/", "integrations/", "bot/"),
}


def spy_summary(path: Path, top: int = 12) -> str:
    """py-spy raw (collapsed) stacks: idle share, then samples by the innermost known layer."""
    if not path.exists():
        return f"py-spy wrote no {path}"
    layers: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames, n = stack.split(";"), int(count)
        leaf = frames[-1] or "(native)"
        if leaf.startswith(("select (", "poll (", "epoll")) or "(selectors.py" in leaf:
            layers["idle (event loop waiting)"] += n
            continue
        leaves[leaf] += n
        hit = next(
            (k for f in reversed(frames) for k, v in LAYERS.items() if any(s in f for s in v)), None
        )
        layers[hit or "asyncio / stdlib only"] += n
    total = sum(layers.values()) or 1
    out = [f"{total} samples"] + [f"  {n / total:6.1%}  {k}" for k, n in layers.most_common()]
    out += ["hottest leaf frames:"] + [
        f"  {n / total:6.1%}  {f}" for f, n in leaves.most_common(top)
    ]
    return "\n".join(out)
