"""The installed `odontoken` command, run as a subprocess on a fresh SQLite file per test."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from tests.support import refs
from token_core.demo import DEMO_GUIDES, DEMO_REGISTRY
from token_core.registry.identity import Cpf
from token_core.registry.importer import HEADER, RegistryRow, parse_registry

ODONTOKEN = shutil.which("odontoken", path=str(Path(sys.executable).parent))


def odontoken(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the command with settings from the repo file, state under `data_dir`."""
    assert ODONTOKEN is not None, "the odontoken script is not installed in this venv"
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("ODONTOKEN_")}
    environ.update(ODONTOKEN_APP__DATA_DIR=str(data_dir), **env)
    return subprocess.run(
        [ODONTOKEN, *args],
        cwd=data_dir,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def section(stdout: str, title: str) -> list[str]:
    """The indented lines printed under `title`."""
    lines = stdout.splitlines()
    start = lines.index(title) + 1
    block = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        block.append(line.strip())
    return block


def demo_rows() -> list[RegistryRow]:
    rows = [r for r in parse_registry(DEMO_REGISTRY.splitlines()) if isinstance(r, RegistryRow)]
    assert len(rows) == 4
    return rows


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = odontoken(tmp_path, "--help")
    assert result.returncode == 0
    listed = result.stdout.split("positional arguments:")[1]
    for command in ["run", "serve", "migrate", "demo", "beneficiaries", "clients"]:
        assert f"\n    {command} " in listed or f"\n    {command}\n" in listed, command


def test_demo_shows_the_data_masked_and_gives_the_same_guides_twice(tmp_path: Path) -> None:
    first = odontoken(tmp_path, "demo")
    second = odontoken(tmp_path, "demo")

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    people = section(first.stdout, "Demo beneficiaries:")
    guides = section(first.stdout, "Demo guides:")
    assert [line.split()[0] for line in people] == [r.carteirinha for r in demo_rows()]
    assert [line.split()[0] for line in guides] == [g.numero for g in DEMO_GUIDES]
    assert section(second.stdout, "Demo guides:") == guides
    with closing(sqlite3.connect(tmp_path / "odontoken.sqlite3")) as db:
        assert db.execute("SELECT count(*) FROM guide").fetchone() == (len(DEMO_GUIDES),)
        assert db.execute("SELECT count(*) FROM beneficiary").fetchone() == (4,)

    raw = [line.split(",") for line in DEMO_REGISTRY.splitlines()[1:]]
    printed = first.stdout + first.stderr + second.stdout + second.stderr
    for row, (_, raw_cpf, _, raw_phone, _) in zip(demo_rows(), raw, strict=True):
        person = next(line for line in people if line.startswith(row.carteirinha))
        assert f"CPF {row.cpf.masked}" in person
        assert row.cpf.digits not in printed and raw_cpf not in printed
        if row.mobile is None:
            assert person.endswith("celular -")
            continue
        assert person.endswith(f"celular {row.mobile.masked}")
        for full in [raw_phone, row.mobile.e164, row.mobile.e164[3:], row.mobile.local]:
            assert full not in printed, full


def test_a_registry_import_reports_the_bad_line_and_is_unchanged_the_second_time(
    tmp_path: Path,
) -> None:
    good = [refs.carteirinha(), refs.carteirinha()]
    csv_file = tmp_path / "beneficiarios.csv"
    csv_file.write_text(
        f"{','.join(HEADER)}\n"
        f"{good[0]},{Cpf.parse(refs.cpf()).formatted},Ana Teste,{refs.mobile()},\n"
        f"{refs.carteirinha()},52998224724,Bruno Teste,{refs.mobile()},\n"
        f"{good[1]},{refs.cpf()},Carla Teste,,carla@example.com.br\n",
        encoding="utf-8",
    )

    first = odontoken(tmp_path, "beneficiaries", "import", str(csv_file))
    second = odontoken(tmp_path, "beneficiaries", "import", str(csv_file))

    assert first.returncode == 1, first.stderr
    assert first.stdout.splitlines() == [
        "line 3: cpf: CPF inválido: os dígitos verificadores não conferem.",
        "rows read: 3; inserted: 2; updated: 0; unchanged: 0; rejected: 1; chat links revoked: 0",
    ]
    assert second.returncode == 1, second.stderr
    assert second.stdout.splitlines()[-1] == (
        "rows read: 3; inserted: 0; updated: 0; unchanged: 2; rejected: 1; chat links revoked: 0"
    )
    with closing(sqlite3.connect(tmp_path / "odontoken.sqlite3")) as db:
        stored = db.execute("SELECT carteirinha FROM beneficiary ORDER BY carteirinha").fetchall()
    assert stored == [(c,) for c in sorted(good)]


def test_a_missing_registry_file_is_a_usage_error_that_touches_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nao-existe.csv"
    result = odontoken(tmp_path, "beneficiaries", "import", str(missing))
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"cannot read {missing}: No such file or directory" in result.stderr
    assert not (tmp_path / "odontoken.sqlite3").exists()


def test_production_mode_without_its_services_refuses_to_start_and_says_what_is_missing(
    tmp_path: Path,
) -> None:
    result = odontoken(tmp_path, "run", ODONTOKEN_APP__ENVIRONMENT="production")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("odontoken: configuration error: production mode needs:")
    for missing in ["database.url", "redis.url", "security.pepper"]:
        assert missing in result.stderr, missing
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl+C", "SIGTERM"])
def test_run_sets_up_and_serves_until_stopped(tmp_path: Path, stop: signal.Signals) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("ODONTOKEN_")}
    environ.update(ODONTOKEN_APP__DATA_DIR=str(tmp_path), ODONTOKEN_SERVER__PORT="0")
    assert ODONTOKEN is not None
    proc = subprocess.Popen(
        [ODONTOKEN, "run"],
        cwd=tmp_path,
        env=environ,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("listening on"):
                break
        base = lines[-1].split()[2]
        assert "Demo guides:\n" in lines
        assert " on sqlite://odontoken.sqlite3, " in lines[0]  # relative to the working folder
        with urllib.request.urlopen(f"{base}/api/openapi.json", timeout=10) as resp:
            assert json.load(resp)["openapi"].startswith("3.1")
        with urllib.request.urlopen(f"{base}/portal", timeout=10) as resp:
            assert "Validar guia" in resp.read().decode()
    finally:
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
