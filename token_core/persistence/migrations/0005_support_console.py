from tortoise import migrations
from tortoise.migrations import operations as ops
from token_core.vocabulary import AuditKind, Channel
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_chat_transcripts_fraud')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Agent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('login', fields.CharField(unique=True, max_length=40)),
                ('name', fields.CharField(max_length=120)),
                ('role', fields.CharField(max_length=12)),
                ('password_hash', fields.CharField(max_length=200)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('password_set_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'agent', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A support (SAB) agent who uses the console. Only an argon2id hash of the password.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.CharEnumField(description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab', enum_type=Channel, max_length=10)),
                ('chat_id', fields.CharField(max_length=64)),
                ('beneficiary', fields.ForeignKeyField('models.Beneficiary', source_field='beneficiary_id', null=True, db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.SET_NULL)),
                ('state', fields.CharField(default='bot', db_index=True, max_length=24)),
                ('agent_login', fields.CharField(null=True, max_length=40)),
                ('requested_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('taken_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('last_text', fields.CharField(default='', max_length=200)),
                ('fraud', fields.BooleanField(default=False)),
            ],
            options={'table': 'conversation', 'app': 'models', 'unique_together': (('channel', 'chat_id'),), 'pk_attr': 'id', 'table_description': 'One chat as support sees it: who it is, its last message and who is answering it.'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='AuditEvent',
            name='kind',
            field=fields.CharEnumField(description='TOKEN_ISSUED: token.issued\nTOKEN_DELIVERED: token.delivered\nTOKEN_DELIVERY_FAILED: token.delivery_failed\nTOKEN_VALIDATED: token.validated\nTOKEN_REJECTED: token.rejected\nTOKEN_REVOKED: token.revoked\nTOKEN_RATE_LIMITED: token.rate_limited\nGUIDE_LOCKED: guide.locked\nGUIDE_UNLOCKED: guide.unlocked\nGUIDE_REGISTERED: guide.registered\nGUIDE_CANCELLED: guide.cancelled\nIDENTITY_MISMATCH: identity.mismatch\nCHAT_LINKED: chat.linked\nCHAT_LINK_REFUSED: chat.link_refused\nCHAT_LINK_LOCKED: chat.link_locked\nCHAT_UNLINKED: chat.unlinked\nFRAUD_REPORTED: fraud.reported\nHUMAN_REQUESTED: chat.human_requested\nHANDOFF_TAKEN: chat.handoff_taken\nHANDOFF_RETURNED: chat.handoff_returned\nHANDOFF_EXPIRED: chat.handoff_expired\nAGENT_MESSAGE: chat.agent_message\nCHAT_LINK_UNLOCKED: chat.link_unlocked\nCONTACT_CHANGED: beneficiary.contact_changed\nFRAUD_RESOLVED: fraud.resolved\nAGENT_LOGIN: agent.login\nAGENT_LOGIN_FAILED: agent.login_failed\nAGENT_CHANGED: agent.changed\nSAB_LOOKUP: sab.lookup', enum_type=AuditKind, max_length=32),
        ),
        ops.AddField(
            model_name='FraudReport',
            name='note',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='FraudReport',
            name='outcome',
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name='FraudReport',
            name='resolved_by',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
