"""The one answer every command gets: accepted, rejected or invalid."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any


class Status(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    INVALID = "invalid"


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one message. ``duplicate`` marks a replayed answer."""

    status: Status
    message_id: str
    error: ErrorInfo | None = None
    duplicate: bool = False

    @classmethod
    def accepted(cls, message_id: str) -> Outcome:
        return cls(Status.ACCEPTED, message_id)

    @classmethod
    def rejected(cls, message_id: str, code: str, message: str) -> Outcome:
        return cls(Status.REJECTED, message_id, ErrorInfo(code, message))

    @classmethod
    def invalid(cls, message_id: str, code: str, message: str) -> Outcome:
        return cls(Status.INVALID, message_id, ErrorInfo(code, message))

    def as_duplicate(self) -> Outcome:
        return replace(self, duplicate=True)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "message_id": self.message_id,
            "error": None
            if self.error is None
            else {"code": self.error.code, "message": self.error.message},
            "duplicate": self.duplicate,
        }
