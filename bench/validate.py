"""Benchmark: validations/s and p50/p99 of POST /api/v1/guias/{numero}/validacao on one worker
against PostgreSQL + Redis, beside a bare aiohttp JSON handler under the same load.

Each request validates a real, fresh code (one guide per request), so every answer is a 200
that spent a code, updated the guide and wrote the audit and the outbox event.

    .venv/bin/python -m bench.validate [--requests 4000] [--concurrency 32] [--profile]

--profile runs the server under cProfile and prints where its time went.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bench.load import Request, run_load
from bench.seeding import beneficiaries_with_guides
from tests.peers.base import free_port
from tests.support.backends import (
    REDIS_URL,
    TEST_PEPPER,
    postgres_database,
    redis_cleanup,
    redis_prefix,
)
from token_core.access.clients import ClientRegistry, SecretBox, new_key
from token_core.access.signing import signed_headers
from token_core.codes.issuance import TokenIssuer
from token_core.codes.policy import TokenPolicy
from token_core.guides.service import GuideService
from token_core.keyring import Keyring
from token_core.persistence.database import close_database, migrate, open_database
from token_core.storage.redis_store import RedisStore
from token_core.vocabulary import Channel

ROOT = Path(__file__).resolve().parent.parent
POOL = os.environ.get("BENCH_POOL", "")


async def seed(count: int, store: RedisStore, keyring: Keyring) -> list[tuple[str, str]]:
    """`count` beneficiaries with one guide each and a live code per guide."""
    numeros = [n for _, n in await beneficiaries_with_guides(count, keyring)]
    issuer = TokenIssuer(store, keyring, TokenPolicy(), GuideService(store))
    codes: list[tuple[str, str]] = []
    for start in range(0, count, 200):
        batch = numeros[start : start + 200]
        issued = await asyncio.gather(*(issuer.for_guide(n, Channel.SMS, "bench") for n in batch))
        codes += [(n, i.code.reveal()) for n, i in zip(batch, issued, strict=True)]
    return codes


@asynccontextmanager
async def process(args: list[str], env: dict[str, str], ready: str) -> AsyncIterator[None]:
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert proc.stdout is not None
    async with asyncio.timeout(30):
        while ready not in (await proc.stdout.readline()).decode():
            pass
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        await proc.wait()


def validation_requests(
    base: str, codes: list[tuple[str, str]], client: str, secret: str
) -> list[Callable[[], Request]]:
    def make(numero: str, code: str) -> Callable[[], Request]:
        def build() -> Request:
            path = f"/api/v1/guias/{numero}/validacao"
            body = json.dumps({"token": code}).encode()
            headers = signed_headers(client, secret, str(int(time.time())), "POST", path, body)
            return "POST", base + path, body, {**headers, "Content-Type": "application/json"}

        return build

    return [make(n, c) for n, c in codes]


async def main(count: int, concurrency: int, profile: bool) -> None:
    keyring = Keyring(TEST_PEPPER.encode())
    secrets_key = new_key()
    prefix = redis_prefix()
    with tempfile.TemporaryDirectory() as tmp:
        async with postgres_database() as db_url:
            await migrate(db_url)
            await open_database(db_url)
            store = RedisStore.from_url(REDIS_URL, prefix)
            try:
                started = time.perf_counter()
                codes = await seed(count, store, keyring)
                secret = await ClientRegistry(SecretBox([secrets_key.encode()])).create("bench")
                print(
                    f"seeded {count:,} guides with live codes in "
                    f"{time.perf_counter() - started:.1f} s"
                )
            finally:
                await store.close()
                await close_database()
            port = free_port()
            env = {
                **os.environ,
                "ODONTOKEN_DATABASE__URL": db_url + POOL,
                "ODONTOKEN_REDIS__URL": REDIS_URL,
                "ODONTOKEN_REDIS__PREFIX": prefix,
                "ODONTOKEN_SECURITY__PEPPER": TEST_PEPPER,
                "ODONTOKEN_SECURITY__SECRETS_KEY": secrets_key,
                "ODONTOKEN_SERVER__PORT": str(port),
                "ODONTOKEN_APP__LOG_LEVEL": "WARNING",
                "ODONTOKEN_PORTAL__ENABLED": "false",
                "ODONTOKEN_APP__DATA_DIR": tmp,
            }
            prof = Path(tmp) / "server.prof"
            serve = [sys.executable, "-m", "bot.cli", "serve"]
            if profile:
                serve = [
                    sys.executable,
                    "-m",
                    "cProfile",
                    "-o",
                    str(prof),
                    "-m",
                    "bot.cli",
                    "serve",
                ]
            try:
                async with process(serve, env, "listening on"):
                    real = await run_load(
                        "odontoken validation",
                        validation_requests(f"http://127.0.0.1:{port}", codes, "bench", secret),
                        concurrency,
                    )
                bare_port = free_port()
                async with process(
                    [sys.executable, "-m", "bench.bare_server", str(bare_port)], env, "listening"
                ):
                    bare = await run_load(
                        "bare aiohttp JSON handler",
                        validation_requests(
                            f"http://127.0.0.1:{bare_port}", codes, "bench", secret
                        ),
                        concurrency,
                    )
            finally:
                await redis_cleanup(prefix)
            print(
                f"\n{concurrency} concurrent connections, one server process, 2 cores shared "
                "with the load generator"
            )
            print(real.line())
            print(bare.line())
            print(f"odontoken / bare throughput: {real.rate / bare.rate:.2f}")
            if profile and prof.exists():
                print("\nserver profile (top 25 by own time):")
                stats = pstats.Stats(str(prof))
                stats.sort_stats("tottime").print_stats(25)
                stats.sort_stats("cumulative").print_stats(
                    "odontoken|token_core|handlers|tortoise/(queryset|models|transactions|backends)",
                    40,
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.profile))
