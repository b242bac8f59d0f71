"""The bulk retry ramps up (1, 2, 4...) and stops by itself, through hand-written fakes."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from worker.adapters.rabbitmq.dead_letters import DeadLetter, Properties, read
from worker.adapters.rabbitmq.dlq_retry import Answer, SendFailed, batch_sizes, retry_letters


def letters(count: int) -> list[DeadLetter]:
    return [
        read("accounts.commands.dlq", b"{}", {"dlq-id": f"id-{n}"}, Properties(f"m-{n}"))
        for n in range(count)
    ]


class FakeSender:
    def __init__(self, refuse: str | None = None, lose_broker_at: str | None = None) -> None:
        self.sent: list[str] = []
        self.refuse = refuse
        self.lose_broker_at = lose_broker_at

    async def send_back(self, letter: DeadLetter) -> None:
        if letter.id == self.refuse:
            raise SendFailed(f"the broker did not take {letter.id} back")
        if letter.id == self.lose_broker_at:
            raise ConnectionResetError("the broker went away")
        self.sent.append(letter.id)


class FakeOutcomes:
    """Answers ``accepted`` unless told otherwise; ``None`` (no answer) for ``silent`` ids."""

    def __init__(
        self, statuses: dict[str, str] | None = None, silent: frozenset[str] = frozenset()
    ) -> None:
        self.statuses = statuses or {}
        self.silent = silent
        self.batches: list[list[str]] = []

    async def wait(self, message_ids: Sequence[str], seconds: float) -> list[Answer | None]:
        self.batches.append(list(message_ids))
        return [
            None
            if key in self.silent
            else {"status": self.statuses.get(key, "accepted"), "message_id": key, "error": None}
            for key in message_ids
        ]


class Audit:
    def __init__(self) -> None:
        self.records: list[tuple[str, str | None]] = []

    async def __call__(self, letter: DeadLetter, answer: Answer | None) -> None:
        self.records.append((letter.id, answer and answer["status"]))


async def test_a_bulk_retry_sends_one_first_then_doubles_until_the_selection_is_empty() -> None:
    sender, outcomes, audit = FakeSender(), FakeOutcomes(), Audit()
    report = await retry_letters(letters(10), sender, outcomes, audit, rate=1000, watch_timeout=1)
    assert [len(batch) for batch in outcomes.batches] == [1, 2, 4, 3]
    assert sender.sent == [f"id-{n}" for n in range(10)]
    assert (report.count("accepted"), report.left, report.stopped) == (10, 0, None)
    assert len(audit.records) == 10


def test_batches_never_exceed_the_rate() -> None:
    sizes = batch_sizes(3)
    assert [next(sizes) for _ in range(5)] == [1, 2, 3, 3, 3]
    slow = batch_sizes(0.5)
    assert [next(slow) for _ in range(3)] == [1, 1, 1]


async def test_a_message_failing_again_stops_the_retry_and_leaves_the_rest_in_the_dlq() -> None:
    outcomes = FakeOutcomes({"m-2": "invalid"})
    audit = Audit()
    report = await retry_letters(
        letters(10), FakeSender(), outcomes, audit, rate=1000, watch_timeout=1
    )
    assert [len(batch) for batch in outcomes.batches] == [1, 2]
    assert (report.sent, report.left) == (3, 7)
    assert report.stopped is not None and "failed again" in report.stopped
    assert ("id-2", "invalid") in audit.records


async def test_a_retrying_notice_counts_as_failing_again() -> None:
    outcomes = FakeOutcomes({"m-0": "retrying"})
    report = await retry_letters(
        letters(3), FakeSender(), outcomes, Audit(), rate=1000, watch_timeout=1
    )
    assert (report.sent, report.count("retrying")) == (1, 1)


async def test_no_outcome_in_time_stops_and_asks_whether_a_worker_runs() -> None:
    audit = Audit()
    report = await retry_letters(
        letters(3),
        FakeSender(),
        FakeOutcomes(silent=frozenset({"m-0"})),
        audit,
        rate=1000,
        watch_timeout=1,
    )
    assert report.stopped == "no outcome within 1 s: is a worker running?"
    assert audit.records == [("id-0", None)], "the audit says it was sent, with no outcome"


async def test_a_message_the_broker_refuses_stops_the_retry_where_it_is() -> None:
    sender, outcomes = FakeSender(refuse="id-2"), FakeOutcomes()
    report = await retry_letters(letters(5), sender, outcomes, Audit(), rate=1000, watch_timeout=1)
    assert sender.sent == ["id-0", "id-1"]
    assert outcomes.batches == [["m-0"], ["m-1"]], "the outcome of what was sent is awaited"
    assert (report.sent, report.left) == (2, 3)
    assert report.stopped == "the broker did not take id-2 back"


@pytest.mark.parametrize("statuses", [{}, {"m-1": "rejected"}])
async def test_accepted_and_rejected_are_both_settled(statuses: dict[str, str]) -> None:
    report = await retry_letters(
        letters(3), FakeSender(), FakeOutcomes(statuses), Audit(), rate=1000, watch_timeout=1
    )
    assert (report.sent, report.stopped) == (3, None)


async def test_what_went_back_is_audited_even_when_the_retry_is_cut_short() -> None:
    audit = Audit()
    with pytest.raises(ConnectionResetError):
        await retry_letters(
            letters(5),
            FakeSender(lose_broker_at="id-2"),
            FakeOutcomes(),
            audit,
            rate=1000,
            watch_timeout=1,
        )
    assert audit.records == [("id-0", "accepted"), ("id-1", None)]
