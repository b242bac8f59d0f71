from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("worker", "0001_initial")]

    initial = True

    operations = [
        ops.CreateModel(
            name="TabRow",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                ("account_id", fields.CharField(max_length=64)),
                ("house_account_id", fields.CharField(max_length=64)),
                ("currency", fields.CharField(max_length=3)),
                ("status", fields.CharField(max_length=16)),
                ("reason", fields.TextField(default="", unique=False)),
                ("version", fields.IntField()),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "tabs", "app": "tabs", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TabLineRow",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("tab_id", fields.CharField(db_index=True, max_length=64)),
                ("line_no", fields.IntField()),
                ("item", fields.CharField(max_length=64)),
                ("quantity", fields.IntField()),
                ("unit_price", fields.DecimalField(max_digits=24, decimal_places=4)),
            ],
            options={
                "table": "tab_lines",
                "app": "tabs",
                "pk_attr": "id",
                "unique_together": (("tab_id", "line_no"),),
            },
            bases=["Model"],
        ),
    ]
