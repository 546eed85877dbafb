"""A three-node Redis Cluster on loopback, started by the tests (redis-server
--cluster-enabled yes on three free ports + redis-cli --cluster create), for the store contract
and the two-process race. Never the shared Redis.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from redis.asyncio import Redis


@asynccontextmanager
async def redis_cluster(nodes: int = 3) -> AsyncIterator[str]:
    """Yield a `redis+cluster://` URL of a fresh cluster (ready within 60 s or an error, never a
    hang); every node is stopped and reaped at the end.
    """
    folder = Path(tempfile.mkdtemp(prefix="odontoken-cluster-"))
    ports = _distinct_ports(nodes)
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
        for port, proc in zip(ports, procs, strict=True):
            await _until_up(port)
            if proc.poll() is not None:
                raise RuntimeError(f"cluster node on {port} exited (port taken?)")
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
        try:  # redis-cli waits for the nodes to join: bound it, never hang the run
            _out, err = await asyncio.wait_for(create.communicate(), 30)
        except TimeoutError:
            create.kill()
            await create.wait()
            raise RuntimeError("redis-cli --cluster create did not finish in 30 s") from None
        assert create.returncode == 0, err.decode()
        await _until_ok(ports[0])
        yield f"redis+cluster://127.0.0.1:{ports[0]}/0"
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait(timeout=10)  # reaped: no zombie left behind
        shutil.rmtree(folder, ignore_errors=True)


def _distinct_ports(count: int) -> list[int]:
    """Free ports, all different, each with its cluster bus port (port + 10000) free too: held
    open together, so the OS cannot hand one out twice. Below 55536, so the bus port exists.
    """
    rng = random.SystemRandom()
    while True:
        sockets: list[socket.socket] = []
        try:
            for _ in range(count):
                for _try in range(200):
                    port = rng.randrange(20000, 45000)
                    pair = [socket.socket(), socket.socket()]
                    try:
                        pair[0].bind(("127.0.0.1", port))
                        pair[1].bind(("127.0.0.1", port + 10000))
                    except OSError:
                        for sock in pair:
                            sock.close()
                        continue
                    sockets.extend(pair)
                    break
            ports = [sock.getsockname()[1] for sock in sockets[::2]]
            if len(set(ports)) == count:
                return ports
        finally:
            for sock in sockets:
                sock.close()


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
