"""The receipt a linked chat gets when the dentist validates one of the beneficiary's guides."""

from __future__ import annotations

from handlers.chat import texts
from token_core.chat import links
from token_core.chat.messages import Outgoing
from token_core.guides import queries as guide_queries
from token_core.vocabulary import BRASILIA, Channel, GuideStatus


async def receipt_messages(numero: str, channel: Channel) -> list[tuple[str, Outgoing]]:
    """(chat id, message) for every chat of `channel` linked to the guide's beneficiary."""
    guide = await guide_queries.with_beneficiary(numero)
    if guide is None or guide.status is not GuideStatus.VALIDATED or guide.validated_at is None:
        return []
    text = texts.RECEIPT.format(
        numero=guide.numero,
        hora=f"{guide.validated_at.astimezone(BRASILIA):%H:%M}",
        dentista=guide.dentist_name,
    )
    return [
        (chat_id, Outgoing(text)) for chat_id in await links.chats_of(guide.beneficiary.id, channel)
    ]
