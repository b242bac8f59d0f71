from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('worker', '0003_retention_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditRow',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('operator', fields.CharField(max_length=200)),
                ('action', fields.CharField(max_length=64)),
                ('target', fields.CharField(max_length=255)),
                ('reason', fields.TextField(unique=False)),
                ('before', fields.TextField(null=True, unique=False)),
                ('after', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'audit_log', 'app': 'worker', 'pk_attr': 'id', 'table_description': 'One operator action: who, when, what, on what, why, and the state before and after.'},
            bases=['Model'],
        ),
    ]
