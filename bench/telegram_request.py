"""Benchmark: sendMessage calls/s through python-telegram-bot's default HTTPXRequest and through
our AiohttpRequest, against the Bot API peer running in its own process.

    .venv/bin/python -m bench.telegram_request [--requests 2000] [--concurrency 32] [--rounds 3]

Each round runs both clients in turn (order alternating) after a warm-up; the best round of each
is reported, with the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable

import aiohttp
from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

from integrations.telegram.request import AiohttpRequest
from tests.peers.telegram_api import TelegramApi

TOKEN = "123456:bench-token"
CHAT = 5541988575


async def serve_peer() -> None:
    """Child process: run the peer, print its base URL, stop when stdin closes."""
    async with TelegramApi(TOKEN) as peer:
        peer.text_update(CHAT, CHAT, "/start")
        print(peer.base_url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def send_all(bot: Bot, requests: int, concurrency: int) -> float:
    """Send `requests` messages over `concurrency` workers; the calls per second."""
    left = iter(range(requests))

    async def worker() -> None:
        for i in left:
            await bot.send_message(CHAT, f"mensagem {i}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


async def measure(
    base_url: str, make: Callable[[], BaseRequest], requests: int, concurrency: int
) -> float:
    async with Bot(TOKEN, base_url=f"{base_url}/bot", request=make()) as bot:
        await send_all(bot, min(200, requests), concurrency)  # warm-up: connections, caches
        return await send_all(bot, requests, concurrency)


async def main(requests: int, concurrency: int, rounds: int) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.telegram_request",
        "--serve-peer",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdin is not None
    base_url = (await child.stdout.readline()).decode().strip()
    connector = aiohttp.TCPConnector(limit=concurrency)
    best = {"httpx": 0.0, "aiohttp": 0.0}
    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            clients: dict[str, Callable[[], BaseRequest]] = {
                "httpx": lambda: HTTPXRequest(connection_pool_size=concurrency),
                "aiohttp": lambda: AiohttpRequest(session),
            }
            for round_ in range(rounds):
                order = list(clients) if round_ % 2 == 0 else list(clients)[::-1]
                for name in order:
                    rate = await measure(base_url, clients[name], requests, concurrency)
                    best[name] = max(best[name], rate)
                    print(f"round {round_ + 1}  {name:<8} {rate:8,.0f} calls/s", flush=True)
    finally:
        child.stdin.close()
        await child.wait()
    print(f"\nsendMessage ×{requests}, concurrency {concurrency}, best of {rounds}:")
    print(f"  HTTPXRequest (pool {concurrency})  {best['httpx']:8,.0f} calls/s")
    print(f"  AiohttpRequest           {best['aiohttp']:8,.0f} calls/s")
    print(f"  ratio aiohttp / httpx    {best['aiohttp'] / best['httpx']:8.2f}×")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve-peer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_peer:
        asyncio.run(serve_peer())
    else:
        asyncio.run(main(args.requests, args.concurrency, args.rounds))
