"""``worker send``: validate a command against its contract, publish it, maybe wait."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import aio_pika
import typer
from aio_pika.abc import AbstractQueue
from aio_pika.exceptions import ChannelClosed, DeliveryError, PublishError

from worker.bus.commands import Command, InvalidCommand
from worker.bus.message_ids import IdProblem, check_correlation_id
from worker.bus.registry import CommandRegistry
from worker.cli.common import fail, load_settings, print_json, run_async, seconds, shown
from worker.cli.errors import AMQP_ERRORS, amqp_failure
from worker.cli.wait_saga import wait_for_saga
from worker.config import Settings
from worker.messaging.connection import connect
from worker.messaging.topology import COMMANDS_EXCHANGE

EXIT_BY_STATUS = {"accepted": 0, "rejected": 1, "invalid": 2}


def _json_types(model: type[Command] | None, key: str) -> set[str]:
    """The JSON types the command's schema allows for ``key`` (none for unknown names)."""
    if model is None:
        return set()
    field = model.model_json_schema().get("properties", {}).get(key, {})
    return {field.get("type"), *(choice.get("type") for choice in field.get("anyOf", []))}


def _typed(model: type[Command] | None, key: str, value: str) -> object:
    """``quantity=2`` is the integer 2 when the schema says so; anything else stays text,
    so that the command's own validation names what is wrong with it."""
    types = _json_types(model, key)
    if "integer" in types and re.fullmatch(r"-?[0-9]{1,18}", value):
        return int(value)
    if "boolean" in types and value in ("true", "false"):
        return value == "true"
    return value


def _fields(pairs: list[str], as_json: str | None, model: type[Command] | None) -> object:
    if as_json is not None:
        if pairs:
            fail("give either key=value pairs or --json, not both", 2)
        try:
            return json.loads(as_json)
        except json.JSONDecodeError as error:
            fail(f"--json is not valid JSON: {error}", 2)
    fields: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"expected key=value, got {shown(pair)}", 2)
        fields[key] = _typed(model, key, value)
    return fields


async def _publish(
    settings: Settings, command: Command, message_id: str, correlation_id: str, wait: float | None
) -> dict[str, object] | None:
    connection = await connect(settings.amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        replies = None
        if wait is not None:
            replies = await channel.declare_queue(exclusive=True, auto_delete=True)
        message = aio_pika.Message(
            command.model_dump_json().encode(),
            content_type="application/json",
            message_id=message_id,
            correlation_id=correlation_id,
            reply_to=replies.name if replies else None,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        exchange = await channel.get_exchange(COMMANDS_EXCHANGE, ensure=False)
        await exchange.publish(message, routing_key=type(command).name(), mandatory=True)
        if replies is None or wait is None:
            return None
        # Only the wait for the reply may time out into "no outcome" (exit 3); a
        # timeout while connecting or publishing means the broker is unreachable.
        try:
            async with asyncio.timeout(wait):
                return await _reply(replies, correlation_id)
        except TimeoutError:
            return None


async def _reply(replies: AbstractQueue, correlation_id: str) -> dict[str, object] | None:
    async with replies.iterator() as stream:
        async for reply in stream:
            await reply.ack()
            if reply.correlation_id == correlation_id:
                outcome: dict[str, object] = json.loads(reply.body)
                return outcome
    return None


def _ids(
    commands: CommandRegistry, message_id: str | None, correlation_id: str | None
) -> tuple[str, str]:
    """The ids to send (a new message id unless given), as the worker will take them.

    A value given but empty is a mistake, not a request for the default.
    """
    try:
        message = str(uuid.uuid4()) if message_id is None else commands.check_message_id(message_id)
        correlation = message if correlation_id is None else check_correlation_id(correlation_id)
    except IdProblem as problem:
        fail(f"{problem.code}: {problem.message}", 2)
    return message, correlation


def send(
    command_name: str = typer.Argument(..., metavar="COMMAND", help="e.g. Deposit"),
    pairs: list[str] = typer.Argument(
        None,
        metavar="KEY=VALUE...",
        help="The command's fields; integers where its schema says so.",
    ),
    as_json: str = typer.Option(
        None, "--json", help="The fields as one JSON object (nested ones, such as addresses)."
    ),
    message_id: str = typer.Option(None, "--message-id", help="Idempotency key (default: new)."),
    correlation_id: str = typer.Option(None, "--correlation-id", help="Default: the message id."),
    wait: bool = typer.Option(False, "--wait", help="Wait for the outcome; 0 only if accepted."),
    timeout: float = typer.Option(
        30.0, "--timeout", help="Seconds --wait waits (more than 0).", callback=seconds()
    ),
    output_json: bool = typer.Option(False, "--output-json", help="Print the outcome as JSON."),
    wait_saga: bool = typer.Option(
        False, "--wait-saga", help="A command that requests a saga: also wait for its end state."
    ),
) -> None:
    """Validate a command against its contract and publish it (with confirms).

    An invalid command never leaves the CLI: it exits 2 with the reason. With
    --wait the exit code is 0 accepted, 1 rejected, 2 invalid, 3 no answer in time.
    With --wait-saga (a command a saga is requested by, such as TransferMoney): 0
    completed, 1 rejected or compensated or resolved, 3 no end in time, 4 waiting
    for an operator, 5 the workflow failed, 6 Temporal or the database unreachable,
    7 conflicted (the saga's id belongs to another request's run: nothing was done).
    """
    from worker.bootstrap import contexts

    wait = wait or wait_saga
    settings = load_settings()
    catalog = contexts(settings)
    commands = catalog.commands
    try:
        fields = _fields(pairs or [], as_json, commands.public.get(command_name))
        command = commands.parse(command_name, fields)
    except InvalidCommand as invalid:
        fail(f"{invalid.code}: {invalid.message}", 2)
    message_id, correlation_id = _ids(commands, message_id, correlation_id)
    try:
        outcome = run_async(
            _publish(settings, command, message_id, correlation_id, timeout if wait else None)
        )
    except PublishError:
        fail(f"{command_name} could not be routed: is the worker's topology declared?")
    except DeliveryError as error:
        fail(f"the broker refused the message {message_id} (a nack: {error}); is a queue full?")
    except ChannelClosed as error:
        fail(f"the broker refused the publish ({error}); has the worker started once?")
    except AMQP_ERRORS as error:
        raise amqp_failure(error, settings.amqp_url) from error
    if not wait:
        typer.echo(f"sent {command_name} message_id={message_id}")
        return
    if outcome is None:
        fail(f"no outcome for {message_id} within {timeout:g}s (it may still be processed)", 3)
    if output_json:
        print_json(outcome)
    else:
        problem = outcome.get("error")
        detail = f" {problem['code']}: {problem['message']}" if isinstance(problem, dict) else ""
        typer.echo(f"{outcome['status']} message_id={message_id}{detail}")
    requested = [saga for saga in catalog.sagas if isinstance(command, saga.requested_by)]
    if wait_saga and outcome["status"] == "accepted" and requested:
        wait_for_saga(settings, requested[0], command.aggregate_id, timeout)
    raise typer.Exit(EXIT_BY_STATUS.get(str(outcome["status"]), 1))
