"""Named queries of beneficiaries: look-ups by card, CPF hash, and the few updates the token
flow makes (default channel, a first contact).
"""

from __future__ import annotations

from token_core.errors import BeneficiaryInactive, BeneficiaryNotFound
from token_core.keyring import Keyring
from token_core.persistence.models import Beneficiary
from token_core.registry.identity import Cpf
from token_core.vocabulary import Channel

CONTACT_FIELDS = {Channel.SMS: "mobile", Channel.EMAIL: "email"}
# Where a contact came from (Beneficiary.mobile_source / email_source; NULL = the registry).
SOURCE_REGISTRY = "registry"
SOURCE_FLOW = "flow"  # a first contact typed by the dentist system, proven by the CPF
SOURCE_SAB = "sab"  # changed by the support desk


async def by_carteirinha(carteirinha: str) -> Beneficiary | None:
    return await Beneficiary.get_or_none(carteirinha=carteirinha)


async def active(carteirinha: str) -> Beneficiary:
    """The beneficiary with this card, who must be active."""
    beneficiary = await by_carteirinha(carteirinha)
    if beneficiary is None:
        raise BeneficiaryNotFound()
    if not beneficiary.active:
        raise BeneficiaryInactive()
    return beneficiary


async def find_by_cpf(keyring: Keyring, cpf: Cpf) -> list[Beneficiary]:
    """Beneficiaries registered with this CPF (a person may hold more than one card)."""
    return await Beneficiary.filter(cpf_hash=keyring.cpf_lookup(cpf.digits)).order_by("id")


async def set_default_channel(beneficiary_id: int, channel: Channel) -> None:
    await Beneficiary.filter(id=beneficiary_id).update(default_channel=channel)


async def claim_contact(beneficiary_id: int, channel: Channel, contact: str) -> str | None:
    """Register `contact` as the first mobile or e-mail; None when taken, else the value now
    registered (a concurrent claim may have won with another one).
    """
    field = CONTACT_FIELDS[channel]
    taken = await Beneficiary.filter(id=beneficiary_id, **{field: None}).update(
        **{field: contact, f"{field}_source": SOURCE_FLOW}
    )
    if taken:
        return contact
    current = await Beneficiary.get(id=beneficiary_id)
    value: str | None = getattr(current, field)
    return value


async def release_contact(beneficiary_id: int, channel: Channel, contact: str) -> None:
    """Undo a claim whose delivery did not happen."""
    field = CONTACT_FIELDS[channel]
    await Beneficiary.filter(id=beneficiary_id, **{field: contact}).update(
        **{field: None, f"{field}_source": None}
    )
