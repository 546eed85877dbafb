"""Loading settings.toml with ODONTOKEN_* overrides, and the pepper: checked at start-up."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.secret_values import MIN_PEPPER_LENGTH, resolve_pepper
from bot.settings import (
    DEFAULT_SETTINGS_FILE,
    SETTINGS_FILE_ENV,
    ConfigError,
    Settings,
    load_settings,
)

PEPPER = "p" * MIN_PEPPER_LENGTH


@pytest.fixture(autouse=True)
def _no_outer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets itself reaches load_settings."""
    for name in list(os.environ):
        if name.upper().startswith("ODONTOKEN_"):
            monkeypatch.delenv(name)


def settings_file(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """A copy of the repo's settings.toml with each `old` text replaced by `new`."""
    text = DEFAULT_SETTINGS_FILE.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} is not in settings.toml exactly once"
        text = text.replace(old, new)
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_settings_file_holds_the_same_defaults_as_the_code(tmp_path: Path) -> None:
    loaded = load_settings(settings_file(tmp_path))
    defaults = {name: field.default.model_dump() for name, field in Settings.model_fields.items()}
    # A relative data_dir is read against the settings file's folder.
    defaults["app"]["data_dir"] = tmp_path / defaults["app"]["data_dir"]
    assert loaded.model_dump() == defaults


def test_values_come_from_the_settings_file(tmp_path: Path) -> None:
    state = tmp_path / "state"
    path = settings_file(
        tmp_path,
        ("digits = 6", "digits = 7"),
        ("guide_max_failures = 5", "guide_max_failures = 3"),
        ('data_dir = "data"', f'data_dir = "{state}"'),
    )
    settings = load_settings(path)
    assert settings.tokens.digits == 7
    assert settings.limits.guide_max_failures == 3
    assert settings.app.data_dir == state
    assert settings.database_url == f"sqlite://{state / 'odontoken.sqlite3'}"
    assert settings.server.port == 8080 and not settings.production


def test_the_file_named_by_the_environment_is_read_when_no_path_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        SETTINGS_FILE_ENV, str(settings_file(tmp_path, ("port = 8080", "port = 9191")))
    )
    assert load_settings().server.port == 9191


def test_a_missing_settings_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="settings file not found"):
        load_settings(tmp_path / "nope.toml")


def test_environment_variables_override_single_keys_whatever_their_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = settings_file(tmp_path, ("guide_lock_seconds = 900", "guide_lock_seconds = 1234"))
    monkeypatch.setenv("ODONTOKEN_DATABASE__URL", "postgres://db.example:5432/odontoken")
    monkeypatch.setenv("odontoken_limits__guide_max_failures", "3")
    monkeypatch.setenv("Odontoken_Tokens__Digits", "8")

    settings = load_settings(path)

    assert settings.database_url == "postgres://db.example:5432/odontoken"
    assert settings.limits.guide_max_failures == 3
    assert settings.limits.guide_lock_seconds == 1234
    assert settings.tokens.digits == 8
    assert settings.tokens.ttl_seconds == 600


def test_a_pepper_written_in_the_settings_file_is_refused(tmp_path: Path) -> None:
    path = settings_file(tmp_path, ('pepper = ""', f'pepper = "{PEPPER}"'))
    with pytest.raises(ConfigError, match="must not be written in the settings file") as refused:
        load_settings(path)
    assert PEPPER not in str(refused.value)


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("digits = 6", "digits = 5", "tokens.digits"),
        ("digits = 6", "digits = 9", "tokens.digits"),
        ("port = 8080", "port = 70000", "server.port"),
        ('environment = "development"', 'environment = "staging"', "app.environment"),
        ("guide_max_failures = 5", "guide_max_failures = 0", "limits.guide_max_failures"),
        ("ttl_seconds = 600", 'ttl_seconds = "ten minutes"', "tokens.ttl_seconds"),
        ("[limits]", "[limits]\nguide_max_failure = 3", "limits.guide_max_failure"),
    ],
)
def test_an_invalid_value_in_the_file_is_a_config_error_naming_the_key(
    tmp_path: Path, old: str, new: str, named: str
) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_settings(settings_file(tmp_path, (old, new)))


def test_an_invalid_value_in_the_environment_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODONTOKEN_TOKENS__DIGITS", "5")
    with pytest.raises(ConfigError, match=r"tokens\.digits"):
        load_settings(settings_file(tmp_path))


def test_production_without_its_services_and_secret_lists_everything_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODONTOKEN_APP__ENVIRONMENT", "production")
    with pytest.raises(ConfigError) as refused:
        load_settings(settings_file(tmp_path))
    message = str(refused.value)
    assert message.startswith("production mode needs: ")
    for missing in ["database.url", "redis.url", "security.pepper"]:
        assert missing in message, missing


