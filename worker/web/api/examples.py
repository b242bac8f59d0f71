"""An example body for each command, made from its JSON schema and kept only if the
command's own model accepts it (so that no example in the docs is one the worker refuses)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from worker.bus.commands import Command

Schema = dict[str, Any]


def _text(name: str, schema: Schema) -> str:
    """The first of a few plausible strings that fits the field's pattern and length."""
    stem = name.removesuffix("_id").replace("_", "-")
    candidates = ["someone@example.com"] if "email" in name else []
    candidates += [f"{stem}-1", "10.00", f"{stem.upper()}-1", stem.upper(), stem.capitalize()]
    low, high = schema.get("minLength", 0), schema.get("maxLength", 10_000)
    pattern = schema.get("pattern")
    for candidate in candidates:
        if low <= len(candidate) <= high and (pattern is None or re.search(pattern, candidate)):
            return candidate
    return candidates[0]


def _number(schema: Schema) -> int:
    if "exclusiveMinimum" in schema:
        return int(schema["exclusiveMinimum"]) + 1
    low = int(schema.get("minimum", 1))
    value = max(low, 1)
    return low if value > schema.get("maximum", value) else value


def _value(name: str, schema: Schema, definitions: Schema) -> Any:
    if "$ref" in schema:
        return _value(name, definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions)
    if "examples" in schema:
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        choices = [choice for choice in schema["anyOf"] if choice.get("type") != "null"]
        return _value(name, choices[0], definitions) if choices else None
    kind = schema.get("type")
    if kind == "object":
        return _object(schema, definitions)
    if kind == "array":
        return [_value(name, schema.get("items", {}), definitions)]
    if kind == "integer":
        return _number(schema)
    if kind == "number":
        return float(_number(schema))
    if kind == "boolean":
        return False
    return _text(name, schema)


def _object(schema: Schema, definitions: Schema) -> dict[str, Any]:
    required = schema.get("required", [])
    return {
        name: _value(name, field, definitions)
        for name, field in schema.get("properties", {}).items()
        if name in required
    }


def example_of(model: type[Command]) -> dict[str, Any] | None:
    """A body ``model`` validates, or None when the schema alone cannot make one."""
    schema = model.model_json_schema()
    example = _object(schema, schema.get("$defs", {}))
    try:
        model.model_validate(example)
    except ValidationError:
        return None
    return example
