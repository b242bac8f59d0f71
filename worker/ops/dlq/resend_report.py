"""What a ``dlq resend`` did: each letter sent back, its outcome, and why it stopped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from worker.ops.dlq.letters import DeadLetter

#: The worker's answer for a message sent back (see ``publishing.ReplyPublisher``).
Answer = dict[str, Any]


@dataclass
class ResendReport:
    selected: int
    #: Sent back, recorded and removed from the DLQ, with the outcome awaited.
    results: list[tuple[DeadLetter, Answer | None]] = field(default_factory=list)
    #: Sent back, recorded and removed, but cut short before the outcome came.
    unwatched: list[DeadLetter] = field(default_factory=list)
    #: Sent back, but still in the DLQ too: its record or its removal failed.
    kept: list[DeadLetter] = field(default_factory=list)
    stopped: str | None = None
    #: Chosen, but not found in the DLQ when it was browsed again.
    gone: int = 0
    #: How many times the DLQs were browsed for the letters to send.
    chunks: int = 0

    def count(self, *statuses: str) -> int:
        return sum(1 for _, answer in self.results if answer and answer["status"] in statuses)

    @property
    def duplicates(self) -> int:
        return sum(1 for _, answer in self.results if answer and answer.get("duplicate"))

    @property
    def sent_letters(self) -> list[DeadLetter]:
        return [letter for letter, _ in self.results] + self.unwatched + self.kept

    @property
    def sent(self) -> int:
        return len(self.sent_letters)

    @property
    def left(self) -> int:
        """Still in the DLQ: not sent (and not gone), or sent and kept."""
        return self.selected - len(self.results) - len(self.unwatched) - self.gone

    @property
    def unanswered(self) -> int:
        return sum(1 for _, answer in self.results if answer is None)


class ResendInterrupted(Exception):
    """The broker or the database failed mid-way; ``report`` says what was done."""

    def __init__(self, report: ResendReport, error: Exception) -> None:
        super().__init__(str(error))
        self.report, self.error = report, error
