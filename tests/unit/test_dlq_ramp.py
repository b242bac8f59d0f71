"""The bulk retry ramps up (1, 2, 4...), stops by itself, and never lets a letter leave
the DLQ unrecorded: through hand-written fakes."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from aiormq.exceptions import ChannelInvalidStateError

from worker.cli.common import CliError
from worker.ops.dlq.letters import DeadLetter, Properties, read
from worker.ops.dlq.ramp import SendFailed, batch_sizes, resend_letters
from worker.ops.dlq.report import interrupted
from worker.ops.dlq.resend_report import Answer, ResendInterrupted, ResendReport


def letters(count: int) -> list[DeadLetter]:
    return [
        read("accounts.commands.dlq", b"{}", {"dlq-id": f"id-{n}"}, Properties(f"m-{n}"))
        for n in range(count)
    ]


class Journal(list[str]):
    """What happened, in order, across the fakes: ``sent id-0``, ``recorded id-0``..."""


class FakeSender:
    def __init__(
        self, journal: Journal, refuse: str | None = None, lose_broker_at: str | None = None
    ) -> None:
        self.journal, self.refuse, self.lose_broker_at = journal, refuse, lose_broker_at

    @property
    def sent(self) -> list[str]:
        return [entry.split()[1] for entry in self.journal if entry.startswith("sent ")]

    async def send(self, letter: DeadLetter) -> None:
        if letter.id == self.refuse:
            raise SendFailed(f"the broker did not take {letter.id} back")
        if letter.id == self.lose_broker_at:
            raise ChannelInvalidStateError("the channel is closed")
        self.journal.append(f"sent {letter.id}")

    async def remove(self, letter: DeadLetter) -> None:
        self.journal.append(f"removed {letter.id}")


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


class FakeAudit:
    """Records in the journal; the database refuses the records of ``refuse`` ids (their
    outcome only, with ``only_outcomes``)."""

    def __init__(
        self, journal: Journal, refuse: frozenset[str] = frozenset(), only_outcomes: bool = False
    ) -> None:
        self.journal, self.refuse, self.only_outcomes = journal, refuse, only_outcomes
        self.outcomes: list[tuple[str, str | None]] = []

    async def sent(self, letter: DeadLetter) -> None:
        if letter.id in self.refuse and not self.only_outcomes:
            raise CliError(f"the audit record of dlq.retry {letter.id} could not be written")
        self.journal.append(f"recorded {letter.id}")

    async def outcome(self, letter: DeadLetter, answer: Answer | None) -> None:
        if letter.id in self.refuse:
            raise CliError(f"the outcome of {letter.id} could not be written")
        self.outcomes.append((letter.id, answer["status"] if answer else None))


async def retry(
    count: int,
    sender: FakeSender | None = None,
    outcomes: FakeOutcomes | None = None,
    audit: FakeAudit | None = None,
) -> ResendReport:
    journal = Journal()
    return await resend_letters(
        letters(count),
        sender or FakeSender(journal),
        outcomes or FakeOutcomes(),
        audit or FakeAudit(journal),
        rate=1000,
        watch_timeout=1,
    )


async def test_a_bulk_retry_sends_one_first_then_doubles_until_the_selection_is_empty() -> None:
    journal = Journal()
    sender, outcomes, audit = FakeSender(journal), FakeOutcomes(), FakeAudit(journal)
    report = await retry(10, sender, outcomes, audit)
    assert [len(batch) for batch in outcomes.batches] == [1, 2, 4, 3]
    assert sender.sent == [f"id-{n}" for n in range(10)]
    assert (report.count("accepted"), report.left, report.stopped) == (10, 0, None)
    assert len(audit.outcomes) == 10


async def test_each_letter_is_recorded_as_sent_after_the_confirm_and_before_its_removal() -> None:
    journal = Journal()
    await retry(2, FakeSender(journal), FakeOutcomes(), FakeAudit(journal))
    assert journal == [
        f"{step} id-{n}" for n in range(2) for step in ("sent", "recorded", "removed")
    ]


async def test_a_letter_whose_record_cannot_be_written_stays_in_the_dlq_and_stops_the_retry() -> (
    None
):
    journal = Journal()
    audit = FakeAudit(journal, refuse=frozenset({"id-2"}))
    with pytest.raises(ResendInterrupted) as cut:
        await retry(5, FakeSender(journal), FakeOutcomes(), audit)
    assert "removed id-2" not in journal and "sent id-3" not in journal
    report = cut.value.report
    assert [x.id for x in report.kept] == ["id-2"]
    assert [x.id for x in report.unwatched] == ["id-1"], "sent, recorded, removed: no outcome"
    assert (len(report.results), report.left) == (1, 3), "id-2, id-3 and id-4"
    assert "could not be written" in str(cut.value.error)


async def test_an_outcome_that_cannot_be_recorded_does_not_cost_the_others_theirs() -> None:
    journal = Journal()
    audit = FakeAudit(journal, refuse=frozenset({"id-1"}), only_outcomes=True)
    with pytest.raises(ResendInterrupted) as cut:
        await retry(3, FakeSender(journal), FakeOutcomes(), audit)
    assert audit.outcomes == [("id-0", "accepted"), ("id-2", "accepted")]
    assert cut.value.report.left == 0, "all three went back; one outcome is unrecorded"


def test_batches_never_exceed_the_rate() -> None:
    sizes = batch_sizes(3)
    assert [next(sizes) for _ in range(5)] == [1, 2, 3, 3, 3]
    slow = batch_sizes(0.5)
    assert [next(slow) for _ in range(3)] == [1, 1, 1]


async def test_a_message_failing_again_stops_the_retry_and_leaves_the_rest_in_the_dlq() -> None:
    journal = Journal()
    outcomes, audit = FakeOutcomes({"m-2": "invalid"}), FakeAudit(journal)
    report = await retry(10, FakeSender(journal), outcomes, audit)
    assert [len(batch) for batch in outcomes.batches] == [1, 2]
    assert (report.sent, report.left) == (3, 7)
    assert report.stopped is not None and "failed again" in report.stopped
    assert ("id-2", "invalid") in audit.outcomes


async def test_a_retrying_notice_counts_as_failing_again() -> None:
    report = await retry(3, outcomes=FakeOutcomes({"m-0": "retrying"}))
    assert (report.sent, report.count("retrying")) == (1, 1)


async def test_no_outcome_in_time_stops_and_asks_whether_a_worker_runs() -> None:
    journal = Journal()
    audit = FakeAudit(journal)
    outcomes = FakeOutcomes(silent=frozenset({"m-0"}))
    report = await retry(3, FakeSender(journal), outcomes, audit)
    assert report.stopped == "no outcome within 1 s: is a worker running?"
    assert audit.outcomes == [("id-0", None)], "the audit says it was sent, with no outcome"


async def test_a_message_the_broker_refuses_stops_the_retry_where_it_is() -> None:
    journal = Journal()
    sender, outcomes = FakeSender(journal, refuse="id-2"), FakeOutcomes()
    report = await retry(5, sender, outcomes, FakeAudit(journal))
    assert sender.sent == ["id-0", "id-1"]
    assert outcomes.batches == [["m-0"], ["m-1"]], "the outcome of what was sent is awaited"
    assert (report.sent, report.left) == (2, 3)
    assert report.stopped == "the broker did not take id-2 back"


@pytest.mark.parametrize("statuses", [{}, {"m-1": "rejected"}])
async def test_accepted_and_rejected_are_both_settled(statuses: dict[str, str]) -> None:
    report = await retry(3, outcomes=FakeOutcomes(statuses))
    assert (report.sent, report.stopped) == (3, None)


async def test_a_lost_broker_ends_the_retry_with_what_went_back_already_recorded() -> None:
    journal = Journal()
    audit = FakeAudit(journal)
    with pytest.raises(ResendInterrupted) as cut:
        await retry(5, FakeSender(journal, lose_broker_at="id-2"), FakeOutcomes(), audit)
    assert [e for e in journal if e.startswith("recorded")] == ["recorded id-0", "recorded id-1"]
    assert audit.outcomes == [("id-0", "accepted")]
    report = cut.value.report
    assert ([x.id for x in report.unwatched], report.kept, report.left) == (["id-1"], [], 3)


async def test_a_chunk_whose_time_is_up_sends_no_further_batch_and_has_not_stopped() -> None:
    journal, checks = Journal(), iter([True, True, False])
    outcomes = FakeOutcomes()
    report = await resend_letters(
        letters(10),
        FakeSender(journal),
        outcomes,
        FakeAudit(journal),
        rate=1000,
        watch_timeout=1,
        in_time=lambda: next(checks),
    )
    assert [len(batch) for batch in outcomes.batches] == [1, 2]
    assert (report.sent, report.left, report.stopped) == (3, 7, None)


async def test_an_interrupted_retry_ends_with_one_line_saying_what_was_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    journal = Journal()
    audit = FakeAudit(journal, refuse=frozenset({"id-3"}))
    with pytest.raises(ResendInterrupted) as cut:
        await retry(6, FakeSender(journal), FakeOutcomes(), audit)
    with pytest.raises(CliError) as failed:
        interrupted(cut.value, as_json=False)
    line = str(failed.value)
    assert line.startswith("stopped: the audit record of dlq.retry id-3 could not be written")
    assert "3 sent back and recorded before that" in line
    assert "id-3 sent back but still in the DLQ too" in line
    assert line.endswith("3 left in the DLQ")
    assert "sent back 4 of 6" in capsys.readouterr().out


def test_a_broken_connection_is_named_as_such() -> None:
    report = ResendReport(selected=2)
    cut = ResendInterrupted(report, ChannelInvalidStateError("channel closed"))
    with pytest.raises(CliError, match=r"^stopped: the connection to RabbitMQ broke \(channel"):
        interrupted(cut, as_json=True)
