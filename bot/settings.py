"""Settings: one frozen object loaded from settings.toml, overridden by ODONTOKEN_* variables."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

SETTINGS_FILE_ENV = "ODONTOKEN_SETTINGS_FILE"
DEFAULT_SETTINGS_FILE = Path(__file__).resolve().parent.parent / "settings.toml"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SECRET_KEYS = (
    ("security", "pepper"),
    ("security", "secrets_key"),
    ("sms", "api_token"),
    ("email", "smtp_password"),
    ("callbacks", "secret"),
    ("telegram", "token"),
    ("telegram", "webhook_secret"),
    ("whatsapp", "access_token"),
    ("whatsapp", "app_secret"),
    ("whatsapp", "verify_token"),
    ("console", "cookie_secret"),
    ("metrics", "token"),
)


class ConfigError(Exception):
    """The settings cannot run the service; the message says which and how to fix it."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AppSettings(_Section):
    environment: Literal["development", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "json" (one object a line), "plain", or "" for json in production and plain otherwise.
    log_format: Literal["json", "plain", ""] = ""
    data_dir: Path = Path("data")


class DatabaseSettings(_Section):
    url: str = ""


class RedisSettings(_Section):
    url: str = ""
    prefix: str = "odontoken:"
    max_connections: int = Field(default=200, ge=1)
    timeout_seconds: float = Field(default=3, gt=0)
    allow_without_persistence: bool = False


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    shutdown_timeout_seconds: float = Field(default=30, gt=0)


class MetricsSettings(_Section):
    port: int = Field(default=0, ge=0, le=65535)
    token: str = Field(default="", repr=False)


class SecuritySettings(_Section):
    pepper: str = Field(default="", repr=False)
    pepper_file: str = ""
    secrets_key: str = Field(default="", repr=False)
    secrets_key_file: str = ""


class ApiSettings(_Section):
    clock_skew_seconds: float = Field(default=300, gt=0)
    idempotency_seconds: float = Field(default=86400, gt=0)
    sab_phones: tuple[str, ...] = ("4007-2400", "0800 643 4300")


class SmsSettings(_Section):
    backend: Literal["console", "zenvia"] = "console"
    base_url: str = "https://api.zenvia.com"
    sender: str = "odontoken"
    api_token: str = Field(default="", repr=False)
    timeout_seconds: float = Field(default=10, gt=0)


class EmailSettings(_Section):
    backend: Literal["console", "smtp"] = "console"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = Field(default="", repr=False)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    sender: str = "Odontoken <nao-responda@odontoken.example>"
    timeout_seconds: float = Field(default=10, gt=0)


class CallbackSettings(_Section):
    url: str = ""
    client_id: str = "odontoken"
    secret: str = Field(default="", repr=False)
    timeout_seconds: float = Field(default=10, gt=0)
    poll_seconds: float = Field(default=1.0, gt=0)
    max_backoff_seconds: float = Field(default=600, gt=0)


class TelegramSettings(_Section):
    token: str = Field(default="", repr=False)
    base_url: str = "https://api.telegram.org/bot"
    mode: Literal["webhook", "polling"] = "webhook"
    webhook_secret: str = Field(default="", repr=False)
    public_url: str = ""
    max_messages_per_second: float = Field(default=30, ge=0)


class WhatsAppSettings(_Section):
    base_url: str = "https://graph.facebook.com"
    api_version: str = "v21.0"
    phone_number_id: str = ""
    access_token: str = Field(default="", repr=False)
    app_secret: str = Field(default="", repr=False)
    verify_token: str = Field(default="", repr=False)
    otp_template: str = ""
    otp_template_language: str = "pt_BR"
    timeout_seconds: float = Field(default=10, gt=0)


class PortalSettings(_Section):
    enabled: bool = True
    client_id: str = "portal"


class SandboxSettings(_Section):
    # None: on in development, off in production (which refuses true).
    enabled: bool | None = None


class ChatSettings(_Section):
    backlog_cap: int = Field(default=50, ge=1)
    claim_after_seconds: float = Field(default=30, gt=0)
    consume: bool = True


class ConsoleSettings(_Section):
    enabled: bool = True
    cookie_secret: str = Field(default="", repr=False)
    idle_minutes: float = Field(default=30, gt=0)
    handoff_timeout_seconds: float = Field(default=300, gt=0)
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_lock_seconds: float = Field(default=900, gt=0)


class TokenSettings(_Section):
    digits: int = Field(default=6, ge=6, le=8)
    ttl_seconds: float = Field(default=600, gt=0)
    memory_seconds: float = Field(default=86400, gt=0)


class LimitSettings(_Section):
    guide_max_failures: int = Field(default=5, ge=1)
    guide_lock_seconds: float = Field(default=900, gt=0)
    beneficiary_max_failures: int = Field(default=100, ge=1)
    beneficiary_failure_window_seconds: float = Field(default=3600, gt=0)
    issue_max_per_beneficiary: int = Field(default=5, ge=1)
    issue_window_seconds: float = Field(default=900, gt=0)
    client_failures_per_hour: int = Field(default=2000, ge=1)
    client_issues_per_hour: int = Field(default=20000, ge=1)


class RetentionSettings(_Section):
    """How long personal data is kept before `odontoken purge` removes it (settings.toml says
    why each period is what it is; docs/privacy.md lists every store)."""

    transcripts_days: int = Field(default=180, ge=1)
    fraud_notes_days: int = Field(default=1825, ge=1)
    audit_details_days: int = Field(default=1825, ge=1)
    delivered_events_days: int = Field(default=90, ge=1)


class Settings(BaseSettings):
    """Every setting of the service; see settings.toml for what each one means."""

    model_config = SettingsConfigDict(
        env_prefix="ODONTOKEN_",
        env_nested_delimiter="__",
        case_sensitive=False,
        frozen=True,
        extra="ignore",
    )

    app: AppSettings = AppSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    server: ServerSettings = ServerSettings()
    security: SecuritySettings = SecuritySettings()
    tokens: TokenSettings = TokenSettings()
    limits: LimitSettings = LimitSettings()
    api: ApiSettings = ApiSettings()
    sms: SmsSettings = SmsSettings()
    email: EmailSettings = EmailSettings()
    callbacks: CallbackSettings = CallbackSettings()
    portal: PortalSettings = PortalSettings()
    telegram: TelegramSettings = TelegramSettings()
    whatsapp: WhatsAppSettings = WhatsAppSettings()
    console: ConsoleSettings = ConsoleSettings()
    chat: ChatSettings = ChatSettings()
    retention: RetentionSettings = RetentionSettings()
    metrics: MetricsSettings = MetricsSettings()
    sandbox: SandboxSettings = SandboxSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def production(self) -> bool:
        return self.app.environment == "production"

    @property
    def sandbox_enabled(self) -> bool:
        """The sandbox chat at /sandbox: on in development on a loopback host unless turned off;
        never in production (which refuses enabled = true)."""
        if self.sandbox.enabled is None:
            return not self.production and self.server.host in LOOPBACK_HOSTS
        return self.sandbox.enabled

    @property
    def log_format(self) -> Literal["json", "plain"]:
        """app.log_format, or its default: json in production, plain in development."""
        if self.app.log_format:
            return self.app.log_format
        return "json" if self.production else "plain"

    @property
    def database_url(self) -> str:
        """The Tortoise URL; empty means the embedded SQLite file under app.data_dir."""
        return self.database.url or f"sqlite://{self.app.data_dir / 'odontoken.sqlite3'}"


def load_settings(path: Path | None = None) -> Settings:
    """Read settings once: the TOML file, then ODONTOKEN_* environment variables on top."""
    path = path or Path(os.environ.get(SETTINGS_FILE_ENV) or DEFAULT_SETTINGS_FILE)
    if not path.is_file():
        raise ConfigError(f"settings file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    unknown = sorted(set(raw) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"{path}: unknown section(s): {', '.join(unknown)}")
    for section, key in SECRET_KEYS:
        if raw.get(section, {}).get(key):
            raise ConfigError(
                f"{path}: {section}.{key} is a secret and must not be written in the settings "
                f"file; set ODONTOKEN_{section.upper()}__{key.upper()} instead"
            )
    bound = type(
        "BoundSettings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": path}}
    )
    try:
        settings: Settings = bound()
    except ValidationError as exc:
        raise ConfigError(f"invalid settings: {exc}") from None
    if not settings.app.data_dir.is_absolute():
        app = settings.app.model_copy(update={"data_dir": path.parent / settings.app.data_dir})
        settings = settings.model_copy(update={"app": app})
    loopback = settings.server.host in LOOPBACK_HOSTS
    if settings.portal.enabled and not loopback:
        raise ConfigError(
            "portal.enabled needs server.host on loopback (127.0.0.1): the reference portal "
            "has no login"
        )
    if settings.sandbox.enabled and not loopback:
        raise ConfigError(
            "sandbox.enabled needs server.host on loopback (127.0.0.1): the sandbox chat has "
            "no login"
        )
    _check_production(settings)
    return settings


