"""Grouping dead letters the way operators triage them, and picking the ones to act on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from worker.ops.dlq.letters import DeadLetter


def moment(text: str | None) -> datetime | None:
    """An ISO-8601 ``failed-at`` as an aware datetime (naive ones are taken as UTC)."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Group:
    """The dead letters of one DLQ that failed the same way (class and error code)."""

    dlq: str
    failure_class: str
    error_code: str
    letters: tuple[DeadLetter, ...]

    @property
    def count(self) -> int:
        return len(self.letters)

    def _moments(self) -> list[datetime]:
        return sorted(m for m in (moment(letter.failed_at) for letter in self.letters) if m)

    @property
    def oldest(self) -> datetime | None:
        moments = self._moments()
        return moments[0] if moments else None

    @property
    def newest(self) -> datetime | None:
        moments = self._moments()
        return moments[-1] if moments else None


def group(letters: Iterable[DeadLetter]) -> list[Group]:
    """Groups by DLQ, failure class and error code; oldest failure first within a group."""
    buckets: dict[tuple[str, str, str], list[DeadLetter]] = {}
    for letter in letters:
        key = (letter.dlq, letter.failure_class, letter.error_code)
        buckets.setdefault(key, []).append(letter)
    never = datetime.max.replace(tzinfo=UTC)
    return [
        Group(*key, tuple(sorted(found, key=lambda x: moment(x.failed_at) or never)))
        for key, found in sorted(buckets.items())
    ]


@dataclass(frozen=True)
class Selection:
    letters: list[DeadLetter]
    #: Ids asked for that no dead letter has.
    missing: list[str]


def select(
    letters: Sequence[DeadLetter],
    ids: Sequence[str] = (),
    code: str | None = None,
    everything: bool = False,
) -> Selection:
    """The letters with one of ``ids`` (every copy of a repeated id), or with error
    ``code``, or all of them; in the order they were read."""
    if everything:
        return Selection(list(letters), [])
    if code is not None:
        return Selection([x for x in letters if x.error_code == code], [])
    wanted = list(dict.fromkeys(ids))
    found = {x.id for x in letters}
    chosen = [x for x in letters if x.id in wanted]
    return Selection(chosen, [i for i in wanted if i not in found])
