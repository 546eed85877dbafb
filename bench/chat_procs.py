"""The processes bench/chat.py measures: what one server under test is (`Server`), starting and
stopping it (`process`), and sampling it with py-spy (`spied`, `spy_summary`).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.chat_load import Replies, Run, Sends

ROOT = Path(__file__).resolve().parent.parent
PY_SPY = Path(sys.executable).parent / "py-spy"


@dataclass
class Server:
    """One server under test and what to post to it: a warm-up, closed-loop runs, a paced run."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    ready: str  # what it prints on stdout once it listens
    url: str  # its webhook
    headers: dict[str, str]  # on every webhook POST (each send adds its own)
    replies: Replies  # the peer its replies reach
    warm_up: Sends
    runs: list[tuple[str, Sends]]  # the closed-loop loads, in order
    paced: tuple[str, Sends]  # what the paced load sends (its label's first word), and all of it
    spy: str = ""  # py-spy output prefix


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
