"""Issuing and validating codes through the core, on the selected backend."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from tortoise import Tortoise
from tortoise.exceptions import OperationalError

from bot.composition import Services, assemble
from tests.conftest import World
from tests.support.clock import Elapse
from token_core import audit
from token_core.codes.policy import TokenPolicy
from token_core.codes.validation import ValidationStatus as V
from token_core.errors import BeneficiaryInactive, GuideConflict, RateLimited
from token_core.keyring import Keyring
from token_core.persistence.models import Beneficiary, Guide
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, Channel, GuideStatus

SMS = Channel.SMS


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


async def test_a_code_issued_for_a_guide_validates_it_once(
    services: Services, world: World
) -> None:
    guide = await world.guide()
    issued = await services.issuer.for_guide(guide.numero, SMS, actor="sio")
    code = issued.code.reveal()
    assert len(code) == 6 and code.isdigit()

    first = await services.validator.validate(guide.numero, code, SMS, actor="sio")
    second = await services.validator.validate(guide.numero, code, SMS, actor="sio")

    assert first.status is V.VALID
    assert first.validation_code and len(first.validation_code) <= 10
    assert second.status is V.ALREADY_VALIDATED and second.validated_at == first.validated_at
    stored = await Guide.get(numero=guide.numero)
    assert stored.status is GuideStatus.VALIDATED
    assert stored.validation_code == first.validation_code
    kinds = [e.kind for e in await audit.trail(guide=guide.numero)]
    assert kinds == [
        AuditKind.GUIDE_REGISTERED,
        AuditKind.TOKEN_ISSUED,
        AuditKind.TOKEN_VALIDATED,
        AuditKind.TOKEN_REJECTED,
    ]


async def test_spaces_and_dashes_in_a_typed_code_are_ignored(
    services: Services, world: World
) -> None:
    guide = await world.guide()
    code = (await services.issuer.for_guide(guide.numero, SMS, actor="sio")).code.reveal()
    result = await services.validator.validate(
        guide.numero, f" {code[:3]} - {code[3:]} ", SMS, actor="sio"
    )
    assert result.status is V.VALID


async def test_a_code_for_one_guide_does_not_validate_another(
    services: Services, world: World
) -> None:
    ben = await world.beneficiary()
    first, second = await world.guide(ben), await world.guide(ben)
    code = (await services.issuer.for_guide(first.numero, SMS, actor="sio")).code.reveal()
    wrong = await services.validator.validate(second.numero, code, SMS, actor="sio")
    right = await services.validator.validate(first.numero, code, SMS, actor="sio")
    assert wrong.status is V.INVALID and wrong.failures_left == 4
    assert right.status is V.VALID


async def test_a_code_asked_before_the_guide_validates_the_first_guide_waiting(
    services: Services, world: World
) -> None:
    ben = await world.beneficiary()
    code = (
        await services.issuer.for_beneficiary(ben.carteirinha, Channel.TELEGRAM, actor="bot")
    ).code.reveal()
    first, second = await world.guide(ben), await world.guide(ben)

    on_second = await services.validator.validate(second.numero, code, SMS, actor="sio")
    on_first = await services.validator.validate(first.numero, code, SMS, actor="sio")
    spent = await services.validator.validate(second.numero, code, SMS, actor="sio")

    assert on_second.status is V.INVALID
    assert on_first.status is V.VALID
    assert spent.status is V.ALREADY_USED
    assert (await Guide.get(numero=second.numero)).status is GuideStatus.AWAITING_TOKEN


async def test_issuing_again_makes_the_previous_code_stop_working(
    services: Services, world: World
) -> None:
    guide = await world.guide()
    old = (await services.issuer.for_guide(guide.numero, SMS, actor="sio")).code.reveal()
    new = (await services.issuer.for_guide(guide.numero, SMS, actor="sio")).code.reveal()
    if old == new:
        pytest.skip("the CSPRNG drew the same code twice (one in a million)")
    assert (
        await services.validator.validate(guide.numero, old, SMS, actor="sio")
    ).status is V.INVALID
    assert (
        await services.validator.validate(guide.numero, new, SMS, actor="sio")
    ).status is V.VALID


async def test_five_wrong_codes_lock_the_guide_even_for_the_right_code(
    services: Services, world: World
) -> None:
    guide = await world.guide()
    code = (await services.issuer.for_guide(guide.numero, SMS, actor="sio")).code.reveal()
    wrong = other_code(code)
    results = [
        await services.validator.validate(guide.numero, wrong, SMS, actor="sio") for _ in range(5)
    ]
    assert [r.failures_left for r in results] == [4, 3, 2, 1, 0]
    assert results[-1].status is V.GUIDE_LOCKED
    locked = await services.validator.validate(guide.numero, code, SMS, actor="sio")
    assert locked.status is V.GUIDE_LOCKED
    assert locked.locked_until and locked.locked_until > datetime.now(UTC)
    assert (await Guide.get(numero=guide.numero)).status is GuideStatus.AWAITING_TOKEN
    assert AuditKind.GUIDE_LOCKED in [e.kind for e in await audit.trail(guide=guide.numero)]

    assert await services.guides.unlock(guide.numero, actor="sab:ana") is True
    assert (await services.validator.validate(guide.numero, code, SMS, actor="sio")).ok


async def test_an_expired_code_is_told_apart_from_a_wrong_one(
    store: EphemeralStore, keyring: Keyring, world: World, elapse: Elapse
) -> None:
    quick = assemble(store, keyring, TokenPolicy(ttl_seconds=0.15))
    guide = await world.guide()
    code = (await quick.issuer.for_guide(guide.numero, SMS, actor="sio")).code.reveal()
    await elapse(0.25)
    result = await quick.validator.validate(guide.numero, code, SMS, actor="sio")
    assert result.status is V.EXPIRED
    assert result.failures_left is None


async def test_malformed_input_is_refused_and_counts_nothing(
    services: Services, world: World
) -> None:
    guide = await world.guide()
    code = (await services.issuer.for_guide(guide.numero, SMS, actor="sio")).code.reveal()
    for typed in ["", "12345", "1234567", "12a456", "１２３４５６"]:
        result = await services.validator.validate(guide.numero, typed, SMS, actor="sio")
        assert result.status is V.MALFORMED
    assert (await services.validator.validate(guide.numero, code, SMS, actor="sio")).ok


async def test_unknown_cancelled_and_validated_guides_have_their_own_answers(
    services: Services, world: World
) -> None:
    missing = await services.validator.validate("GTO-NAO-EXISTE", "123456", SMS, actor="sio")
    assert missing.status is V.GUIDE_NOT_FOUND

    guide = await world.guide()
    code = (await services.issuer.for_guide(guide.numero, SMS, actor="sio")).code.reveal()
    await services.guides.cancel(guide.numero, actor="sio")
    cancelled = await services.validator.validate(guide.numero, code, SMS, actor="sio")
    assert cancelled.status is V.NOT_AWAITING
    with pytest.raises(GuideConflict):
        await services.issuer.for_guide(guide.numero, SMS, actor="sio")


async def test_a_sixth_code_in_the_window_is_refused_with_a_time(
    services: Services, world: World
) -> None:
    ben = await world.beneficiary()
    for _ in range(5):
        await services.issuer.for_beneficiary(ben.carteirinha, Channel.APP, actor="app")
    with pytest.raises(RateLimited) as refused:
        await services.issuer.for_beneficiary(ben.carteirinha, Channel.APP, actor="app")
    assert refused.value.retry_at > datetime.now(UTC)
    assert "horário de Brasília" in str(refused.value)


async def test_an_inactive_beneficiary_gets_no_code(services: Services, world: World) -> None:
    ben = await world.beneficiary(active=False)
    with pytest.raises(BeneficiaryInactive):
        await services.issuer.for_beneficiary(ben.carteirinha, Channel.APP, actor="app")


async def test_a_hundred_failures_across_guides_lock_the_beneficiary(
    store: EphemeralStore, keyring: Keyring, world: World
) -> None:
    strict = assemble(
        store, keyring, dataclasses.replace(TokenPolicy(), beneficiary_max_failures=4)
    )
    ben = await world.beneficiary()
    guides = [await world.guide(ben) for _ in range(3)]
    statuses = [
        (await strict.validator.validate(g.numero, "000000", SMS, actor="x")).status
        for g in guides
        for _ in range(2)
    ]
    assert statuses[:4] == [V.INVALID] * 4
    assert statuses[4:] == [V.GUIDE_LOCKED] * 2


async def test_a_failed_delivery_revokes_the_code(services: Services, world: World) -> None:
    guide = await world.guide()
    issued = await services.issuer.for_guide(guide.numero, SMS, actor="sio")
    await services.issuer.record_delivery(issued, SMS, actor="sio", error="gateway 503")
    result = await services.validator.validate(guide.numero, issued.code.reveal(), SMS, actor="x")
    assert result.status is V.INVALID
    kinds = [e.kind for e in await audit.trail(guide=guide.numero)]
    assert AuditKind.TOKEN_DELIVERY_FAILED in kinds and AuditKind.TOKEN_REVOKED in kinds


async def test_a_good_delivery_makes_the_channel_the_default(
    services: Services, world: World
) -> None:
    guide = await world.guide()
    issued = await services.issuer.for_guide(guide.numero, Channel.EMAIL, actor="sio")
    await services.issuer.record_delivery(issued, Channel.EMAIL, actor="sio")
    ben = await Beneficiary.get(id=issued.beneficiary.id)
    assert ben.default_channel is Channel.EMAIL


async def test_a_code_is_never_shown_by_repr_or_str(services: Services, world: World) -> None:
    guide = await world.guide()
    issued = await services.issuer.for_guide(guide.numero, SMS, actor="sio")
    assert issued.code.reveal() not in repr(issued)
    assert issued.code.reveal() not in str(issued.code)


async def test_a_code_spent_while_the_database_fails_is_given_back(
    services: Services, world: World
) -> None:
    """The outbox table is made unreachable for one validation: the guide stays waiting, the
    code stays good, and the same code validates once the database is whole again.
    """
    guide = await world.guide()
    code = (await services.issuer.for_guide(guide.numero, SMS, actor="sio")).code.reveal()
    conn = Tortoise.get_connection("default")
    await conn.execute_script("ALTER TABLE outbox_event RENAME TO outbox_event_away")
    try:
        with pytest.raises(OperationalError):
            await services.validator.validate(guide.numero, code, SMS, actor="sio")
    finally:
        await conn.execute_script("ALTER TABLE outbox_event_away RENAME TO outbox_event")
    assert (await Guide.get(numero=guide.numero)).status is GuideStatus.AWAITING_TOKEN
    assert (await services.validator.validate(guide.numero, code, SMS, actor="sio")).ok
