"""The `[whatsapp]` settings: secrets never in the file, and production refuses a channel that is
on (an access token is set) without what it needs to be safe.
"""

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


def test_a_whatsapp_secret_written_in_the_settings_file_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_SETTINGS_FILE.read_text(encoding="utf-8")
    path = tmp_path / "settings.toml"
    path.write_text(text.replace('app_secret = ""', 'app_secret = "oops"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="ODONTOKEN_WHATSAPP__APP_SECRET"):
        load_settings(path)


def test_production_with_whatsapp_on_needs_its_secrets_number_and_template(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert load_settings().whatsapp.access_token == ""  # off: nothing more is asked
    monkeypatch.setenv("ODONTOKEN_WHATSAPP__ACCESS_TOKEN", "EAAG-token")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    for missing in ("app_secret", "verify_token", "phone_number_id", "otp_template"):
        assert f"whatsapp.{missing}" in str(refused.value)
    monkeypatch.setenv("ODONTOKEN_WHATSAPP__APP_SECRET", "a" * 32)
    monkeypatch.setenv("ODONTOKEN_WHATSAPP__VERIFY_TOKEN", "verify-me")
    monkeypatch.setenv("ODONTOKEN_WHATSAPP__PHONE_NUMBER_ID", "106540352242922")
    monkeypatch.setenv("ODONTOKEN_WHATSAPP__OTP_TEMPLATE", "codigo_odontoken")
    settings = load_settings()
    assert settings.whatsapp.otp_template_language == "pt_BR"
    assert "EAAG-token" not in repr(settings) and "verify-me" not in repr(settings)
