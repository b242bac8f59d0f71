from tortoise import fields, migrations

from worker.persistence.migration_ops import CreateModelIfAbsent


class Migration(migrations.Migration):
    initial = True

    # The framework's tables come first. Releases before the split created this table in
    # worker.0001_initial: on their databases this migration adopts it, unchanged.
    dependencies = [("worker", "0001_initial")]

    operations = [
        CreateModelIfAbsent(
            name="AccountRow",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                ("owner", fields.CharField(max_length=200)),
                ("currency", fields.CharField(max_length=3)),
                ("balance", fields.DecimalField(max_digits=24, decimal_places=4)),
                ("status", fields.CharField(max_length=16)),
                ("version", fields.IntField()),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "accounts", "app": "accounts", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
