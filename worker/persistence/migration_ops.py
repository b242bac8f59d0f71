"""Migration operations every app's migrations may use (the framework's and each context's)."""

from __future__ import annotations

from tortoise import BaseDBAsyncClient
from tortoise.migrations import operations
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State


async def table_exists(client: BaseDBAsyncClient, table: str, schema: str | None = None) -> bool:
    """Whether ``table`` (in ``schema``, else the connection's default one) exists."""
    dialect = client.capabilities.dialect
    if dialect == "sqlite":
        sql, values = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
    elif dialect == "postgres":
        quoted = f'"{schema}"."{table}"' if schema else f'"{table}"'
        sql, values = "SELECT 1 WHERE to_regclass($1) IS NOT NULL", [quoted]
    else:
        raise NotImplementedError(f"table_exists does not know the {dialect!r} dialect")
    _, rows = await client.execute_query(sql, values)
    return bool(rows)


class CreateModelIfAbsent(operations.CreateModel):
    """A ``CreateModel`` that adopts its table when the table already exists.

    For a model moved from one app to another: a database migrated before the move
    has the table (the old app's migration created it), a new database does not.
    The migration state gets the model either way (``state_forward`` is
    ``CreateModel``'s), so the new app owns it from here on.
    """

    def describe(self) -> str:
        return f"Create model {self.name} (unless its table exists)"

    async def database_forward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        if state_editor is not None and not state_editor.collect_sql:
            model = new_state.apps.get_model(f"{app_label}.{self.name}")
            if await table_exists(state_editor.client, model._meta.db_table, model._meta.schema):
                return
        await super().database_forward(app_label, old_state, new_state, state_editor)
