"""The token's rules that need no database: which guides a code may validate, what a refused
attempt answers, how codes are bound to what they authorise, the times people read.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from token_core.codes.generation import SecretCode, new_code, normalise_code_input
from token_core.codes.policy import TokenPolicy
from token_core.codes.single_use import AttemptOutcome, AttemptStatus, Candidate, Scope
from token_core.codes.validation import (
    ValidationStatus,
    attempt_refusal,
    candidate_scopes,
    guide_refusal,
)
from token_core.delivery.contacts import pick_contact
from token_core.errors import ContactRequired
from token_core.guides.queries import GuideView
from token_core.keyring import Keyring
from token_core.storage.memory import InProcessStore
from token_core.vocabulary import GuideStatus, format_retry, iso_utc

NOW = datetime(2026, 12, 1, 17, 35, tzinfo=UTC)


def view(status: GuideStatus = GuideStatus.AWAITING_TOKEN, first: bool = True) -> GuideView:
    return GuideView(
        id=1,
        numero="GTO-1",
        status=status,
        validated_at=NOW if status is GuideStatus.VALIDATED else None,
        validation_code="ABCDEFGHJK" if status is GuideStatus.VALIDATED else None,
        beneficiary_id=7,
        carteirinha="0001",
        first_awaiting=first,
    )


def test_no_code_validates_a_missing_a_validated_or_a_cancelled_guide() -> None:
    missing = guide_refusal("GTO-X", None)
    assert missing is not None and missing.status is ValidationStatus.GUIDE_NOT_FOUND
    validated = guide_refusal("GTO-1", view(GuideStatus.VALIDATED))
    assert validated is not None and validated.status is ValidationStatus.ALREADY_VALIDATED
    assert validated.validated_at == NOW and validated.validation_code == "ABCDEFGHJK"
    cancelled = guide_refusal("GTO-1", view(GuideStatus.CANCELLED))
    assert cancelled is not None and cancelled.status is ValidationStatus.NOT_AWAITING
    assert guide_refusal("GTO-1", view()) is None


def test_an_open_code_may_validate_only_the_oldest_guide_awaiting_a_token() -> None:
    assert candidate_scopes(view(first=True)) == [Scope("0001", "GTO-1"), Scope("0001", None)]
    assert candidate_scopes(view(first=False)) == [Scope("0001", "GTO-1")]


@pytest.mark.parametrize(
    ("store_says", "answer"),
    [
        (AttemptStatus.INVALID, ValidationStatus.INVALID),
        (AttemptStatus.EXPIRED, ValidationStatus.EXPIRED),
        (AttemptStatus.USED, ValidationStatus.ALREADY_USED),
        (AttemptStatus.GUIDE_LOCKED, ValidationStatus.GUIDE_LOCKED),
        (AttemptStatus.BENEFICIARY_LIMIT, ValidationStatus.GUIDE_LOCKED),
    ],
)
def test_each_refused_attempt_has_its_own_answer(
    store_says: AttemptStatus, answer: ValidationStatus
) -> None:
    assert attempt_refusal("GTO-1", AttemptOutcome(store_says), NOW).status is answer


def test_a_lock_answers_until_when() -> None:
    locked = attempt_refusal(
        "GTO-1", AttemptOutcome(AttemptStatus.GUIDE_LOCKED, retry_after=900, failures_left=0), NOW
    )
    assert locked.locked_until == datetime(2026, 12, 1, 17, 50, tzinfo=UTC)
    assert locked.failures_left == 0


def test_the_same_digits_hash_differently_for_another_guide_or_another_pepper() -> None:
    keyring = Keyring(b"pepper-one-0123456789-abcdefghijklmn")
    guide, other, open_code = Scope("0001", "GTO-1"), Scope("0001", "GTO-2"), Scope("0001")
    digests = {keyring.code_digest(s.label, "123456") for s in (guide, other, open_code)}
    assert len(digests) == 3
    another = Keyring(b"pepper-two-0123456789-abcdefghijklmn")
    assert another.code_digest(guide.label, "123456") != keyring.code_digest(guide.label, "123456")


def test_a_code_shows_only_stars_unless_revealed() -> None:
    code = new_code(8)
    assert len(code.reveal()) == 8 and code.reveal().isdigit()
    assert code.reveal() not in repr(code) and code.reveal() not in str(code)
    assert repr(SecretCode("000123")) == "SecretCode(******)"


def test_spaces_dots_and_dashes_in_a_typed_code_are_ignored() -> None:
    assert normalise_code_input(" 123 - 45.6 ") == "123456"


def test_times_read_by_people_are_in_brasilia_and_by_machines_in_utc_with_z() -> None:
    assert format_retry(NOW) == "14:35 (horário de Brasília)"
    assert iso_utc(NOW) == "2026-12-01T17:35:00Z"


def test_a_typed_contact_other_than_the_registered_one_does_not_fit() -> None:
    registered, other = "+5541988575949", "+5511991234567"
    assert pick_contact(registered, None, "celular", "?") == (registered, None, True)
    assert pick_contact(registered, registered, "celular", "?") == (registered, None, True)
    assert pick_contact(registered, other, "celular", "?") == (registered, None, False)
    with pytest.raises(ContactRequired):
        pick_contact(None, None, "celular", "Informe o celular.")
    assert pick_contact(None, other, "celular", "?") == (other, other, True)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_code_is_spent_once_for_one_guide_and_an_unused_one_expires() -> None:
    clock = Clock()
    store = InProcessStore(clock=clock)
    policy = TokenPolicy(ttl_seconds=60).attempt_policy()
    scope = Scope("0001", "GTO-1")
    await store.put_code(scope, "d1", 60, 3600)
    first = await store.attempt("GTO-1", [Candidate(scope, "d1")], policy, "a1")
    retry = await store.attempt("GTO-1", [Candidate(scope, "d1")], policy, "a2")
    elsewhere = await store.attempt("GTO-2", [Candidate(scope, "d1")], policy, "a3")
    assert (first.status, retry.status, elsewhere.status) == (
        AttemptStatus.VALID,
        AttemptStatus.RESUMED,
        AttemptStatus.USED,
    )

    await store.put_code(scope, "d2", 60, 3600)
    clock.now += 61
    late = await store.attempt("GTO-1", [Candidate(scope, "d2")], policy)
    assert late.status is AttemptStatus.EXPIRED


async def test_wrong_codes_lock_the_guide_at_the_limit_and_time_lifts_it() -> None:
    clock = Clock()
    store = InProcessStore(clock=clock)
    policy = TokenPolicy(guide_max_failures=3, guide_lock_seconds=900).attempt_policy()
    wrong = [Candidate(Scope("0001", "GTO-1"), "nope")]
    answers = [(await store.attempt("GTO-1", wrong, policy)).status for _ in range(4)]
    assert answers == [
        AttemptStatus.INVALID,
        AttemptStatus.INVALID,
        AttemptStatus.GUIDE_LOCKED,
        AttemptStatus.GUIDE_LOCKED,
    ]
    clock.now += 901
    assert (await store.attempt("GTO-1", wrong, policy)).status is AttemptStatus.INVALID
