"""A three-node Redis Cluster on loopback, started by the tests (redis-server
--cluster-enabled yes on three free ports + redis-cli --cluster create), for the store contract
and the two-process race. Never the shared Redis.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from redis.asyncio import Redis

from tests.peers.base import free_port


@asynccontextmanager
async def redis_cluster(nodes: int = 3) -> AsyncIterator[str]:
    """Yield a `redis+cluster://` URL of a fresh cluster; every node is stopped at the end."""
    folder = Path(tempfile.mkdtemp(prefix="odontoken-cluster-"))
    ports = [free_port() for _ in range(nodes)]
    procs = []
    try:
        for port in ports:
            node_dir = folder / str(port)
            node_dir.mkdir()
            procs.append(
                subprocess.Popen(  # noqa: ASYNC220 - returns at once; the node runs on
                    [
                        "redis-server",
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        "2000",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(node_dir),
                        "--logfile",
                        str(node_dir / "redis.log"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in ports:
            await _until_up(port)
        create = await asyncio.create_subprocess_exec(
            "redis-cli",
            "--cluster",
            "create",
            *(f"127.0.0.1:{p}" for p in ports),
            "--cluster-replicas",
            "0",
            "--cluster-yes",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await create.communicate()
        assert create.returncode == 0, err.decode()
        await _until_ok(ports[0])
        yield f"redis+cluster://127.0.0.1:{ports[0]}/0"
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


async def _until_up(port: int) -> None:
    client = Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(200):
            try:
                if await client.ping():
                    return
            except OSError:
                await asyncio.sleep(0.05)
            except Exception:
                await asyncio.sleep(0.05)
    finally:
        await client.aclose()
    raise RuntimeError(f"cluster node on {port} did not start")


async def _until_ok(port: int) -> None:
    client = Redis(host="127.0.0.1", port=port, decode_responses=True)
    try:
        for _ in range(200):
            info = await client.execute_command("CLUSTER INFO")  # type: ignore[no-untyped-call]
            state = info.get("cluster_state") if isinstance(info, dict) else str(info)
            if state == "ok" or "cluster_state:ok" in str(state):
                return
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()
    raise RuntimeError("the cluster did not become ready")
