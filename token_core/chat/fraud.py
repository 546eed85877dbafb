""" "Não reconheço": the beneficiary disowns a code or a guide. The code stops working, support
gets a report and the chat waits for an agent, the dentist system gets `fraude.reportada`.
"""

from __future__ import annotations

import uuid

from token_core import audit, outbox
from token_core.chat.conversations import ChatRef, Conversations
from token_core.codes.single_use import Scope
from token_core.errors import GuideNotFound
from token_core.guides import queries as guide_queries
from token_core.persistence.models import Beneficiary, FraudReport
from token_core.persistence.transactions import atomic
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import AuditKind, Channel, EventType, iso_utc


class FraudReports:
    def __init__(self, store: EphemeralStore) -> None:
        self._store = store

    async def report(
        self, beneficiary: Beneficiary, guide: str | None, channel: Channel, chat_id: str
    ) -> FraudReport | None:
        """Report once per beneficiary and guide in ten minutes (a double tap is one report);
        None for a repeat. A guide that is not the beneficiary's raises GuideNotFound.
        """
        if guide is not None and await guide_queries.guide_of(guide, beneficiary.id) is None:
            raise GuideNotFound()
        once = f"fraud:{beneficiary.carteirinha}:{guide or '*'}"
        if not await self._store.set_if_absent(once, uuid.uuid4().hex, 600):
            return None
        await self._store.revoke_code(Scope(beneficiary.carteirinha, guide))
        async with atomic():
            report = await FraudReport.create(
                beneficiary=beneficiary, guide_numero=guide, channel=channel, chat_id=chat_id
            )
            await audit.For(
                f"chat:{channel.value}:{chat_id}",
                guide=guide,
                carteirinha=beneficiary.carteirinha,
                channel=channel,
            ).record(AuditKind.FRAUD_REPORTED)
            await outbox.enqueue(
                EventType.FRAUD_REPORTED,
                {
                    "numero": guide,
                    "carteirinha": beneficiary.carteirinha,
                    "canal": channel.value,
                    "relatado_em": iso_utc(report.at),
                },
            )
        chat = ChatRef(channel, chat_id)
        await Conversations(self._store).request_human(chat, beneficiary.id, fraud=True)
        return report
