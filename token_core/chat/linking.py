"""Linking a chat to a beneficiary: the channel proves the phone, the person types the CPF;
both must match one active beneficiary. Failures look alike (no CPF enumeration) and three of
them lock the chat out of linking for an hour.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from token_core import audit
from token_core.chat import links
from token_core.keyring import Keyring
from token_core.persistence.models import Beneficiary
from token_core.registry.beneficiaries import find_by_cpf
from token_core.registry.identity import Cpf, Mobile
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, Channel

LINK_FAILURES = 3
LINK_LOCK_SECONDS = 3600.0


class LinkStatus(enum.Enum):
    LINKED = "linked"
    NO_MATCH = "no_match"  # unknown CPF or another phone: the same answer for both
    INACTIVE = "inactive"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class LinkResult:
    status: LinkStatus
    beneficiary: Beneficiary | None = None
    retry_at: datetime | None = None


class ChatLinking:
    def __init__(self, keyring: Keyring, store: EphemeralStore) -> None:
        self._keyring = keyring
        self._store = store

    def phone_proof(self, phone: Mobile) -> str:
        """What the dialogue keeps between "contact shared" and "CPF typed": a keyed hash."""
        return self._keyring.fingerprint(b"phone:" + phone.e164.encode())

    async def locked_until(self, channel: Channel, chat_id: str) -> datetime | None:
        wait = await self._store.blocked(_counter(channel, chat_id), LINK_FAILURES)
        return datetime.now(UTC) + timedelta(seconds=wait) if wait is not None else None

    async def link(self, channel: Channel, chat_id: str, proof: str, cpf: Cpf) -> LinkResult:
        """Link the chat when the CPF and the proven phone belong to one active beneficiary."""
        actor = f"chat:{channel.value}:{chat_id}"
        retry_at = await self.locked_until(channel, chat_id)
        if retry_at is not None:
            return LinkResult(LinkStatus.LOCKED, retry_at=retry_at)
        matches = [
            b
            for b in await find_by_cpf(self._keyring, cpf)
            if b.mobile and hmac.compare_digest(self.phone_proof(Mobile(b.mobile)), proof)
        ]
        active = [b for b in matches if b.active]
        if active:
            beneficiary = active[0]
            await links.link(channel, chat_id, beneficiary)
            await audit.For(actor, carteirinha=beneficiary.carteirinha, channel=channel).record(
                AuditKind.CHAT_LINKED
            )
            return LinkResult(LinkStatus.LINKED, beneficiary)
        if matches:
            await audit.For(actor, carteirinha=matches[0].carteirinha, channel=channel).record(
                AuditKind.CHAT_LINK_REFUSED, reason="inactive"
            )
            return LinkResult(LinkStatus.INACTIVE)
        await self._store.hit(_counter(channel, chat_id), LINK_FAILURES, LINK_LOCK_SECONDS)
        retry_at = await self.locked_until(channel, chat_id)
        kind = AuditKind.CHAT_LINK_LOCKED if retry_at else AuditKind.CHAT_LINK_REFUSED
        await audit.For(actor, channel=channel).record(kind, reason="no_match")
        if retry_at is not None:
            return LinkResult(LinkStatus.LOCKED, retry_at=retry_at)
        return LinkResult(LinkStatus.NO_MATCH)

    async def unlock(self, channel: Channel, chat_id: str) -> bool:
        """Lift the linking lock of a chat (support only); False if it was not locked."""
        locked = await self.locked_until(channel, chat_id) is not None
        await self._store.delete(f"rate:{_counter(channel, chat_id)}")
        return locked

    async def unlink(
        self, channel: Channel, chat_id: str, actor: str | None = None, reason: str | None = None
    ) -> bool:
        """Unlink the chat (the person, or the SAB with a reason); False if it was not linked."""
        link = await links.active_for(channel, chat_id)
        if link is None:
            return False
        await links.revoke(link.id)
        await audit.For(
            actor or f"chat:{channel.value}:{chat_id}",
            carteirinha=link.beneficiary.carteirinha,
            channel=channel,
        ).record(AuditKind.CHAT_UNLINKED, motivo=reason)
        return True


def _counter(channel: Channel, chat_id: str) -> str:
    return f"link-fail:{channel.value}:{chat_id}"
