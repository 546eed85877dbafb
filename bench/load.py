"""A small closed-loop HTTP load generator: N connections, each sends its next request when
the previous answer arrives. Prints throughput and latency percentiles.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

Request = tuple[str, str, bytes, dict[str, str]]  # method, url, body, headers


@dataclass
class LoadResult:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(len(ordered) * p), len(ordered) - 1)] * 1000

    def line(self) -> str:
        codes = " ".join(f"{code}×{n}" for code, n in sorted(self.statuses.items()))
        return (
            f"{self.name:<28} {len(self.latencies):>6} req  {self.rate:>8,.0f} req/s  "
            f"p50 {self.percentile(0.50):6.2f} ms  p99 {self.percentile(0.99):6.2f} ms  "
            f"[{codes}]"
        )


async def run_load(
    name: str, requests: list[Callable[[], Request]], concurrency: int
) -> LoadResult:
    """Send every request once over `concurrency` keep-alive connections."""
    result = LoadResult(name)
    queue: asyncio.Queue[Callable[[], Request]] = asyncio.Queue()
    for make in requests:
        queue.put_nowait(make)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                method, url, body, headers = queue.get_nowait()()
                started = time.perf_counter()
                async with session.request(method, url, data=body, headers=headers) as resp:
                    await resp.read()
                    result.statuses[resp.status] += 1
                result.latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - started
    return result
