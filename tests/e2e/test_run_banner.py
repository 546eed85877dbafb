"""What a new user sees: `odontoken run` prints the README's sample exactly (paths relative to
the working folder, the in-process warning once, the demo table, the URLs), the log lines come
after it; commands that serve nothing do not warn; `demo --reset` and `clients create --papel`.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import threading
from contextlib import closing
from pathlib import Path

from tests.support.demo_server import ODONTOKEN, REPO, demo_environment

STORE_WARNING = "in-process store keeps codes"


def readme_sample() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    after = text.split("prints it all and serves until Ctrl+C:\n", 1)[1]
    found = re.search(r"```\n(.*?)\n```", after, re.DOTALL)
    assert found
    return found.group(1).splitlines()


def odontoken(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ODONTOKEN), *args],
        cwd=folder,
        env=demo_environment(folder / "data", None),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_prints_the_readme_sample_and_then_the_log_lines(tmp_path: Path) -> None:
    # stdout and stderr in one pipe, in the order written: as a terminal shows them.
    process = subprocess.Popen(
        [str(ODONTOKEN), "run"],
        cwd=tmp_path,
        env=demo_environment(tmp_path / "data", None),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    watchdog = threading.Timer(60, process.kill)  # a line that never comes fails, not hangs
    watchdog.start()
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line == "Ctrl+C stops.\n":
                break
        after = []
        for line in process.stdout:  # then the log lines held while the banner was printed
            after.append(line)
            if "audit demo.reset" in line:
                break
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        watchdog.cancel()
    assert process.returncode == 0, rest
    port = re.search(r"listening on http://127\.0\.0\.1:(\d+)$", "\n".join(lines), re.M)
    assert port, lines
    assert [line.replace(f":{port.group(1)}", ":8080") for line in lines] == readme_sample()
    logged = "".join(after) + rest
    assert STORE_WARNING not in logged and "In-process store" not in logged  # said once, above
    assert "audit guide.registered guide=GTO-2026-000101" in logged  # the log lines, after


def test_commands_that_serve_nothing_do_not_warn_about_the_store(tmp_path: Path) -> None:
    csv = tmp_path / "beneficiarios.csv"
    csv.write_text("carteirinha,cpf,nome,celular,email\n", encoding="utf-8")
    for args in (["clients", "create", "sio"], ["beneficiaries", "import", str(csv)]):
        done = odontoken(tmp_path, *args)
        assert done.returncode == 0, done.stderr
        assert "in-process" not in (done.stdout + done.stderr).lower(), args


def test_clients_get_a_role_dentista_by_default_or_app(tmp_path: Path) -> None:
    dentist = odontoken(tmp_path, "clients", "create", "sio")
    app = odontoken(tmp_path, "clients", "create", "app-backend", "--papel", "app")
    wrong = odontoken(tmp_path, "clients", "create", "outro", "--papel", "admin")
    assert dentist.stdout.splitlines()[:2] == ["client: sio", "papel: dentista"]
    assert app.stdout.splitlines()[:2] == ["client: app-backend", "papel: app"]
    assert wrong.returncode == 2 and "invalid choice: 'admin'" in wrong.stderr
    with closing(sqlite3.connect(tmp_path / "data" / "odontoken.sqlite3")) as db:
        roles = db.execute("SELECT client_id, role FROM api_client ORDER BY client_id").fetchall()
    assert roles == [("app-backend", "app"), ("sio", "dentista")]


def test_demo_reset_puts_the_demo_guides_back_awaiting_a_token(tmp_path: Path) -> None:
    assert odontoken(tmp_path, "demo").returncode == 0
    database = tmp_path / "data" / "odontoken.sqlite3"
    with closing(sqlite3.connect(database)) as db, db:
        db.execute(
            "UPDATE guide SET status = 'VALIDADA', validated_at = CURRENT_TIMESTAMP, "
            "validation_code = 'X1' WHERE numero = 'GTO-2026-000102'"
        )
    kept = odontoken(tmp_path, "demo")
    assert "GTO-2026-000102  VALIDADA" in kept.stdout
    reset = odontoken(tmp_path, "demo", "--reset")
    assert reset.returncode == 0, reset.stderr
    assert "GTO-2026-000102  AGUARDANDO_TOKEN" in reset.stdout
    assert "keeps its own codes and locks until it restarts" in reset.stdout
    with closing(sqlite3.connect(database)) as db:
        row = db.execute(
            "SELECT status, validated_at, validation_code FROM guide WHERE numero = ?",
            ("GTO-2026-000102",),
        ).fetchone()
    assert row == ("AGUARDANDO_TOKEN", None, None)
