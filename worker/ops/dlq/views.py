"""How ``dlq`` shows dead letters: text for people, JSON for scripts and the audit log."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import typer

from worker.ops.dlq.groups import Group
from worker.ops.dlq.letters import DeadLetter, jsonable

#: Messages named under each group in the text listing (``--json`` names them all).
SHOWN_PER_GROUP = 5
SUMMARY_BODY_CHARS = 2000


def body_view(body: bytes) -> tuple[Any, bool]:
    """The body as JSON when it is JSON, else the ``repr`` of its bytes; and which."""
    try:
        return json.loads(body), True
    except ValueError:
        return repr(body), False


def summary(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "dlq": letter.dlq,
        "original_queue": letter.original_queue,
        "failure_class": letter.failure_class,
        "error_code": letter.error_code,
        "error_message": letter.error_message,
        "command": letter.command,
        "message_id": letter.message_id,
        "failed_at": letter.failed_at,
        "attempts": letter.attempts,
    }


def letter_json(letter: DeadLetter) -> dict[str, Any]:
    body, is_json = body_view(letter.body)
    props = letter.properties
    return {
        **summary(letter),
        "original_routing_key": letter.original_routing_key,
        "properties": {
            "message_id": props.message_id,
            "correlation_id": props.correlation_id,
            "content_type": props.content_type,
            "content_encoding": props.content_encoding,
            "reply_to": props.reply_to,
            "type": props.type,
            "timestamp": jsonable(props.timestamp),
            "priority": props.priority,
            "app_id": props.app_id,
            "user_id": props.user_id,
        },
        "headers": jsonable(letter.headers),
        "body": body,
        "body_is_json": is_json,
    }


def audit_state(letter: DeadLetter, *, full: bool) -> dict[str, Any]:
    """The letter for an audit record: headers and body (all of it when ``full``)."""
    try:
        text, encoding = letter.body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(letter.body).decode(), "base64"
    if not full and len(text) > SUMMARY_BODY_CHARS:
        text = text[:SUMMARY_BODY_CHARS] + "…"
    return {
        **summary(letter),
        "headers": jsonable(letter.headers),
        "body": text,
        "body_encoding": encoding,
    }


def audit_before(letter: DeadLetter, *, full: bool) -> dict[str, Any]:
    """The letter as an audit record's ``before``: status and error first, as in the
    ``after``, so ``audit list`` reads ``status: dead_lettered→accepted``."""
    state = audit_state(letter, full=full)
    return {"status": "dead_lettered", "error": letter.error_code, "letter": state}


def audit_after(answer: dict[str, Any] | None, *, edited: bool = False) -> dict[str, Any]:
    """What became of a letter sent back: the worker's answer (none if it never came).

    A duplicate answer replays the outcome the message id already had: sent back
    as it was, that is its outcome still; edited, the edit changed nothing.
    """
    outcome = answer or {"status": "no_outcome"}
    error = outcome.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    after = {"status": outcome.get("status"), "error": code, "outcome": answer}
    if outcome.get("duplicate"):
        after["duplicate"] = True
        if edited:
            after["status"] = "duplicate"
    return after


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def group_json(found: Group) -> dict[str, Any]:
    return {
        "failure_class": found.failure_class,
        "error_code": found.error_code,
        "count": found.count,
        "oldest": None if found.oldest is None else found.oldest.isoformat(),
        "newest": None if found.newest is None else found.newest.isoformat(),
        "messages": [summary(letter) for letter in found.letters],
    }


def listing_json(dlqs: Sequence[str], groups: Sequence[Group]) -> list[dict[str, Any]]:
    return [
        {
            "dlq": dlq,
            "queue": dlq.removesuffix(".dlq"),
            "count": sum(g.count for g in groups if g.dlq == dlq),
            "groups": [group_json(g) for g in groups if g.dlq == dlq],
        }
        for dlq in dlqs
    ]


def print_listing(dlqs: Sequence[str], groups: Sequence[Group]) -> None:
    for dlq in dlqs:
        mine = [g for g in groups if g.dlq == dlq]
        total = sum(g.count for g in mine)
        typer.echo(f"{dlq}: {total} message{'' if total == 1 else 's'}")
        for g in mine:
            typer.echo(
                f"  {g.failure_class:<9} {g.error_code:<28} {g.count:>6}  "
                f"{_when(g.oldest)} .. {_when(g.newest)}"
            )
            for letter in g.letters[:SHOWN_PER_GROUP]:
                error = " ".join(letter.error_message.split())[:80]
                typer.echo(f"      {letter.id}  {letter.command or '?':<16} {error}")
            if g.count > SHOWN_PER_GROUP:
                typer.echo(f"      ... and {g.count - SHOWN_PER_GROUP} more (--json lists all)")


def print_letter(letter: DeadLetter) -> None:
    shown = letter_json(letter)
    for key in ("id", "dlq", "original_queue", "original_routing_key", "command", "message_id"):
        typer.echo(f"{key}: {shown[key]}")
    typer.echo(f"failure: {letter.failure_class} {letter.error_code}: {letter.error_message}")
    attempts = "-" if letter.attempts is None else letter.attempts
    typer.echo(f"failed_at: {letter.failed_at or '-'}  attempts: {attempts}")
    typer.echo("properties:")
    for key, value in shown["properties"].items():
        if value is not None:
            typer.echo(f"  {key}: {value}")
    typer.echo("headers:")
    for key, value in shown["headers"].items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        typer.echo(f"  {key}: {text}")
    body = shown["body"]
    typer.echo("body:")
    typer.echo(json.dumps(body, indent=2, ensure_ascii=False) if shown["body_is_json"] else body)