def _check_production(settings: Settings) -> None:
    if not settings.production:
        return
    missing = []
    if not settings.database.url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        missing.append("database.url (a PostgreSQL URL)")
    if not settings.redis.url:
        missing.append("redis.url")
    if not (settings.security.pepper or settings.security.pepper_file):
        missing.append("security.pepper (ODONTOKEN_SECURITY__PEPPER or security.pepper_file)")
    if not (settings.security.secrets_key or settings.security.secrets_key_file):
        missing.append(
            "security.secrets_key (ODONTOKEN_SECURITY__SECRETS_KEY or security.secrets_key_file)"
        )
    if settings.sms.backend == "console" or settings.email.backend == "console":
        missing.append("sms.backend and email.backend other than console (console writes codes)")
    if settings.sms.backend == "zenvia" and not settings.sms.api_token:
        missing.append("sms.api_token (ODONTOKEN_SMS__API_TOKEN)")
    if settings.portal.enabled:
        missing.append("portal.enabled = false (the reference portal has no login)")
    if settings.sandbox.enabled:
        missing.append("sandbox.enabled = false (the sandbox chat has no login)")
    if settings.telegram.token and settings.telegram.mode == "polling":
        missing.append("telegram.mode = webhook (polling is for development)")
    if settings.telegram.token and len(settings.telegram.webhook_secret) < 16:
        missing.append("telegram.webhook_secret (ODONTOKEN_TELEGRAM__WEBHOOK_SECRET, 16+ chars)")
    missing += _whatsapp_missing(settings.whatsapp)
    if settings.console.enabled and len(settings.console.cookie_secret) < 32:
        missing.append("console.cookie_secret (ODONTOKEN_CONSOLE__COOKIE_SECRET, 32+ chars)")
    if settings.callbacks.url and not settings.callbacks.secret:
        missing.append("callbacks.secret (ODONTOKEN_CALLBACKS__SECRET)")
    if missing:
        raise ConfigError("production mode needs: " + "; ".join(missing))


def _whatsapp_missing(wa: WhatsAppSettings) -> list[str]:
    """What a WhatsApp channel that is on (an access token is set) lacks in production."""
    if not wa.access_token:
        return []
    needed = {
        "app_secret": wa.app_secret,
        "verify_token": wa.verify_token,
        "phone_number_id": wa.phone_number_id,
        "otp_template": wa.otp_template,
    }
    return [
        f"whatsapp.{key}" + (f" (ODONTOKEN_WHATSAPP__{key.upper()})" if key in _WA_SECRETS else "")
        for key, value in needed.items()
        if not value
    ]


_WA_SECRETS = {key for section, key in SECRET_KEYS if section == "whatsapp"}
