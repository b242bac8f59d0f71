"""``POST /commands/{name}`` (one operation per command a client may send) and
``GET /commands/{id}``.

A command is validated by the model the worker uses, its ``Idempotency-Key`` stored
with the body's hash, then published with confirms; the answer is 202, or with
``Prefer: wait=N`` the outcome: 200 accepted, 409 rejected, 422 invalid. Every answer
carries ``Location`` (:mod:`worker.web.api.location`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from worker.bus.registry import CommandRegistry
from worker.cli.common import shown
from worker.web.api import bodies, openapi
from worker.web.api.answers import answer, preferred_wait
from worker.web.api.idempotency import claim, idempotency_key, release, stored_id
from worker.web.api.middleware import MESSAGE_ID
from worker.web.api.outcomes import final_outcome, pending, state_of, wait_for_outcome
from worker.web.api.services import NotSent, Services
from worker.web.auth import authorize, requires
from worker.web.problems import Problem

#: A key still pending this long after its first request is published again by a retry
#: (had the first request died between storing the key and publishing, nothing else
#: would); a retry sooner only waits, for the first copy is most likely on its way.
REPUBLISH_AFTER = 5.0


def check_sendable(commands: CommandRegistry, name: str) -> None:
    """Nothing if a client may send ``name``; else a 404, or a 422 for a policy's own."""
    model = commands.public.get(name)
    if model is None:
        detail = f"there is no command {shown(name)}; /openapi.json lists them"
        raise Problem(404, "unknown_command", detail)
    if model.issued_by is not None:
        detail = f"{name} is issued by the {model.issued_by} policy only"
        raise Problem(422, "reserved_command", detail)


async def send(services: Services, request: Request, name: str) -> Response:
    await authorize(request, "write")
    commands = services.catalog.commands
    check_sendable(commands, name)
    key = idempotency_key(request.headers, commands)
    setattr(request.state, MESSAGE_ID, key)
    wait = preferred_wait(request.headers)
    body = bodies.parse(commands, name, await request.body()).model_dump_json().encode()
    claimed = await claim(key, name, body)
    known = None if claimed.first else await final_outcome(key)
    if known is not None:
        return answer({**known, "duplicate": True}, wait)
    reply = services.broker.expect(key) if wait else None
    try:
        if claimed.first or claimed.age_seconds >= REPUBLISH_AFTER:
            await _publish(services, name, body, key, claimed.first)
        outcome = await wait_for_outcome(key, reply, wait, services.stopping) if wait else None
    finally:
        if reply is not None:
            services.broker.forget(key, reply)
    return answer(outcome or pending(key), wait)


async def _publish(services: Services, name: str, body: bytes, key: str, first: bool) -> None:
    try:
        await services.publish(name, body, key)
    except NotSent:
        if first:  # the client's retry starts clean, instead of finding the key pending
            with contextlib.suppress(Exception):
                await release(key)
        raise


def command_router(services: Services) -> APIRouter:
    router = APIRouter()
    commands = services.catalog.commands

    def named(name: str) -> Any:
        async def post(request: Request) -> Response:
            return await send(services, request, name)

        return post

    async def unknown(request: Request, command: str) -> Response:
        return await send(services, request, command)

    for name, model in openapi.sendable(commands).items():
        router.add_api_route(
            f"/commands/{name}",
            named(name),
            methods=["POST"],
            **openapi.operation(name, model, commands.queue_of(name)),
        )
    router.add_api_route("/commands/{command}", unknown, methods=["POST"], include_in_schema=False)

    @router.get(
        "/commands/{message_id:path}",
        dependencies=[Depends(requires("read"))],
        summary="A command's outcome, as the AMQP reply has it",
        tags=["commands"],
        responses=openapi.problems(400, 401, 403, 404),
    )
    async def outcome(message_id: str) -> dict[str, Any]:
        state = await state_of(stored_id(message_id, "message_id"))
        if state is None:
            raise Problem(404, "not_found", f"no command with the id {shown(message_id)}")
        return state

    return router
