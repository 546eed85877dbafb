"""Erasing a person (LGPD art. 18 VI), keeping what the operator must keep.

Removed: name ("Titular removido"), CPF (the look-up hash becomes a random value, so the CPF no
longer finds the row; the masked form becomes ***.***.***-**), mobile and e-mail, the chat links,
the transcripts and the console conversations (by beneficiary and by the person's chats), the
notes on their fraud reports, and every ephemeral key about the card or the chats.
Kept, pseudonymised: the audit trail, where the card becomes a keyed pseudonym
(`Keyring.fingerprint`, the same for every row so the trail still reads as one person) and each
chat id its own, in the actor and the details; the fraud reports (chat id pseudonymised) and
the callback events (card pseudonymised, destination dropped).
Kept as they are: the guides (the health-plan record), linked to the erased row by its id; the
row keeps the card, the plan's contract number, so a re-import of the card updates it.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import Any

from token_core import audit
from token_core.keyring import Keyring
from token_core.persistence.models import (
    AuditEvent,
    Beneficiary,
    ChatLink,
    Conversation,
    FraudReport,
    OutboxEvent,
    TranscriptEntry,
)
from token_core.persistence.transactions import atomic
from token_core.privacy.subject import Holdings, holdings
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind

ERASED_NAME = "Titular removido"
ERASED_CPF = "***.***.***-**"


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure changes (or, before `--confirmar`, would change)."""

    pseudonym: str
    chat_links: int
    transcripts: int
    conversations: int
    audit_events: int
    fraud_reports: int
    callback_events: int

    def as_detail(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "pseudonym"}


def pseudonym(keyring: Keyring, name: str) -> str:
    """The keyed pseudonym of a card or a chat: 20 characters, fits every column it replaces."""
    return "anon-" + keyring.fingerprint(b"odontoken/subject/v1\x00" + name.encode())[:15]


async def plan(carteirinha: str, keyring: Keyring) -> tuple[Holdings, Erasure] | None:
    """What erasing the card would change; None for an unknown card."""
    found = await holdings(carteirinha)
    if found is None:
        return None
    names = _pseudonyms(found, keyring)
    touched = [
        e
        for e in found.audit
        if e.carteirinha == carteirinha
        or e.actor in found.chat_actors
        or _replaced(e.detail, names) != e.detail
    ]
    return found, Erasure(
        pseudonym=names[carteirinha],
        chat_links=len(found.links),
        transcripts=len(found.transcripts),
        conversations=len(found.conversations),
        audit_events=len(touched),
        fraud_reports=len(found.fraud_reports),
        callback_events=len(found.events),
    )


async def erase(
    carteirinha: str, keyring: Keyring, store: EphemeralStore, actor: str
) -> Erasure | None:
    """Erase the person with this card (idempotent); None for an unknown card."""
    planned = await plan(carteirinha, keyring)
    if planned is None:
        return None
    found, erasure = planned
    names = _pseudonyms(found, keyring)
    ben = found.beneficiary
    async with atomic():
        await Beneficiary.filter(id=ben.id).update(
            name=ERASED_NAME,
            cpf_hash=secrets.token_hex(32),
            cpf_masked=ERASED_CPF,
            mobile=None,
            email=None,
            mobile_source=None,
            email_source=None,
            default_channel=None,
            active=False,
        )
        await ChatLink.filter(beneficiary_id=ben.id).delete()
        await TranscriptEntry.filter(id__in=[t.id for t in found.transcripts]).delete()
        await Conversation.filter(id__in=[c.id for c in found.conversations]).delete()
        await FraudReport.filter(beneficiary_id=ben.id).update(note=None)
        for channel, chat_id in found.chats:
            await FraudReport.filter(channel=channel, chat_id=chat_id).update(
                chat_id=names[chat_id]
            )
            await AuditEvent.filter(actor=f"chat:{channel}:{chat_id}").update(
                actor=f"chat:{channel}:{names[chat_id]}"
            )
        await AuditEvent.filter(carteirinha=carteirinha).update(carteirinha=erasure.pseudonym)
        for row in found.audit:  # details naming the card or a chat (a hand-off's chat)
            detail = _replaced(row.detail, names)
            if detail != row.detail:
                await AuditEvent.filter(id=row.id).update(detail=detail)
        for sent in found.events:
            payload = {**_replaced(sent.payload, names), "destino": None}
            await OutboxEvent.filter(id=sent.id).update(payload=payload)
        await audit.For(actor, carteirinha=erasure.pseudonym).record(
            AuditKind.SUBJECT_ERASED, **erasure.as_detail()
        )
    await store.forget(carteirinha, *[chat_id for _channel, chat_id in found.chats])
    return erasure


def _pseudonyms(found: Holdings, keyring: Keyring) -> dict[str, str]:
    """The card's pseudonym and each chat's, by what they replace."""
    card = found.beneficiary.carteirinha
    names = {card: pseudonym(keyring, card)}
    return names | {chat: pseudonym(keyring, f"{ch}:{chat}") for ch, chat in found.chats}


def _replaced(value: Any, names: dict[str, str]) -> Any:
    """`value` with every string equal to a key of `names` replaced by its pseudonym."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dict):
        return {k: _replaced(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, names) for v in value]
    return value
