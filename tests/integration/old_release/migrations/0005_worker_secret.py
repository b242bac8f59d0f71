from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('worker', '0004_audit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WorkerSecret',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('value', fields.CharField(max_length=128)),
            ],
            options={'table': 'worker_secret', 'app': 'worker', 'pk_attr': 'name', 'table_description': 'A secret every worker of one database shares (the retry seal\'s key).'},
            bases=['Model'],
        ),
    ]
