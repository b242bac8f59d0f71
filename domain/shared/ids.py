"""What an aggregate id may be, in every context: no "/" (it separates the parts of a
saga's step keys), no spaces, at most 64 characters."""

from __future__ import annotations

import re

from domain.shared.errors import InvalidValue

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def validate_id(kind: str, value: str) -> str:
    """``value`` if it can be the id of a ``kind`` ("account", "transfer"); else InvalidValue."""
    if not isinstance(value, str) or not re.fullmatch(ID_PATTERN, value):
        raise InvalidValue(f"{kind} id {value!r} does not match {ID_PATTERN}")
    return value
