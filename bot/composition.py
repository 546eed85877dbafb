"""The composition root: builds every service from settings. Nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from bot.secret_values import resolve_pepper, resolve_secrets_keys
from bot.settings import ConfigError, Settings
from token_core.access.clients import ClientRegistry, SecretBox, new_key
from token_core.chat.fraud import FraudReports
from token_core.chat.linking import ChatLinking
from token_core.chat.transcripts import Transcripts
from token_core.codes.budget import ClientBudget
from token_core.codes.issuance import TokenIssuer
from token_core.codes.policy import TokenPolicy
from token_core.codes.validation import TokenValidator
from token_core.delivery.contacts import ContactRules
from token_core.delivery.port import CodeSender
from token_core.delivery.sending import CodeSending
from token_core.guides.service import GuideService
from token_core.keyring import Keyring
from token_core.metrics import NO_METRICS, Metrics
from token_core.persistence.database import close_database, migrate, open_database
from token_core.services import Services
from token_core.storage.memory import InProcessStore
from token_core.storage.ports import EphemeralStore
from token_core.storage.redis_store import RedisStore
from token_core.support.agents import AgentRegistry
from token_core.support.desk import SabDesk
from token_core.vocabulary import Channel

logger = logging.getLogger(__name__)

__all__ = ["Services", "assemble", "build_services", "running_services"]


def token_policy(settings: Settings) -> TokenPolicy:
    t, lim = settings.tokens, settings.limits
    return TokenPolicy(
        digits=t.digits,
        ttl_seconds=t.ttl_seconds,
        memory_seconds=t.memory_seconds,
        guide_max_failures=lim.guide_max_failures,
        guide_lock_seconds=lim.guide_lock_seconds,
        beneficiary_max_failures=lim.beneficiary_max_failures,
        beneficiary_failure_window_seconds=lim.beneficiary_failure_window_seconds,
        issue_max_per_beneficiary=lim.issue_max_per_beneficiary,
        issue_window_seconds=lim.issue_window_seconds,
        client_failures_per_hour=lim.client_failures_per_hour,
        client_issues_per_hour=lim.client_issues_per_hour,
    )


async def open_store(settings: Settings) -> EphemeralStore:
    if not settings.redis.url:
        return InProcessStore()
    store = RedisStore.from_url(
        settings.redis.url,
        settings.redis.prefix,
        max_connections=settings.redis.max_connections,
        timeout_seconds=settings.redis.timeout_seconds,
    )
    await store.ping()
    if settings.production and not await store.persists():
        if not settings.redis.allow_without_persistence:
            await store.close()
            raise ConfigError(
                "Redis does not persist (appendonly no): guide locks, failure counters and "
                "replay nonces would vanish with a restart. Turn on appendonly yes, or set "
                "redis.allow_without_persistence = true to accept that risk (docs/faults.md)."
            )
        logger.warning("Redis does not persist; redis.allow_without_persistence accepts it")
    return store


def build_services(
    settings: Settings,
    store: EphemeralStore,
    senders: Mapping[Channel, CodeSender] | None = None,
    metrics: Metrics = NO_METRICS,
) -> Services:
    return assemble(
        store,
        Keyring(resolve_pepper(settings)),
        token_policy(settings),
        senders=senders,
        secrets_keys=resolve_secrets_keys(settings),
        metrics=metrics,
    )


def assemble(
    store: EphemeralStore,
    keyring: Keyring,
    policy: TokenPolicy,
    *,
    senders: Mapping[Channel, CodeSender] | None = None,
    secrets_keys: list[bytes] | None = None,
    metrics: Metrics = NO_METRICS,
) -> Services:
    """Wire the core services around a store, a keyring and a policy; `metrics` counts what
    they do (the app gives the Prometheus one; tools and tests count nothing)."""
    guides = GuideService(store)
    # One budget per API client for every path that spends it (codes, CPFs, contacts). Its
    # `on_exceeded` hook is where the operations metric plugs in.
    budget = ClientBudget(store, policy)
    issuer = TokenIssuer(store, keyring, policy, guides, budget, metrics)
    # Without keys (tests), client secrets are sealed under a key that lives as long as the process.
    box = SecretBox(secrets_keys or [new_key().encode()])
    contacts = ContactRules(keyring, store, budget)
    linking = ChatLinking(keyring, store)
    transcripts = Transcripts(store, metrics)
    return Services(
        store=store,
        keyring=keyring,
        guides=guides,
        issuer=issuer,
        validator=TokenValidator(store, keyring, policy, budget, metrics),
        sending=CodeSending(issuer, senders or {}, contacts),
        clients=ClientRegistry(box),
        linking=linking,
        transcripts=transcripts,
        fraud=FraudReports(store),
        agents=AgentRegistry(),
        desk=SabDesk(issuer, guides, contacts, linking, transcripts, {}),
    )


def prepare_data_dir(settings: Settings) -> Path:
    settings.app.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.app.data_dir


@asynccontextmanager
async def running_services(
    settings: Settings, *, apply_migrations: bool
) -> AsyncIterator[Services]:
    """Open the database and the store, yield the services (no senders), close both."""
    prepare_data_dir(settings)
    if apply_migrations:
        await migrate(settings.database_url)
    await open_database(settings.database_url)
    try:
        store = await open_store(settings)
        try:
            yield build_services(settings, store)
        finally:
            await store.close()
    finally:
        await close_database()
