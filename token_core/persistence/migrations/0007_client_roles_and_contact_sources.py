from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_inbound_and_delivery_audit')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ApiClient',
            name='role',
            field=fields.CharField(default='dentista', max_length=10),
        ),
        ops.AddField(
            model_name='Beneficiary',
            name='email_source',
            field=fields.CharField(null=True, max_length=10),
        ),
        ops.AddField(
            model_name='Beneficiary',
            name='mobile_source',
            field=fields.CharField(null=True, max_length=10),
        ),
    ]
