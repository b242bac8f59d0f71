"""What an edit changes in a dead letter's body, field by field, shown before it is sent."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

#: The value of a field one side does not have.
ABSENT = "(absent)"
WHOLE_BODY = "(the body)"


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str
    #: An identity field the original has: its value cannot change (the edit would have
    #: been refused); one the original lacks may be filled in.
    locked: bool = False

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _parsed(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def body_changes(original: bytes, edited: bytes, locked: Collection[str] = ()) -> list[Change]:
    """Each field of either body, with its value before and after (as JSON); a body that
    is not a JSON object is one row."""
    before, after = _parsed(original), _parsed(edited)
    if not (isinstance(before, dict) and isinstance(after, dict)):
        shown = before if isinstance(before, str) else _shown(before)
        return [Change(WHOLE_BODY, shown, _shown(after))]
    fields = [*before, *(key for key in after if key not in before)]
    return [
        Change(
            key,
            _shown(before[key]) if key in before else ABSENT,
            _shown(after[key]) if key in after else ABSENT,
            locked=key in locked and key in before,
        )
        for key in fields
    ]
