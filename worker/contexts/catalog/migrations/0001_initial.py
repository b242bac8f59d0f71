from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    # The framework's tables come first.
    dependencies = [("worker", "0001_initial")]

    operations = [
        ops.CreateModel(
            name="ProductRow",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32),
                ),
                ("name", fields.CharField(max_length=200)),
                ("price", fields.DecimalField(max_digits=24, decimal_places=4)),
                ("currency", fields.CharField(max_length=3)),
                ("status", fields.CharField(max_length=16)),
                ("on_hand", fields.BigIntField()),
                ("version", fields.IntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "products", "app": "catalog", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ReservationRow",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("sku", fields.CharField(db_index=True, max_length=32)),
                ("order_id", fields.CharField(max_length=64)),
                ("quantity", fields.IntField()),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "product_reservations",
                "app": "catalog",
                "pk_attr": "id",
                "unique_together": (("sku", "order_id"),),
            },
            bases=["Model"],
        ),
    ]
