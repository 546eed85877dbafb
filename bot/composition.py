"""The composition root: builds every service from settings. Nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.settings import Settings, resolve_pepper
from token_core.database import close_database, migrate, open_database
from token_core.guides import GuideService
from token_core.issuance import TokenIssuer
from token_core.policy import TokenPolicy
from token_core.secrets import Keyring
from token_core.storage.memory import InProcessStore
from token_core.storage.ports import EphemeralStore
from token_core.storage.redis_store import RedisStore
from token_core.validation import TokenValidator

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    store: EphemeralStore
    keyring: Keyring
    guides: GuideService
    issuer: TokenIssuer
    validator: TokenValidator


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
    )


async def open_store(settings: Settings) -> EphemeralStore:
    if not settings.redis.url:
        return InProcessStore()
    store = RedisStore.from_url(settings.redis.url, settings.redis.prefix)
    await store.ping()
    return store


def build_services(settings: Settings, store: EphemeralStore) -> Services:
    return assemble(store, Keyring(resolve_pepper(settings)), token_policy(settings))


def assemble(store: EphemeralStore, keyring: Keyring, policy: TokenPolicy) -> Services:
    guides = GuideService(store)
    return Services(
        store=store,
        keyring=keyring,
        guides=guides,
        issuer=TokenIssuer(store, keyring, policy, guides),
        validator=TokenValidator(store, keyring, policy),
    )


def prepare_data_dir(settings: Settings) -> None:
    if not settings.database.url or not settings.security.pepper:
        settings.app.data_dir.mkdir(parents=True, exist_ok=True)


@asynccontextmanager
async def running_services(
    settings: Settings, *, apply_migrations: bool
) -> AsyncIterator[Services]:
    """Open the database and the store, yield the services, close both."""
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
