"""Helpers for bench/chat.py: the reply clock a peer keeps, the Bot API peer with it, the two
load shapes (closed loop and paced open loop) and seeding linked Telegram chats.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import aiohttp

from bench.seeding import beneficiaries_with_guides
from handlers.chat import texts
from tests.peers.telegram_api import TelegramApi
from tests.peers.telegram_rules import Params
from token_core.keyring import Keyring
from token_core.persistence.models import ChatLink
from token_core.vocabulary import Channel

Key = int | str  # whom a reply goes to at the peer: a Telegram chat id, a WhatsApp wa_id
_chat_ids = itertools.count(random.randrange(10**9, 2 * 10**9))
_NONE: dict[str, str] = {}


class Send(NamedTuple):
    """One webhook POST and the reply it awaits."""

    key: Key  # whom the reply goes to
    body: bytes
    headers: dict[str, str]  # this POST's own, beside the load's
    messages: int = 1  # the reply is complete with this many messages


Sends = list[Send]


class Replies:
    """Kept by a peer: `expect(key)` gives a future of when the reply to that chat arrived
    (perf_counter, this process) and its last message's text; a reply of `messages` messages
    has arrived with the last of them, or at once when one of them is the dialogue's error."""

    def __init__(self) -> None:
        self._waiting: dict[Key, tuple[asyncio.Future[tuple[float, str]], list[int]]] = {}

    def expect(self, key: Key, messages: int = 1) -> asyncio.Future[tuple[float, str]]:
        reply = asyncio.get_running_loop().create_future()
        self._waiting[key] = (reply, [messages])
        return reply

    def forget(self, key: Key) -> None:
        self._waiting.pop(key, None)

    def arrived(self, key: Key, text: str) -> None:
        """The peer took a message to `key` reading `text`."""
        waiting = self._waiting.get(key)
        if waiting is None:
            return
        reply, left = waiting
        left[0] -= 1
        if left[0] <= 0 or text == texts.ERROR:
            del self._waiting[key]
            if not reply.done():
                reply.set_result((time.perf_counter(), text))


class TimedTelegramApi(TelegramApi):
    """The Bot API peer; `replies` times every sendMessage."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.replies = Replies()

    async def _sendMessage(self, p: Params) -> Params:
        message = await super()._sendMessage(p)
        self.replies.arrived(message["chat"]["id"], message["text"])
        return message

    def sends(self, chats: list[int], text: str) -> Sends:
        return [Send(c, json.dumps(self.text_update(c, c, text)).encode(), _NONE) for c in chats]


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

    def __init__(self, peer: Replies, url: str, headers: dict[str, str], timeout: float) -> None:
        self.peer, self.url, self.timeout = peer, url, timeout
        self.headers = {"Content-Type": "application/json", **headers}
        self.pid = 0  # the server's, for its CPU time

    async def closed(self, name: str, sends: Sends, concurrency: int) -> Run:
        """`concurrency` chats in flight: each sends when the previous one got its reply."""
        left = iter(sends)

        async def worker(session: aiohttp.ClientSession, run: Run) -> None:
            for send in left:
                await self._exchange(session, run, send, time.perf_counter())

        return await self._measured(name, lambda s, r: [worker(s, r) for _ in range(concurrency)])

    async def paced(self, name: str, sends: Sends, rate: float) -> Run:
        """Open loop: message i is due at start + i/rate, whatever the replies; latency counts
        from when it was due, so a late load generator cannot hide a slow server."""
        start = time.perf_counter() + 0.1

        async def one(session: aiohttp.ClientSession, run: Run, i: int, send: Send) -> None:
            await asyncio.sleep(start + i / rate - time.perf_counter())
            await self._exchange(session, run, send, start + i / rate)

        return await self._measured(
            name, lambda s, r: [one(s, r, i, send) for i, send in enumerate(sends)]
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
        self, session: aiohttp.ClientSession, run: Run, send: Send, due: float
    ) -> None:
        reply = self.peer.expect(send.key, send.messages)
        run.first = min(run.first, due)
        headers = self.headers | send.headers if send.headers else self.headers
        async with session.post(self.url, data=send.body, headers=headers) as resp:
            await resp.read()
            status = resp.status
        try:
            if status != 200:
                raise LookupError(f"HTTP {status}")
            arrived, text = await asyncio.wait_for(reply, self.timeout)
            if text == texts.ERROR:
                raise LookupError("error reply")
        except (TimeoutError, LookupError) as exc:
            self.peer.forget(send.key)
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
