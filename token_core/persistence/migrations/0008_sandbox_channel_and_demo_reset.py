from tortoise import migrations
from tortoise.migrations import operations as ops
from token_core.vocabulary import AuditKind, Channel
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_client_roles_and_contact_sources')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='AuditEvent',
            name='channel',
            field=fields.CharEnumField(null=True, description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab\nSANDBOX: sandbox', enum_type=Channel, max_length=10),
        ),
        ops.AlterField(
            model_name='AuditEvent',
            name='kind',
            field=fields.CharEnumField(description='TOKEN_ISSUED: token.issued\nTOKEN_DELIVERED: token.delivered\nTOKEN_DELIVERY_FAILED: token.delivery_failed\nTOKEN_VALIDATED: token.validated\nTOKEN_REJECTED: token.rejected\nTOKEN_REVOKED: token.revoked\nTOKEN_RATE_LIMITED: token.rate_limited\nGUIDE_LOCKED: guide.locked\nGUIDE_UNLOCKED: guide.unlocked\nGUIDE_REGISTERED: guide.registered\nGUIDE_CANCELLED: guide.cancelled\nIDENTITY_MISMATCH: identity.mismatch\nCHAT_LINKED: chat.linked\nCHAT_LINK_REFUSED: chat.link_refused\nCHAT_LINK_LOCKED: chat.link_locked\nCHAT_UNLINKED: chat.unlinked\nFRAUD_REPORTED: fraud.reported\nHUMAN_REQUESTED: chat.human_requested\nHANDOFF_TAKEN: chat.handoff_taken\nHANDOFF_RETURNED: chat.handoff_returned\nHANDOFF_EXPIRED: chat.handoff_expired\nAGENT_MESSAGE: chat.agent_message\nCHAT_LINK_UNLOCKED: chat.link_unlocked\nCONTACT_CHANGED: beneficiary.contact_changed\nFRAUD_RESOLVED: fraud.resolved\nAGENT_LOGIN: agent.login\nAGENT_LOGIN_FAILED: agent.login_failed\nAGENT_CHANGED: agent.changed\nSAB_LOOKUP: sab.lookup\nCHAT_UPDATE_DROPPED: chat.update_dropped\nCHAT_DELIVERY_STATUS: chat.delivery_status\nDEMO_RESET: demo.reset', enum_type=AuditKind, max_length=32),
        ),
        ops.AlterField(
            model_name='Beneficiary',
            name='default_channel',
            field=fields.CharEnumField(null=True, description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab\nSANDBOX: sandbox', enum_type=Channel, max_length=10),
        ),
        ops.AlterField(
            model_name='ChatLink',
            name='channel',
            field=fields.CharEnumField(description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab\nSANDBOX: sandbox', enum_type=Channel, max_length=10),
        ),
        ops.AlterField(
            model_name='Conversation',
            name='channel',
            field=fields.CharEnumField(description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab\nSANDBOX: sandbox', enum_type=Channel, max_length=10),
        ),
        ops.AlterField(
            model_name='FraudReport',
            name='channel',
            field=fields.CharEnumField(description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab\nSANDBOX: sandbox', enum_type=Channel, max_length=10),
        ),
        ops.AlterField(
            model_name='Guide',
            name='validated_channel',
            field=fields.CharEnumField(null=True, description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab\nSANDBOX: sandbox', enum_type=Channel, max_length=10),
        ),
        ops.AlterField(
            model_name='TranscriptEntry',
            name='channel',
            field=fields.CharEnumField(description='SMS: sms\nEMAIL: email\nTELEGRAM: telegram\nWHATSAPP: whatsapp\nAPP: app\nSAB: sab\nSANDBOX: sandbox', enum_type=Channel, max_length=10),
        ),
    ]
