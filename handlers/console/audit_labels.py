"""How the Auditoria names what it shows: each audit kind and detail in pt-BR, times in
Brasília, and free text masked once more on the way out (audit rows hold no CPF, phone or code,
but a typed reason is free text and a WhatsApp chat id is a phone number).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from token_core.chat.redaction import mask_sensitive
from token_core.vocabulary import BRASILIA, AuditKind

KINDS = {
    AuditKind.TOKEN_ISSUED: "Código emitido",
    AuditKind.TOKEN_DELIVERED: "Código entregue",
    AuditKind.TOKEN_DELIVERY_FAILED: "Falha na entrega do código",
    AuditKind.TOKEN_VALIDATED: "Código validado",
    AuditKind.TOKEN_REJECTED: "Código recusado",
    AuditKind.TOKEN_REVOKED: "Código cancelado",
    AuditKind.TOKEN_RATE_LIMITED: "Limite de códigos atingido",
    AuditKind.GUIDE_LOCKED: "Guia bloqueada",
    AuditKind.GUIDE_UNLOCKED: "Guia desbloqueada",
    AuditKind.GUIDE_REGISTERED: "Guia registrada",
    AuditKind.GUIDE_CANCELLED: "Guia cancelada",
    AuditKind.IDENTITY_MISMATCH: "CPF não confere",
    AuditKind.CHAT_LINKED: "Chat vinculado",
    AuditKind.CHAT_LINK_REFUSED: "Vínculo de chat recusado",
    AuditKind.CHAT_LINK_LOCKED: "Vínculo de chat bloqueado",
    AuditKind.CHAT_UNLINKED: "Chat desvinculado",
    AuditKind.FRAUD_REPORTED: "Relato de fraude",
    AuditKind.HUMAN_REQUESTED: "Pediu atendente",
    AuditKind.HANDOFF_TAKEN: "Conversa assumida",
    AuditKind.HANDOFF_RETURNED: "Conversa devolvida ao bot",
    AuditKind.HANDOFF_EXPIRED: "Ninguém assumiu a conversa",
    AuditKind.AGENT_MESSAGE: "Mensagem do atendente",
    AuditKind.CHAT_LINK_UNLOCKED: "Vínculo de chat desbloqueado",
    AuditKind.CONTACT_CHANGED: "Contato alterado",
    AuditKind.FRAUD_RESOLVED: "Relato de fraude resolvido",
    AuditKind.AGENT_LOGIN: "Entrada no atendimento",
    AuditKind.AGENT_LOGIN_FAILED: "Entrada recusada",
    AuditKind.AGENT_CHANGED: "Agente alterado",
    AuditKind.SAB_LOOKUP: "Consulta no SAB",
}
DETAILS = {
    "expires_at": "vale até",
    "retry_at": "tentar após",
    "locked_until": "bloqueada até",
    "failures_left": "tentativas restantes",
    "live": "ativo",
    "scope": "escopo",
    "previous_code_kept": "código anterior mantido",
    "had_live_code": "havia código ativo",
    "usuario": "usuário",
}
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# A Telegram chat id is a plain number, not a phone: shown as it is (the console's URLs carry it).
_TELEGRAM_ACTOR = re.compile(r"chat:telegram:-?\d{1,20}", re.ASCII)


def kind_label(kind: AuditKind) -> str:
    return KINDS.get(kind, kind.value)


def actor(text: str) -> str:
    return text if _TELEGRAM_ACTOR.fullmatch(text) else mask_sensitive(text)


def value(raw: Any) -> str:
    if isinstance(raw, bool):
        return "sim" if raw else "não"
    text = str(raw)
    if _ISO.match(text):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return f"{moment.astimezone(BRASILIA):%d/%m %H:%M}"
        except ValueError:
            pass
    return mask_sensitive(text)


def details(detail: dict[str, Any], channel: str) -> str:
    shown = []
    for key, raw in sorted(detail.items()):
        if raw is None:
            continue
        if key == "chat":
            text = actor(f"chat:{channel}:{raw}").removeprefix(f"chat:{channel}:")
        else:
            text = value(raw)
        shown.append(f"{DETAILS.get(key, key)}: {text}")
    return ", ".join(shown)
