from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('worker', '0006_read_side')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AdministratorRow',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('role', fields.CharField(max_length=16)),
                ('password_hash', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('failed_logins', fields.IntField(default=0)),
                ('last_failed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'administrator', 'app': 'worker', 'pk_attr': 'name', 'table_description': 'Someone who may log in to the console: a viewer, an operator or an admin.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiTokenRow',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('scope', fields.CharField(max_length=8)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_token', 'app': 'worker', 'pk_attr': 'name', 'table_description': 'A bearer token, kept only as its SHA-256 (the token is shown once, at creation).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsoleSessionRow',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('administrator', fields.CharField(db_index=True, max_length=64)),
                ('csrf_token', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'console_session', 'app': 'worker', 'pk_attr': 'id', 'table_description': "A logged-in administrator's session, found by the SHA-256 of its cookie's token."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HttpCommandRow',
            fields=[
                ('idempotency_key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('command', fields.CharField(max_length=64)),
                ('body_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('status', fields.CharField(null=True, max_length=16)),
                ('error_code', fields.CharField(null=True, max_length=64)),
                ('error_message', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'http_command', 'app': 'worker', 'pk_attr': 'idempotency_key', 'table_description': 'An Idempotency-Key seen on POST /commands/{name}.'},
            bases=['Model'],
        ),
    ]
