"""What a registry import does to a beneficiary already on file: the registry is the source of
the CPF and the name, but not the only source of contacts. A mobile or e-mail registered by the
token flow (a first contact proven by the CPF) or by the SAB is kept when the registry's cell is
empty; a different non-empty value replaces it. The default channel is never left pointing at a
contact that is gone, nor at a chat whose link the import revokes.
"""

from __future__ import annotations

from token_core.registry.beneficiaries import SOURCE_FLOW, SOURCE_REGISTRY, SOURCE_SAB
from token_core.vocabulary import Channel

# What the import compares and writes, in this order (carteirinha apart).
STORED_FIELDS = (
    "cpf_hash",
    "cpf_masked",
    "name",
    "mobile",
    "email",
    "mobile_source",
    "email_source",
    "default_channel",
)
Stored = tuple[str, str, str, str | None, str | None, str | None, str | None, str | None]
# A registry row: CPF hash, masked CPF, name, mobile (E.164) and e-mail (None = empty cell).
RowFields = tuple[str, str, str, str | None, str | None]

# Contacts an empty cell does not erase: the registry never knew them.
_LEARNED = (SOURCE_FLOW, SOURCE_SAB)
_CHAT_DEFAULTS = {Channel.TELEGRAM.value, Channel.WHATSAPP.value}


def merge(row: RowFields, stored: Stored | None) -> Stored:
    """The beneficiary as the import leaves it (NULL source = the registry, rows from before)."""
    cpf_hash, cpf_masked, name, mobile_cell, email_cell = row
    if stored is None:
        return (
            *row,
            SOURCE_REGISTRY if mobile_cell else None,
            SOURCE_REGISTRY if email_cell else None,
            None,
        )
    mobile, mobile_source = _contact(mobile_cell, stored[3], stored[5])
    email, email_source = _contact(email_cell, stored[4], stored[6])
    default = stored[7]
    if (
        (default == Channel.SMS.value and mobile is None)
        or (default == Channel.EMAIL.value and email is None)
        or (default in _CHAT_DEFAULTS and unproven(stored, cpf_hash, mobile))
    ):
        default = None
    return (cpf_hash, cpf_masked, name, mobile, email, mobile_source, email_source, default)


def unproven(stored: Stored, cpf_hash: str, mobile: str | None) -> bool:
    """A chat link proves "this phone and this CPF": a new phone or a new CPF undoes it."""
    return stored[0] != cpf_hash or stored[3] != mobile


def _contact(
    cell: str | None, current: str | None, source: str | None
) -> tuple[str | None, str | None]:
    """A contact after the import, with its source: an empty cell keeps a contact the token
    flow or the SAB registered (and erases one the registry gave); another value replaces it;
    the same value keeps its source.
    """
    if cell is None:
        return (current, source) if current is not None and source in _LEARNED else (None, None)
    if cell == current:
        return current, source
    return cell, SOURCE_REGISTRY
