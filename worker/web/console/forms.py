"""What the console's action forms must hold: a reason, always; names and choices checked."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import FormData

from worker.web.console.gate import text

#: As much as a saga's history keeps of an operator's reason.
MAX_REASON = 2000


class FormError(Exception):
    """A field the operator must fix; the form comes back with the message beside it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    @property
    def errors(self) -> dict[str, str]:
        return {self.field: self.message}


def reason_of(form: FormData) -> str:
    """The action's reason, stripped: it goes into the audit log (and a saga's history)."""
    reason = text(form, "reason").strip()
    if not reason:
        raise FormError("reason", "say why: the reason is kept in the audit log")
    if len(reason) > MAX_REASON:
        raise FormError("reason", f"at most {MAX_REASON} characters ({len(reason)} given)")
    return reason


def choice_of(form: FormData, field: str, choices: Sequence[str]) -> str:
    value = text(form, field)
    if value not in choices:
        raise FormError(field, f"choose one of {', '.join(choices)}")
    return value


def filled(form: FormData, field: str, what: str) -> str:
    value = text(form, field).strip()
    if not value:
        raise FormError(field, f"{what} is needed")
    return value
