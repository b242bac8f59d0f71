from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('worker', '0005_worker_secret')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CommandOutboxRow',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_id', fields.CharField(unique=True, max_length=255)),
                ('command', fields.CharField(max_length=64)),
                ('body', fields.TextField(unique=False)),
                ('correlation_id', fields.CharField(null=True, max_length=255)),
                ('causation_id', fields.CharField(null=True, max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'command_outbox', 'app': 'worker', 'pk_attr': 'id', 'table_description': 'A command a policy issued, committed with its handled record, relayed sealed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EventLogRow',
            fields=[
                ('position', fields.BigIntField(primary_key=True, unique=True, db_index=True, generated=False)),
                ('event_id', fields.CharField(unique=True, max_length=64)),
                ('event_type', fields.CharField(db_index=True, max_length=128)),
                ('aggregate_type', fields.CharField(max_length=64)),
                ('aggregate_id', fields.CharField(max_length=64)),
                ('aggregate_version', fields.IntField()),
                ('payload', fields.TextField(unique=False)),
                ('correlation_id', fields.CharField(null=True, max_length=255)),
                ('causation_id', fields.CharField(null=True, max_length=255)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('logged_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'event_log', 'app': 'worker', 'indexes': [Index(fields=['aggregate_type', 'aggregate_id', 'aggregate_version']), Index(fields=['causation_id'])], 'pk_attr': 'position', 'table_description': 'One committed event, kept: ``position`` is gap-free, given by the single relay.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HandledEventRow',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('handler', fields.CharField(max_length=100)),
                ('event_id', fields.CharField(max_length=64)),
                ('position', fields.BigIntField()),
                ('handled_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'handled_events', 'app': 'worker', 'unique_together': (('handler', 'event_id'),), 'indexes': [Index(fields=['handler', 'position'])], 'pk_attr': 'id', 'table_description': 'The exactly-once record: this handler applied this event (in that same transaction).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HandlerStateRow',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=100)),
                ('kind', fields.CharField(max_length=16)),
                ('generation', fields.IntField(default=1)),
                ('position', fields.BigIntField(default=0, description='Every event of its types at or below this position has been applied.')),
                ('started_position', fields.BigIntField(default=0, description='A policy ignores events at or below the log head it first started at.')),
                ('last_applied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('last_error_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('seen_at', fields.DatetimeField(null=True, description='When a process running the handler last said it was alive.', auto_now=False, auto_now_add=False)),
                ('rebuild_owner', fields.CharField(null=True, max_length=255)),
                ('rebuild_started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'handler_state', 'app': 'worker', 'pk_attr': 'name', 'table_description': "A handler's low-water mark, its live generation, its health, and a running rebuild."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProjectionCursorRow',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('handler', fields.CharField(description='``<projection>@<generation>``: a rebuild keeps cursors of its own.', max_length=120)),
                ('aggregate_type', fields.CharField(max_length=64)),
                ('aggregate_id', fields.CharField(max_length=64)),
                ('version', fields.IntField()),
            ],
            options={'table': 'projection_cursors', 'app': 'worker', 'unique_together': (('handler', 'aggregate_type', 'aggregate_id'),), 'pk_attr': 'id', 'table_description': "The last version of one aggregate a projection's generation applied."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='OutboxRow',
            name='position',
            field=fields.BigIntField(null=True, db_index=True, description='Its place in the event log, given by the relay before it publishes (None: not yet).'),
        ),
    ]
