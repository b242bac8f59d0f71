"""How ``POST /commands/{name}`` answers: the ``Prefer: wait`` it was sent with, and the
command's state as a status code (and a problem, for a rejection or an invalid command)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers

from worker.web.api.outcomes import STATUS_CODES
from worker.web.problems import Problem

#: The longest ``Prefer: wait`` honoured, in seconds.
MAX_WAIT = 30
#: ``wait=N``: ASCII digits only, few enough to be a number of seconds.
WAIT_VALUE = re.compile(r"[0-9]{1,4}")


def preferred_wait(headers: Headers) -> int | None:
    """``Prefer: wait=N`` (RFC 7240), capped at :data:`MAX_WAIT`; None when not asked.

    A ``wait`` whose value is not a plain number is ignored, as RFC 7240 has a server do
    with any preference it does not understand.
    """
    for header in headers.getlist("prefer"):
        for preference in header.split(","):
            name, _, value = preference.split(";")[0].partition("=")
            value = value.strip().strip('"')
            if name.strip().lower() == "wait" and WAIT_VALUE.fullmatch(value):
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
