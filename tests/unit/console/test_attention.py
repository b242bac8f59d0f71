"""Which event handlers the home page shows: the ones that fail, stopped, rebuild or lag."""

from __future__ import annotations

import pytest

from worker.ops.dlq.letters import Properties, read
from worker.web.console.attention import LAGGING_SECONDS, briefly, dlq_entries, needs_attention


def handler(state: str, lag_seconds: float = 0.0) -> dict[str, object]:
    return {"name": "account_statement", "state": state, "lag_seconds": lag_seconds}


@pytest.mark.parametrize("state", ["failing", "stopped", "rebuilding"])
def test_a_handler_that_fails_stopped_or_rebuilds_is_shown(state: str) -> None:
    assert needs_attention(handler(state))


def test_a_live_handler_or_one_briefly_catching_up_is_not_shown() -> None:
    assert not needs_attention(handler("live"))
    assert not needs_attention(handler("catching_up", LAGGING_SECONDS / 2))


def test_a_handler_far_behind_the_log_is_shown() -> None:
    assert needs_attention(handler("catching_up", LAGGING_SECONDS))


def test_a_long_error_is_cut_to_one_short_line() -> None:
    text = briefly(RuntimeError("tcp connect error\n" + "x" * 500), width=40)
    assert len(text) == 40 and "\n" not in text and text.endswith("…")


def test_a_dlq_counts_what_its_queue_holds_and_groups_only_the_letters_read() -> None:
    letters = [
        read("a.dlq", b"{}", {"dlq-id": f"l{i}", "error-code": "db_down"}, Properties())
        for i in range(3)
    ]
    [entry] = dlq_entries({"a.dlq": 250, "empty.dlq": 0}, letters)
    assert (entry["dlq"], entry["count"], entry["more"]) == ("a.dlq", 250, 247)
    assert [g["count"] for g in entry["groups"]] == [3]
