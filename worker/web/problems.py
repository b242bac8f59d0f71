"""RFC 9457 problem details: every error the front door answers, and the handlers that make
sure nothing a client sends ends in a 500 or a traceback.

A problem carries ``type``, ``title``, ``status``, ``detail`` and our ``code``, and
``errors: [{field, code, message}]`` when fields are at fault. No problem repeats a
request's headers: a token never comes back in an answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from tortoise.exceptions import DBConnectionError, OperationalError

from worker.bus.failures import TRANSIENT_ERRORS

log = logging.getLogger("worker.http")
MEDIA_TYPE = "application/problem+json"
#: Seconds a client is told to wait before trying again after a 503.
RETRY_AFTER = "2"
#: A code for each status FastAPI or Starlette answer on their own.
CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(eq=False)
class Problem(Exception):
    """Raise it anywhere in a route: the client gets it as ``application/problem+json``."""

    status: int
    code: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    #: More members of the answer (``message_id``, ``checks``): never secrets.
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:bus-worker:problem:{self.code}",
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }
        if self.errors:
            body["errors"] = [error.to_json() for error in self.errors]
        return body

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.to_json(), status_code=self.status, headers=self.headers, media_type=MEDIA_TYPE
        )


def unavailable(code: str, detail: str, **extra: Any) -> Problem:
    """A 503: a dependency cannot answer now; the client may try again shortly."""
    return Problem(503, code, detail, headers={"Retry-After": RETRY_AFTER}, extra=extra)


def field_path(location: tuple[int | str, ...] | list[int | str]) -> str:
    return ".".join(str(part) for part in location) or "body"


async def _problem(request: Request, problem: Exception) -> JSONResponse:
    assert isinstance(problem, Problem)
    return problem.response()


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = CODES.get(error.status_code, f"http_{error.status_code}")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return Problem(error.status_code, code, detail, headers=dict(error.headers or {})).response()


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        FieldError(field_path(e.get("loc", ())), str(e.get("type", "invalid")), str(e.get("msg")))
        for e in error.errors()
    ]
    named = ", ".join(e.field for e in errors)
    return Problem(422, "request_validation_failed", f"invalid: {named}", errors).response()


async def _dependency_down(request: Request, error: Exception) -> JSONResponse:
    log.warning("%s %s: a dependency is unavailable: %s", request.method, request.url.path, error)
    detail = "the database or the broker cannot answer right now; try again shortly"
    return unavailable("unavailable", detail).response()


async def _bug(request: Request, error: Exception) -> JSONResponse:
    # Starlette raises the error again after this answer, for the server to log it.
    return Problem(500, "internal_error", "the server failed; the error is logged").response()


def install_problem_handlers(app: FastAPI) -> None:
    """Problems as they are, FastAPI's and Starlette's errors as problems, a dependency that
    is down as a 503, and anything else as a 500 without a word of its traceback."""
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    for kind in (*TRANSIENT_ERRORS, DBConnectionError, OperationalError):
        app.add_exception_handler(kind, _dependency_down)
    app.add_exception_handler(Exception, _bug)
