"""Shared fixtures: one database per run on the selected backend, a fresh store per test.

The database is opened only for the tests that use it: tests/integration and tests/e2e ask for
it in their own conftest, so tests/unit runs with no database, Redis or SQLite at all.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bot.composition import Services, assemble
from tests.support import backends, refs
from tests.support.clock import Elapse, FakeClock, elapse_for
from tests.support.redis_cluster import redis_cluster
from token_core.codes.policy import TokenPolicy
from token_core.guides.service import GuideDraft
from token_core.keyring import Keyring
from token_core.persistence.database import close_database, migrate, open_database
from token_core.persistence.models import Beneficiary, Guide
from token_core.registry.identity import Cpf, Mobile
from token_core.storage.memory import InProcessStore
from token_core.storage.ports import EphemeralStore

BACKEND = backends.selected_backend()


def pytest_report_header() -> str:
    return f"odontoken backend: {BACKEND}"


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if BACKEND == "production":
        async with backends.postgres_database() as url:
            yield url
    else:
        yield backends.sqlite_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[str]:
    await migrate(database_url)
    await open_database(database_url)
    try:
        yield database_url
    finally:
        await close_database()


@pytest.fixture
def clock() -> FakeClock:
    """The clock of the embedded store: it stands still until `elapse` moves it."""
    return FakeClock()


@pytest.fixture
async def store(clock: FakeClock) -> AsyncIterator[EphemeralStore]:
    """The ephemeral store of the selected backend, empty for each test."""
    if BACKEND == "production":
        async with backends.redis_store() as redis:
            yield redis
    else:
        yield InProcessStore(clock=clock)


@pytest.fixture
def elapse(store: EphemeralStore, clock: FakeClock) -> Elapse:
    """`await elapse(seconds)` lets that much time pass for the store's expiries."""
    return elapse_for(store, clock)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring(backends.TEST_PEPPER.encode())


@pytest.fixture
def policy() -> TokenPolicy:
    return TokenPolicy()


@pytest.fixture
def services(store: EphemeralStore, keyring: Keyring, policy: TokenPolicy) -> Services:
    return assemble(store, keyring, policy)


@pytest.fixture(autouse=True)
def _quiet_tortoise() -> None:
    logging.getLogger("tortoise").setLevel(logging.WARNING)


class World:
    """Creates beneficiaries and guides with unique references."""

    def __init__(self, services: Services, keyring: Keyring) -> None:
        self.services = services
        self.keyring = keyring

    async def beneficiary(
        self, *, cpf: str | None = None, mobile: str | None = None, active: bool = True
    ) -> Beneficiary:
        parsed = Cpf.parse(cpf or refs.cpf())
        phone = Mobile.parse(mobile or refs.mobile())
        return await Beneficiary.create(
            carteirinha=refs.carteirinha(),
            cpf_hash=self.keyring.cpf_lookup(parsed.digits),
            cpf_masked=parsed.masked,
            name="Beneficiária de Teste",
            mobile=phone.e164,
            email=f"teste.{refs.suffix()}@example.com.br",
            active=active,
        )

    async def guide(self, beneficiary: Beneficiary | None = None) -> Guide:
        beneficiary = beneficiary or await self.beneficiary()
        draft = GuideDraft(
            numero=refs.guide_number(),
            carteirinha=beneficiary.carteirinha,
            dentist_name="Dra. Teste",
            dentist_cro="PR-00001",
            clinic="Clínica Teste",
            procedures=[{"codigo": "81000065", "descricao": "Consulta"}],
        )
        guide, _ = await self.services.guides.register(draft, actor="test")
        return guide


@pytest.fixture
def world(services: Services, keyring: Keyring) -> World:
    return World(services, keyring)


@pytest.fixture(scope="session")
async def cluster_url() -> AsyncIterator[str]:
    """A three-node Redis Cluster for this run (started on first use, stopped at the end)."""
    async with redis_cluster() as url:
        yield url
