from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    # The framework's tables come first.
    dependencies = [("worker", "0001_initial")]

    operations = [
        ops.CreateModel(
            name="CustomerRow",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                ("name", fields.CharField(max_length=200)),
                ("email", fields.CharField(max_length=254)),
                ("billing_address", fields.TextField(unique=False)),
                ("shipping_address", fields.TextField(unique=False)),
                ("payment_account_id", fields.CharField(max_length=64)),
                ("loyalty_points", fields.IntField(default=0)),
                ("version", fields.IntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "customers", "app": "customers", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
