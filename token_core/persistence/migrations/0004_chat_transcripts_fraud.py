from tortoise import migrations
from tortoise.migrations import operations as ops
from token_core.vocabulary import AuditKind, Channel, Direction
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_identity_mismatch_audit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FraudReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('beneficiary', fields.ForeignKeyField('models.Beneficiary', source_field='beneficiary_id', db_constraint=True, to_field='id', related_name='fraud_reports', on_delete=OnDelete.RESTRICT)),
                ('guide_numero', fields.CharField(null=True, max_length=30)),
                ('channel', fields.CharEnumField(description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab', enum_type=Channel, max_length=10)),
                ('chat_id', fields.CharField(max_length=64)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fraud_report', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A beneficiary said "não reconheço" about a code or a guide: for support to follow up.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TranscriptEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('channel', fields.CharEnumField(description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab', enum_type=Channel, max_length=10)),
                ('chat_id', fields.CharField(max_length=64)),
                ('direction', fields.CharEnumField(description='IN: in\nOUT: out', enum_type=Direction, max_length=3)),
                ('beneficiary', fields.ForeignKeyField('models.Beneficiary', source_field='beneficiary_id', null=True, db_constraint=True, to_field='id', related_name='transcript', on_delete=OnDelete.SET_NULL)),
                ('text', fields.TextField(unique=False)),
            ],
            options={'table': 'transcript_entry', 'app': 'models', 'indexes': [Index(fields=['channel', 'chat_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One chat message in or out, as support may read it: codes, CPFs and phones masked.'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='AuditEvent',
            name='kind',
            field=fields.CharEnumField(description='TOKEN_ISSUED: token.issued\nTOKEN_DELIVERED: token.delivered\nTOKEN_DELIVERY_FAILED: token.delivery_failed\nTOKEN_VALIDATED: token.validated\nTOKEN_REJECTED: token.rejected\nTOKEN_REVOKED: token.revoked\nTOKEN_RATE_LIMITED: token.rate_limited\nGUIDE_LOCKED: guide.locked\nGUIDE_UNLOCKED: guide.unlocked\nGUIDE_REGISTERED: guide.registered\nGUIDE_CANCELLED: guide.cancelled\nIDENTITY_MISMATCH: identity.mismatch\nCHAT_LINKED: chat.linked\nCHAT_LINK_REFUSED: chat.link_refused\nCHAT_LINK_LOCKED: chat.link_locked\nCHAT_UNLINKED: chat.unlinked\nFRAUD_REPORTED: fraud.reported\nHUMAN_REQUESTED: chat.human_requested', enum_type=AuditKind, max_length=32),
        ),
    ]
