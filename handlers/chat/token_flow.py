"""The linked beneficiary's token requests: the card, the choice of guide, "não reconheço"."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from handlers.chat import texts
from token_core.chat.fraud import FraudReports
from token_core.chat.messages import Button, Incoming, Outgoing, Reply
from token_core.codes.generation import SecretCode
from token_core.codes.issuance import IssuedCode, TokenIssuer
from token_core.delivery.port import CodeMessage, GuideSummary
from token_core.errors import BeneficiaryInactive, GuideConflict, GuideNotFound, RateLimited
from token_core.guides import queries as guide_queries
from token_core.persistence.models import Beneficiary, Guide
from token_core.vocabulary import BRASILIA

GUIDE_PREFIX = "g:"
FRAUD_PREFIX = "f:"
NEXT_GUIDE = "*"


def _guide_line(guide: Guide | GuideSummary) -> str:
    if isinstance(guide, Guide):
        procedures = ", ".join(str(p.get("descricao", "")) for p in guide.procedures)
    else:
        procedures = ", ".join(guide.procedures)
    registered = guide.created_at if isinstance(guide, Guide) else guide.registered_at
    return texts.TOKEN_GUIDE_LINE.format(
        numero=guide.numero,
        data=f"{registered.astimezone(BRASILIA):%d/%m/%Y}" if registered else "hoje",
        dentista=guide.dentist_name,
        cro=guide.dentist_cro,
        clinica=f", {guide.clinic}" if guide.clinic else "",
        procedimentos=f": {procedures}" if procedures else "",
    )


def token_card(issued: IssuedCode, ttl_minutes: int) -> Outgoing:
    card = code_card(issued.code, issued.expires_at, ttl_minutes, issued.guide)
    return replace(card, issued=issued)


def code_card(
    code: SecretCode, expires_at: datetime, ttl_minutes: int, guide: Guide | GuideSummary | None
) -> Outgoing:
    """The message that carries a code: what it authorises, how long, and the two buttons."""
    guide_line = _guide_line(guide) if guide else texts.TOKEN_NO_GUIDE_LINE
    text = texts.TOKEN_CARD.format(
        codigo=code.reveal(),
        hora=f"{expires_at.astimezone(BRASILIA):%H:%M}",
        minutos=ttl_minutes,
        guia=guide_line,
    )
    target = guide.numero if guide else NEXT_GUIDE
    buttons = (
        (Button(texts.COPY_BUTTON, copy_code=code),),
        (Button(texts.NOT_MINE_BUTTON, data=FRAUD_PREFIX + target),),
    )
    return Outgoing(text, buttons=buttons, code=code, expires_at=expires_at)


def card_for_message(message: CodeMessage) -> Outgoing:
    """The same card for a code the dentist system asked us to push to the chat."""
    return code_card(message.code, message.expires_at, message.ttl_minutes, message.guide)


class TokenFlow:
    def __init__(self, issuer: TokenIssuer, fraud: FraudReports, ttl_minutes: int) -> None:
        self._issuer = issuer
        self._fraud = fraud
        self._ttl_minutes = ttl_minutes

    async def generate(self, msg: Incoming, beneficiary: Beneficiary) -> Reply:
        waiting = await guide_queries.awaiting(beneficiary.id)
        if len(waiting) > 1:
            rows = tuple(
                (Button(f"{g.numero} · {g.dentist_name}", data=GUIDE_PREFIX + g.numero),)
                for g in waiting[:8]
            )
            return Reply((Outgoing(texts.CHOOSE_GUIDE.format(n=len(waiting)), buttons=rows),))
        return await self._issue(msg, beneficiary, waiting[0].numero if waiting else None)

    async def chosen(self, msg: Incoming, beneficiary: Beneficiary, numero: str) -> Reply:
        guide = await guide_queries.guide_of(numero, beneficiary.id)
        if guide is None:
            return Reply((Outgoing(texts.GUIDE_GONE),), notice=texts.GUIDE_GONE)
        return await self._issue(msg, beneficiary, numero)

    async def _issue(self, msg: Incoming, beneficiary: Beneficiary, numero: str | None) -> Reply:
        actor = f"chat:{msg.channel.value}:{msg.chat_id}"
        try:
            if numero is None:
                issued = await self._issuer.for_beneficiary(
                    beneficiary.carteirinha, msg.channel, actor
                )
            else:
                issued = await self._issuer.for_guide(numero, msg.channel, actor)
        except RateLimited as exc:
            return Reply((Outgoing(str(exc)),))
        except BeneficiaryInactive:
            return Reply((Outgoing(texts.INACTIVE_LINKED),))
        except (GuideConflict, GuideNotFound):
            return Reply((Outgoing(texts.GUIDE_GONE),))
        return Reply((token_card(issued, self._ttl_minutes),))

    async def not_mine(self, msg: Incoming, beneficiary: Beneficiary, target: str) -> Reply:
        numero = None if target == NEXT_GUIDE else target
        try:
            await self._fraud.report(beneficiary, numero, msg.channel, msg.chat_id)
        except GuideNotFound:  # forged button data: not one of the person's guides
            return Reply((Outgoing(texts.GUIDE_GONE),), notice=texts.GUIDE_GONE)
        thanks = Outgoing(texts.FRAUD_THANKS, delete_message_id=msg.message_id)
        return Reply((thanks,), notice=texts.FRAUD_THANKS.split("\n")[0])
