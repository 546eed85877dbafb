"""A beneficiary's page as an agent sees it: masked data, chats, guides, events, and the forms
of the SAB actions (rendered again with an error, or with the code given by phone, once).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.console.config import AGENT
from handlers.console.render import page
from token_core import audit
from token_core.persistence.models import AuditEvent
from token_core.registry import beneficiaries as registry
from token_core.support import views
from token_core.vocabulary import CHAT_CHANNELS, AuditKind, Channel, GuideStatus

CARTEIRINHA = re.compile(r"[0-9A-Za-z.-]{1,20}", re.ASCII)

CHANNEL_NAMES = {
    Channel.SMS.value: "SMS",
    Channel.EMAIL.value: "E-mail",
    Channel.TELEGRAM.value: "Telegram",
    Channel.WHATSAPP.value: "WhatsApp",
    Channel.APP.value: "App",
    Channel.SAB.value: "SAB (telefone)",
}
STATUS_NAMES = {
    GuideStatus.AWAITING_TOKEN: "aguardando token",
    GuideStatus.VALIDATED: "validada",
    GuideStatus.CANCELLED: "cancelada",
}
EVENT_NAMES = {
    AuditKind.TOKEN_ISSUED: "código gerado",
    AuditKind.TOKEN_DELIVERED: "código entregue",
    AuditKind.TOKEN_DELIVERY_FAILED: "falha no envio do código",
    AuditKind.TOKEN_VALIDATED: "guia validada",
    AuditKind.TOKEN_REJECTED: "código recusado",
    AuditKind.TOKEN_REVOKED: "código cancelado",
    AuditKind.TOKEN_RATE_LIMITED: "limite de códigos atingido",
    AuditKind.GUIDE_LOCKED: "guia bloqueada",
    AuditKind.GUIDE_UNLOCKED: "guia desbloqueada",
    AuditKind.GUIDE_REGISTERED: "guia registrada",
    AuditKind.GUIDE_CANCELLED: "guia cancelada",
    AuditKind.IDENTITY_MISMATCH: "CPF não confere",
    AuditKind.CHAT_LINKED: "chat vinculado",
    AuditKind.CHAT_LINK_REFUSED: "vínculo de chat recusado",
    AuditKind.CHAT_LINK_LOCKED: "vínculo de chat bloqueado",
    AuditKind.CHAT_LINK_UNLOCKED: "vínculo de chat desbloqueado",
    AuditKind.CHAT_UNLINKED: "chat desvinculado",
    AuditKind.FRAUD_REPORTED: "relato de fraude",
    AuditKind.FRAUD_RESOLVED: "relato de fraude resolvido",
    AuditKind.CONTACT_CHANGED: "contato alterado",
    AuditKind.HUMAN_REQUESTED: "pediu atendente",
}
DONE = {
    "celular": "Celular alterado. Os chats vinculados e os códigos em aberto foram cancelados.",
    "email": "E-mail alterado. Os códigos em aberto foram cancelados.",
    "guia": "Guia desbloqueada. O dentista já pode validar o código.",
    "guia-livre": "Esta guia não estava bloqueada.",
    "vinculo": "Vínculo desbloqueado. O beneficiário já pode vincular o chat de novo.",
    "vinculo-livre": "Este chat não estava bloqueado.",
    "desvinculado": "Chat desvinculado. A conversa foi encerrada.",
    "desvinculado-livre": "Este chat já não estava vinculado.",
}


def carteirinha_of(request: web.Request) -> str:
    carteirinha = request.match_info["carteirinha"]
    if not CARTEIRINHA.fullmatch(carteirinha):
        raise web.HTTPNotFound()
    return carteirinha


def event_line(event: AuditEvent) -> dict[str, Any]:
    detail = event.detail if isinstance(event.detail, dict) else {}
    actor = event.actor.removeprefix("agent:") if event.actor.startswith("agent:") else None
    return {
        "quando": event.at,
        "o_que": EVENT_NAMES.get(event.kind, event.kind.value),
        "canal": CHANNEL_NAMES.get(event.channel.value, "") if event.channel else "",
        "guia": event.guide_numero,
        "agente": actor,
        "motivo": detail.get("motivo"),
    }


async def locked_chats(request: web.Request, beneficiary_id: int) -> list[dict[str, Any]]:
    """Recent chats now locked out of linking, for "Desbloquear vínculo"."""
    linking = request.app[SERVICES].linking
    found = []
    for row in await views.linking_candidates(beneficiary_id):
        until = await linking.locked_until(row.channel, row.chat_id)
        if until is not None:
            found.append(
                {
                    "valor": f"{row.channel.value}:{row.chat_id}",
                    "nome": CHAT_CHANNELS.get(row.channel, "chat"),
                    "ultima": row.last_text,
                    "ultima_em": row.last_at,
                    "ate": until,
                }
            )
    return found


async def render(
    request: web.Request, carteirinha: str, status: int = 200, **extra: Any
) -> web.Response:
    """The page, with `erro` (action, message), `codigo`, `form` (kept values, never a CPF)."""
    ben = await registry.by_carteirinha(carteirinha)
    if ben is None:
        raise web.HTTPNotFound()
    panel = await views.beneficiary_panel(ben.id)
    assert panel is not None
    waiting = await views.awaiting_guides(ben.id)
    locks = await views.guide_locks([g.numero for g in waiting])
    waiting_rows = [{"guia": g, "bloqueio": locks.get(g.numero)} for g in waiting]
    agent = request[AGENT]
    await audit.For(agent.actor, carteirinha=carteirinha).record(AuditKind.SAB_LOOKUP)
    context: dict[str, Any] = {
        "painel": panel,
        "canal_padrao": CHANNEL_NAMES.get(panel.default_channel or "", "nenhum"),
        "guias": [
            {"guia": g, "situacao": STATUS_NAMES[g.status], "bloqueio": locks.get(g.numero)}
            for g in panel.guides
        ],
        "aguardando": waiting_rows,
        "aguardando_bloqueadas_antes": sorted(waiting_rows, key=lambda a: a["bloqueio"] is None),
        "eventos": [event_line(e) for e in panel.events],
        "chats_bloqueados": await locked_chats(request, ben.id),
        "feito": DONE.get(request.query.get("feito", "")),
        "erro": None,
        "codigo": None,
        "form": {},
    }
    context.update(extra)
    return page(request, "beneficiario.html", status=status, **context)
