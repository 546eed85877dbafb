"""The receipt a linked chat gets when the dentist validates one of the beneficiary's guides."""

from __future__ import annotations

from handlers.chat import texts
from token_core.chat.messages import Outgoing
from token_core.codes.issuance import BRASILIA
from token_core.persistence.models import Channel, ChatLink, Guide, GuideStatus


async def receipt_messages(numero: str, channel: Channel) -> list[tuple[str, Outgoing]]:
    """(chat id, message) for every chat of `channel` linked to the guide's beneficiary."""
    guide = await Guide.get_or_none(numero=numero)
    if guide is None or guide.status is not GuideStatus.VALIDATED or guide.validated_at is None:
        return []
    chats = await ChatLink.filter(
        beneficiary_id=guide.beneficiary_id,  # type: ignore[attr-defined]
        channel=channel,
        revoked_at=None,
    ).values_list("chat_id", flat=True)
    text = texts.RECEIPT.format(
        numero=guide.numero,
        hora=f"{guide.validated_at.astimezone(BRASILIA):%H:%M}",
        dentista=guide.dentist_name,
    )
    return [(str(chat_id), Outgoing(text)) for chat_id in chats]
