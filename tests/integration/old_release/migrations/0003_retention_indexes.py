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
        # Added by hand: on SQLite, tortoise 1.1 applies AlterField by rebuilding the
        # table without creating the field's index (PostgreSQL gets it above, under this
        # same generated name, so this is a no-op there). The retention sweep needs it.
        ops.RunSQL(
            'CREATE INDEX IF NOT EXISTS "idx_inbox_process_16c6e6" ON "inbox" ("processed_at")',
            reverse_sql=ops.RunSQL.noop,
        ),
    ]
