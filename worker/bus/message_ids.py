"""What a message id and a correlation id may be, for the worker and the CLI alike.

Both end up in the database (the inbox's key, the outbox's correlation column):
PostgreSQL's ``text`` cannot hold NUL, UTF-8 cannot hold a lone surrogate, and
AMQP's short strings and our columns stop at 255 **bytes**, not characters. A
value the database could not store would fail at commit, be taken for a bug and
run the whole retry budget; it is refused on arrival instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_ID_BYTES = 255
#: Message ids of the commands policies issue: ``policy-<handler>/<event id>/<n>``. No
#: client may send one: the worker seals its own.
POLICY_PREFIX = "policy-"
#: C0 controls, DEL, C1 controls and lone surrogates (which UTF-8 cannot encode).
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class IdProblem(Exception):
    """Why a value cannot serve as an id; ``code`` is the outcome's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _check_text(value: str, what: str, code: str) -> None:
    if not value.strip():
        raise IdProblem(code, f"the {what} is empty or only whitespace")
    unstorable = _UNSTORABLE.search(value)
    if unstorable:
        raise IdProblem(
            code,
            f"the {what} contains {unstorable.group()!r} at position {unstorable.start()}; "
            "control characters and lone surrogates cannot be stored",
        )
    size = len(value.encode("utf-8"))
    if size > MAX_ID_BYTES:
        raise IdProblem(
            code, f"the {what} is {size} bytes long; at most {MAX_ID_BYTES} are allowed"
        )


def saga_keys(kinds: Iterable[str]) -> re.Pattern[str] | None:
    """The message ids saga steps use (``<kind>-<id>/<step>/<n>``, for every saga kind):
    they share the inbox with clients' ids, so no client may send one."""
    names = sorted(kinds)
    if not names:
        return None
    return re.compile(rf"^(?:{'|'.join(re.escape(kind) for kind in names)})-[^/]*/")


def check_message_id(
    value: str, reserved: re.Pattern[str] | None = None, *, sealed_later: bool = False
) -> str:
    """``value`` if it can be a client's idempotency key; else :class:`IdProblem`.

    ``sealed_later``: a policy's id passes here, for the envelope to check its seal.
    """
    _check_text(value, "message id", "invalid_message_id")
    if value.startswith(POLICY_PREFIX) and not sealed_later:
        raise IdProblem(
            "reserved_message_id",
            f"message ids of the form {POLICY_PREFIX}<handler>/... are the policies' own",
        )
    if reserved is not None and reserved.match(value):
        kind = value.split("-", 1)[0]
        raise IdProblem(
            "reserved_message_id",
            f"message ids of the form {kind}-<id>/<step>/... are the sagas' own",
        )
    return value


def check_correlation_id(value: str) -> str:
    """``value`` if it can be stored as a correlation id; else :class:`IdProblem`."""
    _check_text(value, "correlation id", "invalid_correlation_id")
    return value
