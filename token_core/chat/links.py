"""Named queries of chat links: a chat identity proven to belong to a beneficiary. A link is
active until revoked; revoked links stay as history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from token_core.persistence.models import Beneficiary, ChatLink
from token_core.vocabulary import Channel, utc_now


async def active_for(channel: Channel, chat_id: str) -> ChatLink | None:
    """The chat's active link, with its beneficiary."""
    return (
        await ChatLink.filter(channel=channel, chat_id=chat_id, revoked_at=None)
        .select_related("beneficiary")
        .order_by("-id")
        .first()
    )


async def latest_of(beneficiary_id: int, channel: Channel) -> ChatLink | None:
    """The beneficiary's most recent active link on `channel`."""
    return (
        await ChatLink.filter(beneficiary_id=beneficiary_id, channel=channel, revoked_at=None)
        .order_by("-id")
        .first()
    )


async def chats_of(beneficiary_id: int, channel: Channel) -> list[str]:
    """Chat ids of every active link of the beneficiary on `channel`."""
    rows = await ChatLink.filter(
        beneficiary_id=beneficiary_id, channel=channel, revoked_at=None
    ).values_list("chat_id", flat=True)
    return [str(row) for row in rows]


async def channels_of(beneficiary_id: int) -> set[Channel]:
    """The channels on which the beneficiary has an active link."""
    rows = await ChatLink.filter(beneficiary_id=beneficiary_id, revoked_at=None).values_list(
        "channel", flat=True
    )
    return {Channel(str(row)) for row in rows}


async def link(channel: Channel, chat_id: str, beneficiary: Beneficiary) -> ChatLink:
    """Make `beneficiary` the chat's one active link (an earlier one is revoked)."""
    await ChatLink.filter(channel=channel, chat_id=chat_id, revoked_at=None).update(
        revoked_at=utc_now()
    )
    return await ChatLink.create(channel=channel, chat_id=chat_id, beneficiary=beneficiary)


async def revoke(link_id: int) -> None:
    await ChatLink.filter(id=link_id, revoked_at=None).update(revoked_at=utc_now())


async def revoke_of_carteirinhas(carteirinhas: Iterable[str], at: datetime) -> int:
    """Revoke every active link of these beneficiaries; how many were revoked."""
    return await ChatLink.filter(
        beneficiary__carteirinha__in=list(carteirinhas), revoked_at=None
    ).update(revoked_at=at)
