from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from token_core.vocabulary import AuditKind, Channel, GuideStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('kind', fields.CharEnumField(description='TOKEN_ISSUED: token.issued\nTOKEN_DELIVERED: token.delivered\nTOKEN_DELIVERY_FAILED: token.delivery_failed\nTOKEN_VALIDATED: token.validated\nTOKEN_REJECTED: token.rejected\nTOKEN_REVOKED: token.revoked\nTOKEN_RATE_LIMITED: token.rate_limited\nGUIDE_LOCKED: guide.locked\nGUIDE_UNLOCKED: guide.unlocked\nGUIDE_REGISTERED: guide.registered\nGUIDE_CANCELLED: guide.cancelled', enum_type=AuditKind, max_length=32)),
                ('guide_numero', fields.CharField(null=True, db_index=True, max_length=30)),
                ('carteirinha', fields.CharField(null=True, db_index=True, max_length=20)),
                ('channel', fields.CharEnumField(null=True, description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab', enum_type=Channel, max_length=10)),
                ('actor', fields.CharField(max_length=64)),
                ('reason', fields.CharField(null=True, max_length=64)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only record of what happened to codes and guides. Never holds a code or a CPF.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Beneficiary',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('carteirinha', fields.CharField(unique=True, max_length=20)),
                ('cpf_hash', fields.CharField(db_index=True, max_length=64)),
                ('cpf_masked', fields.CharField(max_length=14)),
                ('name', fields.CharField(max_length=200)),
                ('mobile', fields.CharField(null=True, max_length=16)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('active', fields.BooleanField(default=True)),
                ('default_channel', fields.CharEnumField(null=True, description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab', enum_type=Channel, max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'beneficiary', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A plan member. The CPF is kept only as a keyed look-up hash and a masked form.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChatLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.CharEnumField(description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab', enum_type=Channel, max_length=10)),
                ('chat_id', fields.CharField(max_length=64)),
                ('beneficiary', fields.ForeignKeyField('models.Beneficiary', source_field='beneficiary_id', db_constraint=True, to_field='id', related_name='chat_links', on_delete=OnDelete.RESTRICT)),
                ('linked_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'chat_link', 'app': 'models', 'indexes': [Index(fields=['channel', 'chat_id'])], 'pk_attr': 'id', 'table_description': 'A chat identity proven to belong to a beneficiary. Revoked links are kept as history.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Guide',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('numero', fields.CharField(unique=True, max_length=30)),
                ('beneficiary', fields.ForeignKeyField('models.Beneficiary', source_field='beneficiary_id', db_constraint=True, to_field='id', related_name='guides', on_delete=OnDelete.RESTRICT)),
                ('dentist_name', fields.CharField(max_length=200)),
                ('dentist_cro', fields.CharField(max_length=20)),
                ('clinic', fields.CharField(default='', max_length=200)),
                ('procedures', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=GuideStatus.AWAITING_TOKEN, description='AWAITING_TOKEN: AGUARDANDO_TOKEN\nVALIDATED: VALIDADA\nCANCELLED: CANCELADA', enum_type=GuideStatus, max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('validated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('validation_code', fields.CharField(null=True, max_length=10)),
                ('validated_channel', fields.CharEnumField(null=True, description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab', enum_type=Channel, max_length=10)),
            ],
            options={'table': 'guide', 'app': 'models', 'indexes': [Index(fields=['beneficiary_id', 'status', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A treatment guide (GTO) registered by the dentist system.'},
            bases=['Model'],
        ),
    ]
