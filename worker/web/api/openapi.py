"""The OpenAPI document, generated from the registry: one operation per public command with
its model's schema and an example, the problems each route answers, the bearer scheme."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from worker.bus.commands import Command
from worker.bus.registry import CommandRegistry
from worker.web.api.examples import example_of
from worker.web.problems import MEDIA_TYPE

COMPONENTS = "#/components/schemas/"
PROBLEM: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable, `detail` is for people.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "examples": ["insufficient_funds"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {n: {"type": "string"} for n in ("field", "code", "message")},
            },
        },
        "outcome": {"$ref": f"{COMPONENTS}Outcome"},
    },
    "required": ["type", "title", "status", "detail", "code"],
}
OUTCOME: dict[str, Any] = {
    "type": "object",
    "description": "A command's outcome, exactly as the worker's AMQP reply carries it.",
    "properties": {
        "status": {"enum": ["pending", "accepted", "rejected", "invalid"]},
        "message_id": {"type": "string"},
        "error": {
            "anyOf": [
                {"type": "null"},
                {"type": "object", "properties": {"code": {}, "message": {}}},
            ]
        },
        "duplicate": {"type": "boolean"},
    },
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "Becomes the message id: reuse it to retry; never two effects.",
    "schema": {"type": "string", "maxLength": 255},
}
PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "description": "`wait=N`: wait up to N seconds (at most 30) for the outcome "
    "(a value that is not a number of seconds is ignored).",
    "schema": {"type": "string", "examples": ["wait=5"]},
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Response documentation for each status, answered as a problem."""
    schema = {"schema": {"$ref": f"{COMPONENTS}Problem"}}
    return {
        status: {"description": HTTPStatus(status).phrase, "content": {MEDIA_TYPE: schema}}
        for status in statuses
    }


def _outcome(description: str) -> dict[str, Any]:
    schema = {"schema": {"$ref": f"{COMPONENTS}Outcome"}}
    headers = {"Location": {"schema": {"type": "string"}, "description": "/commands/{key}"}}
    return {"description": description, "content": {"application/json": schema}, "headers": headers}


def operation(name: str, model: type[Command], queue: str) -> dict[str, Any]:
    """The keyword arguments of the route that sends ``name``."""
    content: dict[str, Any] = {"schema": {"$ref": f"{COMPONENTS}{name}"}}
    example = example_of(model)
    if example is not None:
        content["example"] = example
    responses = {
        202: _outcome("Published and confirmed by the broker; the outcome is pending."),
        200: _outcome("Accepted (with `Prefer: wait`)."),
        **problems(400, 401, 403, 409, 413, 422, 503),
    }
    return {
        "summary": f"Send {name}",
        "description": "\n\n".join(
            part for part in ((model.__doc__ or "").strip(), f"Arrives on `{queue}`.") if part
        ),
        "operation_id": f"send_{name}",
        "tags": [f"{queue.split('.')[0]} commands"],
        "status_code": 202,
        "responses": responses,
        "openapi_extra": {
            # Documented here, not by a dependency: `send` checks the token itself, and a
            # dependency would cost every request its solving.
            "security": [{"bearer": []}],
            "parameters": [IDEMPOTENCY_KEY, PREFER],
            "requestBody": {"required": True, "content": {"application/json": content}},
        },
    }


def sendable(commands: CommandRegistry) -> dict[str, type[Command]]:
    """The commands a client may send: the public ones no policy alone issues."""
    return {name: model for name, model in commands.public.items() if model.issued_by is None}


def command_schemas(commands: CommandRegistry) -> dict[str, Any]:
    """Every sendable command's JSON schema (and what they nest), named as in components."""
    models = [(model, "validation") for model in sendable(commands).values()]
    refs, top = models_json_schema(models, ref_template=COMPONENTS + "{model}")  # type: ignore[arg-type]
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    for name, model in sendable(commands).items():
        stored = refs[(model, "validation")]["$ref"].removeprefix(COMPONENTS)
        schemas[name] = schemas.pop(stored) if stored != name else schemas[name]
    return schemas


def install_openapi(app: FastAPI, commands: CommandRegistry) -> None:
    """``app.openapi()`` with the commands' schemas, the problem and the outcome in it."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            schemas.update({**command_schemas(commands), "Problem": PROBLEM, "Outcome": OUTCOME})
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
