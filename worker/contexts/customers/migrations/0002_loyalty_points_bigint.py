from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    # 0001 has the column already, as a 32-bit integer: one large order would overflow it
    # on PostgreSQL (an order's total reaches 10**15), so the balance is a BIGINT.
    dependencies = [("customers", "0001_initial")]

    initial = False

    operations = [
        ops.AlterField(
            model_name="CustomerRow",
            name="loyalty_points",
            field=fields.BigIntField(default=0),
        ),
    ]
