"""Durable records (Tortoise ORM). After changing one, generate a migration:
`.venv/bin/tortoise -c bot.tortoise_dev.TORTOISE_ORM makemigrations` (see DEVELOPERS.md).
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.expressions import F
from tortoise.models import Model

from token_core.vocabulary import AuditKind, Channel, Direction, GuideStatus


def bump(field: str, by: int = 1) -> F:
    """An update expression adding `by` to a column (computed by the database)."""
    return F(field) + by  # type: ignore[return-value]


class Beneficiary(Model):
    """A plan member. The CPF is kept only as a keyed look-up hash and a masked form."""

    id = fields.IntField(primary_key=True)
    carteirinha = fields.CharField(max_length=20, unique=True)
    cpf_hash = fields.CharField(max_length=64, db_index=True)
    cpf_masked = fields.CharField(max_length=14)
    name = fields.CharField(max_length=200)
    mobile = fields.CharField(max_length=16, null=True)
    email = fields.CharField(max_length=254, null=True)
    # Where each contact came from: "registry" (the operator's import), "flow" (first contact
    # typed by the dentist system and proven), "sab" (changed by support). A registry import
    # with an empty cell does not erase a contact that did not come from the registry.
    mobile_source = fields.CharField(max_length=10, null=True)
    email_source = fields.CharField(max_length=10, null=True)
    active = fields.BooleanField(default=True)
    default_channel = fields.CharEnumField(Channel, max_length=10, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "beneficiary"

    def __str__(self) -> str:
        return f"Beneficiary {self.carteirinha}"


class ChatLink(Model):
    """A chat identity proven to belong to a beneficiary. Revoked links are kept as history."""

    id = fields.IntField(primary_key=True)
    channel = fields.CharEnumField(Channel, max_length=10)
    chat_id = fields.CharField(max_length=64)
    beneficiary: fields.ForeignKeyRelation[Beneficiary] = fields.ForeignKeyField(
        "models.Beneficiary", related_name="chat_links", on_delete=fields.RESTRICT
    )
    linked_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "chat_link"
        indexes = (("channel", "chat_id"),)


class Guide(Model):
    """A treatment guide (GTO) registered by the dentist system."""

    id = fields.IntField(primary_key=True)
    numero = fields.CharField(max_length=30, unique=True)
    beneficiary: fields.ForeignKeyRelation[Beneficiary] = fields.ForeignKeyField(
        "models.Beneficiary", related_name="guides", on_delete=fields.RESTRICT
    )
    dentist_name = fields.CharField(max_length=200)
    dentist_cro = fields.CharField(max_length=20)
    clinic = fields.CharField(max_length=200, default="")
    procedures: Any = fields.JSONField(default=list)
    status = fields.CharEnumField(GuideStatus, max_length=20, default=GuideStatus.AWAITING_TOKEN)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    validated_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    validation_code = fields.CharField(max_length=10, null=True)
    validated_channel = fields.CharEnumField(Channel, max_length=10, null=True)

    class Meta:
        table = "guide"
        indexes = (("beneficiary_id", "status", "created_at"),)


class AuditEvent(Model):
    """Append-only record of what happened to codes and guides. Never holds a code or a CPF."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    kind = fields.CharEnumField(AuditKind, max_length=32)
    guide_numero = fields.CharField(max_length=30, null=True, db_index=True)
    carteirinha = fields.CharField(max_length=20, null=True, db_index=True)
    channel = fields.CharEnumField(Channel, max_length=10, null=True)
    actor = fields.CharField(max_length=64)
    reason = fields.CharField(max_length=64, null=True)
    detail: Any = fields.JSONField(default=dict)

    class Meta:
        table = "audit_event"

    async def save(self, *args: Any, **kwargs: Any) -> None:
        if self._saved_in_db:
            raise RuntimeError("audit events are append-only")
        await super().save(*args, **kwargs)


