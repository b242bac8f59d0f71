"""What an edit changes in a dead letter's body, shown field by field before it is sent."""

from __future__ import annotations

import json

from worker.web.console.diffs import ABSENT, WHOLE_BODY, body_changes


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_only_the_edited_field_shows_as_changed() -> None:
    before = body(account_id="alice", amount="1.001", currency="EUR")
    after = body(currency="EUR", amount="1.00", account_id="alice")
    changes = {c.field: c for c in body_changes(before, after, locked=("account_id",))}
    assert [name for name, c in changes.items() if c.changed] == ["amount"]
    assert (changes["amount"].before, changes["amount"].after) == ('"1.001"', '"1.00"')
    assert changes["account_id"].locked and not changes["amount"].locked


def test_a_field_added_or_dropped_by_the_edit_shows_as_absent_on_the_other_side() -> None:
    changes = {c.field: c for c in body_changes(body(a=1, gone=2), body(a=1, new=[3]))}
    assert (changes["new"].before, changes["new"].after) == (ABSENT, "[3]")
    assert (changes["gone"].before, changes["gone"].after) == ("2", ABSENT)


def test_a_body_that_was_not_json_is_one_row_with_its_text() -> None:
    [change] = body_changes(b'{"account_id": "zed", "amount":', body(account_id="zed"))
    assert change.field == WHOLE_BODY
    assert change.before == '{"account_id": "zed", "amount":'
    assert change.changed


def test_an_identity_field_the_original_lacked_is_not_locked_as_the_edit_may_fill_it() -> None:
    changes = {
        c.field: c
        for c in body_changes(
            body(amount="1"), body(account_id="zed", amount="1"), locked=("account_id",)
        )
    }
    assert changes["account_id"].changed and not changes["account_id"].locked
    kept = body_changes(body(account_id="zed"), body(account_id="zed"), locked=("account_id",))
    assert kept[0].locked
