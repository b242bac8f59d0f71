"""``POST /commands/{name}`` (one operation per public command) and ``GET /commands/{id}``.

A command is validated by the model the worker uses, its ``Idempotency-Key`` stored
with the body's hash, then published with confirms; the answer is 202, or with
``Prefer: wait=N`` the outcome: 200 accepted, 409 rejected, 422 invalid.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Security
from fastapi.responses import JSONResponse, Response

from worker.bus.registry import CommandRegistry
from worker.cli.common import shown
from worker.web.api import bodies, openapi
from worker.web.api.idempotency import claim, idempotency_key, stored_id
from worker.web.api.middleware import MESSAGE_ID
from worker.web.api.outcomes import (
    STATUS_CODES,
    final_outcome,
    pending,
    state_of,
    wait_for_outcome,
)
from worker.web.api.services import Services
from worker.web.auth import BEARER, authorize, requires
from worker.web.problems import Problem

#: The longest ``Prefer: wait`` honoured, in seconds.
MAX_WAIT = 30


def location(key: str) -> str:
    return f"/commands/{quote(key, safe='')}"


def preferred_wait(request: Request) -> int | None:
    """``Prefer: wait=N`` (RFC 7240), capped at :data:`MAX_WAIT`; None when not asked."""
    for header in request.headers.getlist("prefer"):
        for preference in header.split(","):
            name, _, value = preference.split(";")[0].partition("=")
            value = value.strip().strip('"')
            if name.strip().lower() == "wait" and value.isdigit():
                return min(int(value), MAX_WAIT)
    return None


def answer(state: dict[str, Any], wait: int | None) -> Response:
    """202 pending, 200 accepted, or the outcome's problem: 409 rejected, 422 invalid."""
    status = STATUS_CODES[state["status"]]
    headers = {} if wait is None else {"Preference-Applied": f"wait={wait}"}
    error = state.get("error")
    if error is None:
        return JSONResponse(state, status_code=status, headers=headers)
    problem = Problem(status, error["code"], error["message"], headers=headers)
    problem.extra["outcome"] = state
    return problem.response()


async def send(services: Services, request: Request, name: str) -> Response:
    await authorize(request, "write")
    commands = services.catalog.commands
    if name not in commands.public:
        detail = f"there is no command {shown(name)}; /openapi.json lists them"
        raise Problem(404, "unknown_command", detail)
    key = idempotency_key(request, commands)
    setattr(request.state, MESSAGE_ID, key)
    command = bodies.parse(commands, name, await request.body())
    claimed = await claim(key, command)
    wait = preferred_wait(request)
    known = None if claimed.first else await final_outcome(key)
    if known is not None:
        return answer({**known, "duplicate": True}, wait)
    # Published again for a key without an outcome: had the first request died between
    # storing the key and publishing, nothing else would; the inbox drops a second copy.
    reply = services.broker.expect(key) if wait else None
    try:
        await services.publish(name, command.model_dump_json().encode(), key)
        outcome = await wait_for_outcome(key, reply, wait) if wait else None
    finally:
        if reply is not None:
            services.broker.forget(key, reply)
    return answer(outcome or pending(key), wait)


def _located(request: Request, response: Response, commands: CommandRegistry) -> Response:
    """Every answer of ``POST /commands/{name}`` names the key's resource once it is known."""
    key = request.scope.get("state", {}).get(MESSAGE_ID)
    if key is None:
        try:
            key = idempotency_key(request, commands)
        except Problem:
            return response
    response.headers["Location"] = location(key)
    return response


def command_router(services: Services) -> APIRouter:
    router = APIRouter()
    commands = services.catalog.commands

    async def respond(request: Request, name: str) -> Response:
        try:
            response = await send(services, request, name)
        except Problem as problem:
            response = problem.response()
        return _located(request, response, commands)

    def named(name: str) -> Any:
        async def post(request: Request) -> Response:
            return await respond(request, name)

        return post

    async def unknown(request: Request, command: str) -> Response:
        return await respond(request, command)

    for name, model in commands.public.items():
        router.add_api_route(
            f"/commands/{name}",
            named(name),
            methods=["POST"],
            dependencies=[Security(BEARER)],  # documents the scheme; `send` checks the token
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
