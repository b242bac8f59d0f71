"""``worker tokens`` and ``worker admins``: the front door's CLI groups (``worker http`` is
in ``worker.cli.main``, beside ``run``)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import typer
from tortoise.transactions import in_transaction

from worker.cli.common import fail, print_json
from worker.cli.reading import read_database
from worker.ops.audit_log import default_operator, record_action
from worker.web import admins, tokens

tokens_app = typer.Typer(help="Bearer tokens for the HTTP API.", no_args_is_help=True)
admins_app = typer.Typer(help="Administrators of the operator console.", no_args_is_help=True)
REASON = typer.Option("", "--reason", help="Why, for the audit log.")


async def _audited(action: str, target: str, reason: str, after: Any = None) -> None:
    await record_action(default_operator(), action, target, reason, after=after)


def _change(
    change: Callable[[], Awaitable[bool]],
    action: str,
    target: str,
    reason: str,
    missing: str,
    after: Any = None,
) -> None:
    """Make ``change`` and its audit record in one transaction, or fail with ``missing``
    when it found nothing to change."""

    async def audited() -> bool:
        async with in_transaction():
            found = await change()
            if found:
                await _audited(action, target, reason, after)
            return found

    if not read_database(audited):
        fail(missing)


@tokens_app.command("create")
def create_token(
    name: str = typer.Argument(..., help="Who or what uses it (e.g. billing-service)."),
    scope: str = typer.Option(
        ..., "--scope", help="read, or write (sends commands; includes read)."
    ),
    as_json: bool = typer.Option(False, "--json", help='Print {"name", "scope", "token"}.'),
    reason: str = REASON,
) -> None:
    """Make a token and print it: it is stored hashed and never shown again."""
    try:
        tokens.check_name(name)
        tokens.check_scope(scope)
    except ValueError as error:
        fail(str(error), 2)

    async def create() -> str:
        async with in_transaction():
            token = await tokens.create_token(name, scope)
            await _audited("tokens.create", f"token:{name}", reason, {"scope": scope})
            return token

    try:
        token = read_database(create)
    except tokens.TokenExists as error:
        fail(str(error))
    if as_json:
        print_json({"name": name, "scope": scope, "token": token})
    else:
        typer.echo(token)
        typer.echo(f"(the {scope} token {name!r}: keep it now, it is not shown again)", err=True)


@tokens_app.command("revoke")
def revoke_token(name: str = typer.Argument(...), reason: str = REASON) -> None:
    """Revoke a token: the next request that carries it gets 401."""
    missing = f"no token named {name!r}"
    _change(lambda: tokens.revoke_token(name), "tokens.revoke", f"token:{name}", reason, missing)
    typer.echo(f"revoked {name}")


@tokens_app.command("list")
def list_tokens(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every token's name, scope and dates (never the token)."""
    found = read_database(tokens.list_tokens)
    if as_json:
        print_json(found)
        return
    for row in found:
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        typer.echo(f"{row['name']:<24} {row['scope']:<6} {row['created_at']}  {state}")


def _password(name: str) -> str:
    """Prompted for (twice) at a terminal; otherwise the first line of standard input."""
    if sys.stdin.isatty():
        return str(typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@admins_app.command("add")
def add_admin(
    name: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="viewer, operator or admin."),
    reason: str = REASON,
) -> None:
    """Add an administrator; the password is prompted for (or read from standard input)."""
    try:
        tokens.check_name(name)
        admins.check_role(role)
        password = admins.check_password(_password(name))
    except ValueError as error:
        fail(str(error), 2)

    async def add() -> None:
        async with in_transaction():
            await admins.add_administrator(name, role, password)
            await _audited("admins.add", f"administrator:{name}", reason, {"role": role})

    try:
        read_database(add)
    except admins.AdministratorExists as error:
        fail(str(error))
    typer.echo(f"added {name} ({role}); log in at /console")


@admins_app.command("role")
def set_role(
    name: str = typer.Argument(...),
    role: str = typer.Option(..., "--role", help="viewer, operator or admin."),
    reason: str = REASON,
) -> None:
    """Change an administrator's role (effective on their next request)."""
    try:
        admins.check_role(role)
    except ValueError as error:
        fail(str(error), 2)

    target, missing = f"administrator:{name}", f"no administrator named {name!r}"
    _change(
        lambda: admins.set_role(name, role), "admins.role", target, reason, missing, {"role": role}
    )
    typer.echo(f"{name} is now {role}")


@admins_app.command("remove")
def remove_admin(name: str = typer.Argument(...), reason: str = REASON) -> None:
    """Remove an administrator; their console sessions end with it."""
    target, missing = f"administrator:{name}", f"no administrator named {name!r}"
    _change(lambda: admins.remove_administrator(name), "admins.remove", target, reason, missing)
    typer.echo(f"removed {name}")


@admins_app.command("list")
def list_admins(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every administrator and role (never a password hash)."""
    found = read_database(admins.list_administrators)
    if as_json:
        print_json([{"name": a.name, "role": a.role} for a in found])
        return
    for admin in found:
        typer.echo(f"{admin.name:<24} {admin.role}")
