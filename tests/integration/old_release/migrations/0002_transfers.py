from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('worker', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TransferRow',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('from_account_id', fields.CharField(max_length=64)),
                ('to_account_id', fields.CharField(max_length=64)),
                ('amount', fields.DecimalField(max_digits=24, decimal_places=4)),
                ('currency', fields.CharField(max_length=3)),
                ('state', fields.CharField(db_index=True, max_length=16)),
                ('reason', fields.TextField(default='', unique=False)),
                ('version', fields.IntField()),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'transfers', 'app': 'worker', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
