"""docs/api.md's examples run as written against `scripts/run`: the Python one registers a guide
of its own, sends the code by SMS, reads it from stdin (here: from data/outbox.txt, as a person
would) and validates it; the curl one reads a demo guide. Only the base URL and the secret are
put in, as the document tells a reader to.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator

import pytest

from tests.support import backends
from tests.support.demo_server import REPO, DemoServer, demo_server

API_MD = REPO / "docs" / "api.md"
DOC_BASE = "http://127.0.0.1:8080"
MARIA_PHONE = "(41) 9****-5949"


def code_block(heading: str, language: str) -> str:
    """The first ```language block after the heading line `heading`."""
    text = API_MD.read_text(encoding="utf-8")
    after = text.split(f"\n{heading}\n", 1)[1]
    found = re.search(rf"```{language}\n(.*?)\n```", after, re.DOTALL)
    assert found, f"no {language} block under {heading}"
    return found.group(1)


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoServer]:
    prefix = backends.redis_prefix() if backends.selected_backend() == "production" else None
    try:
        async with demo_server(tmp_path_factory.mktemp("demo"), prefix) as running:
            yield running
    finally:
        if prefix:
            await backends.redis_cleanup(prefix)


def with_server(code: str, demo: DemoServer, secret: str, placeholder: str) -> str:
    assert code.count(DOC_BASE) == 1 and code.count(placeholder) == 1
    return code.replace(DOC_BASE, demo.base_url).replace(placeholder, secret)


async def test_the_python_example_registers_its_own_guide_and_validates_it(
    demo: DemoServer,
) -> None:
    secret = demo.new_client("sio")
    script = with_server(
        code_block("### Python", "python"), demo, secret, "<secret printed by clients create>"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin and process.stdout
    before = await process.stdout.readuntil("Token lido pelo beneficiário: ".encode())
    process.stdin.write(demo.outbox_code(MARIA_PHONE).encode() + b"\n")
    await process.stdin.drain()
    rest, errors = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, errors.decode()

    lines = before.decode().splitlines()[:2] + rest.decode().splitlines()
    registered, sent, validated = (ast.literal_eval(line) for line in lines)
    assert registered[0] == 201
    numero = registered[1]["numero"]
    assert numero.startswith("GTO-EXEMPLO-") and registered[1]["dentista"]["cro"] == "PR-12345"
    assert sent == (202, sent[1]) and sent[1]["destino"] == MARIA_PHONE
    assert validated[0] == 200 and validated[1]["status"] == "VALIDADA", validated
    # The demo guides were left as they were.
    assert all("AGUARDANDO_TOKEN" in line for line in demo.banner if "GTO-2026-" in line)


async def test_the_curl_example_reads_a_demo_guide(demo: DemoServer) -> None:
    secret = demo.new_client("sio-curl")
    script = with_server(code_block("### curl + openssl", "sh"), demo, secret, "<secret>")
    script = script.replace("CLIENT=sio;", "CLIENT=sio-curl;", 1)
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", script, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, errors = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, errors.decode()
    guide = json.loads(out)
    assert guide["numero"] == "GTO-2026-000101" and guide["status"] == "AGUARDANDO_TOKEN"
