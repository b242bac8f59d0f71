from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    dependencies = [("worker", "0001_initial")]

    operations = [
        ops.CreateModel(
            name="OrderRow",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                ("customer_id", fields.CharField(db_index=True, max_length=64)),
                ("payment_account_id", fields.CharField(max_length=64)),
                ("currency", fields.CharField(max_length=3)),
                ("status", fields.CharField(db_index=True, max_length=16)),
                ("total", fields.DecimalField(null=True, max_digits=24, decimal_places=4)),
                ("reason", fields.TextField(default="", unique=False)),
                ("charging", fields.BooleanField(default=False)),
                ("cancel_requested", fields.BooleanField(default=False)),
                ("version", fields.IntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "orders", "app": "orders", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OrderLineRow",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("order_id", fields.CharField(db_index=True, max_length=64)),
                ("position", fields.IntField()),
                ("sku", fields.CharField(max_length=32)),
                ("quantity", fields.IntField()),
                ("unit_price", fields.DecimalField(max_digits=24, decimal_places=4)),
                ("discount", fields.DecimalField(max_digits=24, decimal_places=4)),
                ("subtotal", fields.DecimalField(max_digits=24, decimal_places=4)),
            ],
            options={
                "table": "order_lines",
                "app": "orders",
                "pk_attr": "id",
                "unique_together": (("order_id", "position"),),
            },
            bases=["Model"],
        ),
    ]
