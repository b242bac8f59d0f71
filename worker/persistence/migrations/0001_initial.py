from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    initial = True

    operations = [
        # AccountRow moved to app "accounts" (its 0001_initial adopts the table).
        ops.CreateModel(
            name="InboxRow",
            fields=[
                (
                    "message_id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255),
                ),
                ("command", fields.CharField(max_length=64)),
                ("status", fields.CharField(max_length=16)),
                ("error_code", fields.CharField(null=True, max_length=64)),
                ("error_message", fields.TextField(null=True, unique=False)),
                ("correlation_id", fields.CharField(null=True, max_length=255)),
                ("processed_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "inbox",
                "app": "worker",
                "pk_attr": "message_id",
                "table_description": "One row per processed message id: the deduplication record.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OutboxRow",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("event_id", fields.CharField(unique=True, max_length=64)),
                ("event_type", fields.CharField(max_length=128)),
                ("aggregate_type", fields.CharField(max_length=64)),
                ("aggregate_id", fields.CharField(max_length=64)),
                ("aggregate_version", fields.IntField()),
                ("payload", fields.TextField(unique=False)),
                ("correlation_id", fields.CharField(null=True, max_length=255)),
                ("causation_id", fields.CharField(null=True, max_length=255)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "sent_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
            ],
            options={
                "table": "outbox",
                "app": "worker",
                "pk_attr": "id",
                "table_description": "A committed domain event waiting to be (or already) published.",
            },
            bases=["Model"],
        ),
    ]
