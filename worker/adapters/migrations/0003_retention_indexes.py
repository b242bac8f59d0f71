from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('worker', '0002_transfers')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='InboxRow',
            name='processed_at',
            field=fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True),
        ),
    ]
