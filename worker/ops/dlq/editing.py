"""Editing a dead letter's body: ``--set`` pairs or $EDITOR, checked before anything is sent.

The edited body must parse as the command (the same contract ``send`` enforces),
and its identity fields (``account_id``, ``transfer_id``...) must keep their values:
the message keeps its id, which must not come to mean another target.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from worker.bus.commands import Command, InvalidCommand
from worker.bus.registry import CommandRegistry
from worker.cli.common import fail, shown
from worker.ops.dlq.session import commands


def require_command(
    name: str | None, letter_id: str = "", registry: CommandRegistry | None = None
) -> str:
    """The command a dead letter (``letter_id``) was meant to be, if it is one that can
    be edited; a letter that names none (no ``command`` header, routing key or type)
    cannot be checked against any contract."""
    letter = f"letter {letter_id}" if letter_id else "the letter"
    if not name:
        fail(f"{letter} names no command; purge it or re-send it from its source", 2)
    if name not in (registry or commands()).public:
        fail(f"cannot edit {letter}: unknown command {shown(name)}; purge it instead", 2)
    return name


def _string_fields(name: str) -> set[str]:
    properties = commands().public[name].model_json_schema().get("properties", {})
    return {key for key, schema in properties.items() if schema.get("type") == "string"}


def parse_sets(name: str, pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value is JSON when it parses, except that a field the
    command declares as a string takes the text as typed (``amount=5.00`` is "5.00")."""
    strings = _string_fields(name)
    edits: dict[str, Any] = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        if not separator or not key:
            fail(f"expected --set key=value, got {shown(pair)}", 2)
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        edits[key] = value if key not in strings or isinstance(value, str) else text
    return edits


def body_as_text(body: bytes) -> str:
    """What the editor shows: pretty JSON when the body is JSON, else the text as it is."""
    text = body.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    except ValueError:
        return text


def open_editor(text: str) -> str:
    """Let the operator edit ``text`` in $VISUAL or $EDITOR (vi if neither); the result."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dead-letter.json"
        path.write_text(text)
        try:
            done = subprocess.run([*shlex.split(editor), str(path)], check=False)
        except OSError as error:
            fail(f"cannot start the editor {editor!r}: {error}")
        if done.returncode != 0:
            fail(f"the editor {editor!r} exited with {done.returncode}; nothing was sent")
        return path.read_text()


def _original(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except ValueError:  # not UTF-8 is a ValueError too
        return None
    return data if isinstance(data, dict) else None


def edited_command(
    name: str, body: bytes, edits: dict[str, Any] | str, registry: CommandRegistry | None = None
) -> Command:
    """The command the edited body makes: ``edits`` are ``--set`` fields applied to
    the original body, or the editor's whole text. One error line if it is not valid."""
    registry = registry or commands()
    original = _original(body)
    if isinstance(edits, str):
        try:
            data: Any = json.loads(edits)
        except ValueError as error:
            fail(f"malformed_json: the edited body is not JSON: {error}; nothing was sent", 2)
    elif original is None:
        fail("the body is not a JSON object: edit it in $EDITOR instead of with --set", 2)
    else:
        data = {**original, **edits}
    _keep_identity(registry, name, original or {}, data)
    try:
        return registry.parse(name, data)
    except InvalidCommand as invalid:
        fail(f"{invalid.code}: {invalid.message}; nothing was sent", 2)


def _keep_identity(
    registry: CommandRegistry, name: str, original: dict[str, Any], data: Any
) -> None:
    """Refuse a change to an identity field the original had (a body too broken to
    have one has no identity to keep)."""
    edited = data if isinstance(data, dict) else {}
    for key in registry.public[name].identity_fields:
        if key in original and original[key] != edited.get(key):
            fail(
                f"{key} is an identity field and cannot change "
                f"({original[key]!r} -> {edited.get(key)!r}); nothing was sent",
                2,
            )