def real_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production also refuses the console delivery backends."""
    monkeypatch.setenv("ODONTOKEN_SMS__BACKEND", "zenvia")
    monkeypatch.setenv("ODONTOKEN_SMS__API_TOKEN", "gateway-token")
    monkeypatch.setenv("ODONTOKEN_EMAIL__BACKEND", "smtp")
    monkeypatch.setenv("ODONTOKEN_SECURITY__SECRETS_KEY", "x" * 43 + "=")
    monkeypatch.setenv("ODONTOKEN_PORTAL__ENABLED", "false")
    monkeypatch.setenv("ODONTOKEN_CONSOLE__COOKIE_SECRET", "c" * 40)


def test_production_refuses_sqlite_but_starts_with_postgres_redis_and_a_pepper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = settings_file(tmp_path)
    monkeypatch.setenv("ODONTOKEN_APP__ENVIRONMENT", "production")
    monkeypatch.setenv("ODONTOKEN_REDIS__URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("ODONTOKEN_SECURITY__PEPPER", PEPPER)
    real_channels(monkeypatch)
    monkeypatch.setenv("ODONTOKEN_DATABASE__URL", f"sqlite://{tmp_path / 'x.sqlite3'}")
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    assert str(refused.value) == "production mode needs: database.url (a PostgreSQL URL)"

    monkeypatch.setenv("ODONTOKEN_DATABASE__URL", "postgres://odontoken@db:5432/odontoken")
    settings = load_settings(path)
    assert settings.production
    assert resolve_pepper(settings) == PEPPER.encode()
    assert PEPPER not in repr(settings)


def test_in_development_a_private_pepper_is_generated_once_and_kept(tmp_path: Path) -> None:
    state = tmp_path / "state"
    settings = load_settings(
        settings_file(tmp_path, ('data_dir = "data"', f'data_dir = "{state}"'))
    )

    first = resolve_pepper(settings)
    second = resolve_pepper(settings)

    key = state / "pepper.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text(encoding="utf-8").strip().encode() == first
    assert len(first) >= MIN_PEPPER_LENGTH
    assert second == first


def test_a_pepper_file_is_read_and_an_unreadable_one_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pepper_file = tmp_path / "pepper.secret"
    monkeypatch.setenv("ODONTOKEN_SECURITY__PEPPER_FILE", str(pepper_file))
    settings = load_settings(settings_file(tmp_path))
    with pytest.raises(ConfigError, match=r"cannot read security\.pepper_file"):
        resolve_pepper(settings)
    pepper_file.write_text(f"{PEPPER}\n", encoding="utf-8")
    assert resolve_pepper(settings) == PEPPER.encode()


@pytest.mark.parametrize("source", ["environment", "file"])
def test_a_pepper_shorter_than_the_minimum_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    short = PEPPER[:-1]
    if source == "environment":
        monkeypatch.setenv("ODONTOKEN_SECURITY__PEPPER", short)
    else:
        (tmp_path / "pepper.secret").write_text(short, encoding="utf-8")
        monkeypatch.setenv("ODONTOKEN_SECURITY__PEPPER_FILE", str(tmp_path / "pepper.secret"))
    settings = load_settings(settings_file(tmp_path))
    with pytest.raises(ConfigError, match=f"at least {MIN_PEPPER_LENGTH} characters"):
        resolve_pepper(settings)


def test_a_misspelled_section_is_a_config_error(tmp_path: Path) -> None:
    path = settings_file(
        tmp_path, ("[limits]", "[limit]"), ("guide_max_failures = 5", "guide_max_failures = 3")
    )
    with pytest.raises(ConfigError, match="limit"):
        load_settings(path)


def test_production_accepts_the_standard_postgresql_scheme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODONTOKEN_APP__ENVIRONMENT", "production")
    monkeypatch.setenv("ODONTOKEN_REDIS__URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("ODONTOKEN_SECURITY__PEPPER", PEPPER)
    real_channels(monkeypatch)
    monkeypatch.setenv("ODONTOKEN_DATABASE__URL", "postgresql://odontoken@db:5432/odontoken")
    assert load_settings(settings_file(tmp_path)).production


def test_a_malformed_settings_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"settings\.toml"):
        load_settings(settings_file(tmp_path, ("[limits]", "[limits")))


def test_a_relative_data_dir_is_read_against_the_settings_file_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    assert load_settings(settings_file(tmp_path)).app.data_dir == tmp_path / "data"


def test_production_refuses_a_console_without_its_cookie_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = settings_file(tmp_path)
    monkeypatch.setenv("ODONTOKEN_APP__ENVIRONMENT", "production")
    monkeypatch.setenv("ODONTOKEN_REDIS__URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("ODONTOKEN_SECURITY__PEPPER", PEPPER)
    monkeypatch.setenv("ODONTOKEN_DATABASE__URL", "postgres://odontoken@db:5432/odontoken")
    real_channels(monkeypatch)
    monkeypatch.setenv("ODONTOKEN_CONSOLE__COOKIE_SECRET", "too-short")
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    assert "console.cookie_secret" in str(refused.value)
    monkeypatch.setenv("ODONTOKEN_CONSOLE__ENABLED", "false")
    assert load_settings(path).production