class ApiClient(Model):
    """A system allowed to call the API (the dentist system, the reference portal).

    Secrets are stored encrypted (Fernet, key from the environment); two may be valid at once
    so a client can rotate without downtime.
    """

    id = fields.IntField(primary_key=True)
    client_id = fields.CharField(max_length=64, unique=True)
    # "dentista" (the dentist system: guides, codes by channel, validation; never receives a
    # code) or "app" (the operator's app backend: receives a code for its logged-in beneficiary,
    # cannot validate or register guides).
    role = fields.CharField(max_length=10, default="dentista")
    secret_current = fields.TextField()
    secret_previous = fields.TextField(null=True)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    rotated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_client"


class OutboxEvent(Model):
    """An event for the dentist system, written in the same transaction as the change it tells
    about and delivered by the callback dispatcher until the receiver acknowledges it.
    """

    id = fields.BigIntField(primary_key=True)
    event_id = fields.UUIDField(unique=True)
    event_type = fields.CharField(max_length=40)
    payload: Any = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    available_at = fields.DatetimeField(db_index=True)
    attempts = fields.IntField(default=0)
    delivered_at = fields.DatetimeField(null=True, db_index=True)
    last_error = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "outbox_event"


class TranscriptEntry(Model):
    """One chat message in or out, as support may read it: codes, CPFs and phones masked."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    channel = fields.CharEnumField(Channel, max_length=10)
    chat_id = fields.CharField(max_length=64)
    direction = fields.CharEnumField(Direction, max_length=3)
    beneficiary: fields.ForeignKeyNullableRelation[Beneficiary] = fields.ForeignKeyField(
        "models.Beneficiary", related_name="transcript", null=True, on_delete=fields.SET_NULL
    )
    text = fields.TextField()

    class Meta:
        table = "transcript_entry"
        indexes = (("channel", "chat_id", "id"),)


class FraudReport(Model):
    """A beneficiary said "não reconheço" about a code or a guide: for support to follow up."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    beneficiary: fields.ForeignKeyRelation[Beneficiary] = fields.ForeignKeyField(
        "models.Beneficiary", related_name="fraud_reports", on_delete=fields.RESTRICT
    )
    guide_numero = fields.CharField(max_length=30, null=True)
    channel = fields.CharEnumField(Channel, max_length=10)
    chat_id = fields.CharField(max_length=64)
    resolved_at = fields.DatetimeField(null=True)
    outcome = fields.CharField(max_length=20, null=True)  # procedente | improcedente
    note = fields.TextField(null=True)  # the agent's note (masked)
    resolved_by = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "fraud_report"


class Agent(Model):
    """A support (SAB) agent who uses the console. Only an argon2id hash of the password."""

    id = fields.IntField(primary_key=True)
    login = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=120)
    role = fields.CharField(max_length=12)  # atendente | supervisor
    password_hash = fields.CharField(max_length=200)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    password_set_at = fields.DatetimeField(null=True)

    class Meta:
        table = "agent"


class Conversation(Model):
    """One chat as support sees it: who it is, its last message and who is answering it."""

    id = fields.IntField(primary_key=True)
    channel = fields.CharEnumField(Channel, max_length=10)
    chat_id = fields.CharField(max_length=64)
    beneficiary: fields.ForeignKeyNullableRelation[Beneficiary] = fields.ForeignKeyField(
        "models.Beneficiary", related_name="conversations", null=True, on_delete=fields.SET_NULL
    )
    state = fields.CharField(max_length=24, default="bot", db_index=True)
    agent_login = fields.CharField(max_length=40, null=True)
    requested_at = fields.DatetimeField(null=True)
    taken_at = fields.DatetimeField(null=True)
    last_at = fields.DatetimeField(null=True, db_index=True)
    last_text = fields.CharField(max_length=200, default="")
    fraud = fields.BooleanField(default=False)

    class Meta:
        table = "conversation"
        unique_together = (("channel", "chat_id"),)
