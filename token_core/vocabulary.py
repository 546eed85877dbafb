"""The core's words, free of any framework: channels, guide statuses, audit kinds, message
directions, and the one way each time is written (UTC with "Z" for machines, Brasília for
people).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

BRASILIA = ZoneInfo("America/Sao_Paulo")


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    APP = "app"
    SAB = "sab"
    SANDBOX = "sandbox"  # the local web chat of the demo (development only)


# The chat channels, with the name a person reads.
CHAT_CHANNELS = {
    Channel.TELEGRAM: "Telegram",
    Channel.WHATSAPP: "WhatsApp",
    Channel.SANDBOX: "Sandbox",
}


class GuideStatus(enum.StrEnum):
    AWAITING_TOKEN = "AGUARDANDO_TOKEN"
    VALIDATED = "VALIDADA"
    CANCELLED = "CANCELADA"


class AuditKind(enum.StrEnum):
    TOKEN_ISSUED = "token.issued"
    TOKEN_DELIVERED = "token.delivered"
    TOKEN_DELIVERY_FAILED = "token.delivery_failed"
    TOKEN_VALIDATED = "token.validated"
    TOKEN_REJECTED = "token.rejected"
    TOKEN_REVOKED = "token.revoked"
    TOKEN_RATE_LIMITED = "token.rate_limited"
    GUIDE_LOCKED = "guide.locked"
    GUIDE_UNLOCKED = "guide.unlocked"
    GUIDE_REGISTERED = "guide.registered"
    GUIDE_CANCELLED = "guide.cancelled"
    IDENTITY_MISMATCH = "identity.mismatch"
    CHAT_LINKED = "chat.linked"
    CHAT_LINK_REFUSED = "chat.link_refused"
    CHAT_LINK_LOCKED = "chat.link_locked"
    CHAT_UNLINKED = "chat.unlinked"
    FRAUD_REPORTED = "fraud.reported"
    HUMAN_REQUESTED = "chat.human_requested"
    HANDOFF_TAKEN = "chat.handoff_taken"
    HANDOFF_RETURNED = "chat.handoff_returned"
    HANDOFF_EXPIRED = "chat.handoff_expired"
    AGENT_MESSAGE = "chat.agent_message"
    CHAT_LINK_UNLOCKED = "chat.link_unlocked"
    CONTACT_CHANGED = "beneficiary.contact_changed"
    FRAUD_RESOLVED = "fraud.resolved"
    AGENT_LOGIN = "agent.login"
    AGENT_LOGIN_FAILED = "agent.login_failed"
    AGENT_CHANGED = "agent.changed"
    SAB_LOOKUP = "sab.lookup"
    CHAT_UPDATE_DROPPED = "chat.update_dropped"
    CHAT_DELIVERY_STATUS = "chat.delivery_status"  # a platform's sent / delivered / read / failed
    DEMO_RESET = "demo.reset"  # the demo guides awaiting a token again (development)
    PRIVACY_PURGED = "privacy.purged"  # `odontoken purge`: what the retention periods removed
    SUBJECT_EXPORTED = "privacy.exported"  # everything held about a person, printed
    SUBJECT_ERASED = "privacy.erased"  # a person's data removed, the trail pseudonymised


class ConversationState(enum.StrEnum):
    """Who answers a chat, as the console shows it."""

    BOT = "bot"
    WAITING = "aguardando atendente"
    WITH_AGENT = "em atendimento"
    CLOSED = "encerrada"


class AgentRole(enum.StrEnum):
    ATTENDANT = "atendente"
    SUPERVISOR = "supervisor"


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class EventType(enum.StrEnum):
    """Outbox events: for the dentist system, or (internal) for our own workers."""

    GUIDE_VALIDATED = "guia.validada"
    GUIDE_CANCELLED = "guia.cancelada"
    TOKEN_SENT = "token.enviado"
    FRAUD_REPORTED = "fraude.reportada"
    CHAT_RECEIPT = "recibo.chat"  # internal: our chat channels tell the beneficiary
    CONTACT_CHANGED = "beneficiario.contato_alterado"
    FRAUD_RESOLVED = "fraude.resolvida"


# Events for our own workers, never posted to the dentist system.
INTERNAL_EVENTS = frozenset({EventType.CHAT_RECEIPT.value})


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with "Z", as the API and the events write datetimes."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def format_retry(retry_at: datetime) -> str:
    """A time a person in Brazil reads: "14:35 (horário de Brasília)"."""
    return f"{retry_at.astimezone(BRASILIA):%H:%M} (horário de Brasília)"
