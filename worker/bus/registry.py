"""The command contract: what clients may send, validated before anything runs.

Each public command's class name is its routing key on the ``commands`` exchange,
and it arrives on the queue of the context that declares it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from worker.bus.commands import Command, InvalidCommand
from worker.bus.message_ids import check_message_id, saga_keys


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'body'}: {e['msg']}"
        for e in error.errors(include_url=False)
    )


class CommandRegistry:
    """Every command of every context, by name, with the queue it arrives on."""

    def __init__(self, queues: Mapping[type[Command], str], saga_kinds: Iterable[str] = ()) -> None:
        #: Every command the bus handles, by name.
        self.all: dict[str, type[Command]] = {model.name(): model for model in queues}
        #: What clients may send over AMQP (and the CLI may publish).
        self.public: dict[str, type[Command]] = {
            name: model for name, model in self.all.items() if not model.internal
        }
        self._queues = {model.name(): queue for model, queue in queues.items()}
        #: The message ids of saga steps, which no client may use.
        self.reserved_ids: re.Pattern[str] | None = saga_keys(saga_kinds)

    def check_message_id(self, value: str) -> str:
        """``value`` if a client may use it as a message id; else :class:`IdProblem`."""
        return check_message_id(value, self.reserved_ids)

    def queue_of(self, name: str) -> str:
        return self._queues[name]

    @property
    def queues(self) -> list[str]:
        """Every queue a public command arrives on."""
        return sorted({self._queues[name] for name in self.public})

    def for_queue(self, queue: str) -> list[str]:
        return [name for name in self.public if self._queues[name] == queue]

    def json_schemas(self) -> dict[str, dict[str, Any]]:
        return {name: model.model_json_schema() for name, model in self.public.items()}

    def parse(self, name: str, data: object, *, internal: bool = False) -> Command:
        """Validate ``data`` against the model named ``name``; raise :class:`InvalidCommand`.

        Only public commands parse unless ``internal`` (a saga's own dispatch) says otherwise.
        """
        model = (self.all if internal else self.public).get(name)
        if model is None:
            known = ", ".join(sorted(self.public))
            # A name is at most a routing key (255 bytes): an error repeats no more than that.
            named = repr(name) if len(name) <= 64 else f"{name[:64]!r}… ({len(name)} characters)"
            raise InvalidCommand("unknown_command", f"unknown command {named}; known: {known}")
        if not isinstance(data, dict):
            raise InvalidCommand("schema_validation_failed", "the body must be a JSON object")
        try:
            return model.model_validate(data)
        except ValidationError as error:
            raise InvalidCommand(
                "schema_validation_failed", f"{name}: {_describe(error)}"
            ) from None
