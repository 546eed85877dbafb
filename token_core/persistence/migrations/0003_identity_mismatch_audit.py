from tortoise import migrations
from tortoise.migrations import operations as ops
from token_core.vocabulary import AuditKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_api_clients_and_outbox')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='AuditEvent',
            name='kind',
            field=fields.CharEnumField(description='TOKEN_ISSUED: token.issued\nTOKEN_DELIVERED: token.delivered\nTOKEN_DELIVERY_FAILED: token.delivery_failed\nTOKEN_VALIDATED: token.validated\nTOKEN_REJECTED: token.rejected\nTOKEN_REVOKED: token.revoked\nTOKEN_RATE_LIMITED: token.rate_limited\nGUIDE_LOCKED: guide.locked\nGUIDE_UNLOCKED: guide.unlocked\nGUIDE_REGISTERED: guide.registered\nGUIDE_CANCELLED: guide.cancelled\nIDENTITY_MISMATCH: identity.mismatch', enum_type=AuditKind, max_length=32),
        ),
    ]
