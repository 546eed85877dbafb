"""The receipt a linked chat gets when the dentist validates one of the beneficiary's guides."""

from __future__ import annotations

from handlers.chat import texts
from token_core.chat_messages import Outgoing
from token_core.issuance import BRASILIA
from token_core.models import Channel, ChatLink, Guide, GuideStatus
from token_core.storage.ports import EphemeralStore

CLAIM_SECONDS = 7 * 24 * 3600


async def receipts_for(
    numero: str, channel: Channel, store: EphemeralStore
) -> list[tuple[str, Outgoing]]:
    """(chat id, message) for every chat of `channel` linked to the guide's beneficiary.

    Every worker hears the event; the first to claim it in the shared store sends the receipt.
    """
    if not await store.set_if_absent(f"receipt:{channel.value}:{numero}", "1", CLAIM_SECONDS):
        return []
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
