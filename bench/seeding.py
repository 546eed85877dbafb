"""Bulk test data for the benchmarks: beneficiaries with one guide awaiting a token each."""

from __future__ import annotations

import uuid

from token_core.keyring import Keyring
from token_core.persistence.models import Beneficiary, Guide
from token_core.registry.identity import cpf_with_check_digits


async def beneficiaries_with_guides(count: int, keyring: Keyring) -> list[tuple[int, str]]:
    """(beneficiary id, guide number) for `count` new beneficiaries, in creation order."""
    run = uuid.uuid4().hex[:6]
    await Beneficiary.bulk_create(
        [
            Beneficiary(
                carteirinha=f"B{run}{i:08d}",
                cpf_hash=keyring.cpf_lookup(cpf_with_check_digits(f"{i + 1:09d}")),
                cpf_masked="***.000.000-**",
                name=f"Bench {i}",
                mobile="+5541988575949",
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    ids = list(
        await Beneficiary.filter(carteirinha__startswith=f"B{run}")
        .order_by("id")
        .values_list("id", flat=True)
    )
    pairs = [(int(str(b)), f"G{run}{i:08d}") for i, b in enumerate(ids)]
    await Guide.bulk_create(
        [
            Guide(
                numero=n,
                beneficiary_id=b,
                dentist_name="Dra. Bench",
                dentist_cro="PR-1",
                procedures=[],
            )
            for b, n in pairs
        ],
        batch_size=1000,
    )
    return pairs
