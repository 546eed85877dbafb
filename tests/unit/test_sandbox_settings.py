"""The `[sandbox]` settings: on in development by default, off in production by default, and
production refuses it turned on; it answers only on a loopback host."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import DEFAULT_SETTINGS_FILE, ConfigError, load_settings

PRODUCTION = {
    "ODONTOKEN_APP__ENVIRONMENT": "production",
    "ODONTOKEN_DATABASE__URL": "postgres://odontoken@db:5432/odontoken",
    "ODONTOKEN_REDIS__URL": "redis://127.0.0.1:6379/0",
    "ODONTOKEN_SECURITY__PEPPER": "p" * 40,
    "ODONTOKEN_SECURITY__SECRETS_KEY": "x" * 43 + "=",
    "ODONTOKEN_SMS__BACKEND": "zenvia",
    "ODONTOKEN_SMS__API_TOKEN": "gateway-token",
    "ODONTOKEN_EMAIL__BACKEND": "smtp",
    "ODONTOKEN_PORTAL__ENABLED": "false",
    "ODONTOKEN_CONSOLE__COOKIE_SECRET": "c" * 40,
}


@pytest.fixture(autouse=True)
def _only_these_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("ODONTOKEN_"):
            monkeypatch.delenv(name)


def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(DEFAULT_SETTINGS_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def test_the_sandbox_is_on_in_development_by_default(tmp_path: Path) -> None:
    assert load_settings(settings_file(tmp_path)).sandbox_enabled


def test_development_may_turn_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODONTOKEN_SANDBOX__ENABLED", "false")
    assert not load_settings(settings_file(tmp_path)).sandbox_enabled


def test_production_leaves_it_off_and_refuses_it_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert not load_settings(settings_file(tmp_path)).sandbox_enabled
    monkeypatch.setenv("ODONTOKEN_SANDBOX__ENABLED", "true")
    with pytest.raises(ConfigError) as refused:
        load_settings(settings_file(tmp_path))
    assert "sandbox.enabled = false (the sandbox chat has no login)" in str(refused.value)


def test_it_needs_a_loopback_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODONTOKEN_SERVER__HOST", "0.0.0.0")  # noqa: S104 - the case refused
    monkeypatch.setenv("ODONTOKEN_PORTAL__ENABLED", "false")
    assert not load_settings(settings_file(tmp_path)).sandbox_enabled  # not on by default there
    monkeypatch.setenv("ODONTOKEN_SANDBOX__ENABLED", "true")
    with pytest.raises(ConfigError, match=r"sandbox\.enabled needs server\.host on loopback"):
        load_settings(settings_file(tmp_path))
