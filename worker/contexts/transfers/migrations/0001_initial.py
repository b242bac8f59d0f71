from tortoise import fields, migrations

from worker.persistence.migration_ops import CreateModelIfAbsent


class Migration(migrations.Migration):
    initial = True

    # The framework's tables come first. Releases before the split created this table in
    # worker.0002_transfers: on their databases this migration adopts it, unchanged.
    dependencies = [("worker", "0001_initial")]

    operations = [
        CreateModelIfAbsent(
            name="TransferRow",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                ("from_account_id", fields.CharField(max_length=64)),
                ("to_account_id", fields.CharField(max_length=64)),
                ("amount", fields.DecimalField(max_digits=24, decimal_places=4)),
                ("currency", fields.CharField(max_length=3)),
                ("state", fields.CharField(db_index=True, max_length=16)),
                ("reason", fields.TextField(default="", unique=False)),
                ("version", fields.IntField()),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "transfers", "app": "transfers", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
