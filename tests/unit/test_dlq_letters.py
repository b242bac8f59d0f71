"""Reading dead letters: ids, tolerance of old and broker-made copies, grouping, selection,
and the copy that goes back (what it keeps, what it sheds)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pamqp import decode, encode

from tests.wiring import COMMANDS as REGISTRY
from worker.messaging import headers as h
from worker.messaging import wire
from worker.ops.dlq.groups import group, select
from worker.ops.dlq.letters import DeadLetter, Properties, has_own_id, read
from worker.ops.dlq.redelivery import redelivery
from worker.ops.dlq.views import audit_after

DLQ = "accounts.commands.dlq"
BODY = json.dumps({"account_id": "alice", "amount": "5.00", "currency": "EUR"}).encode()


def worker_record(dlq_id: str, code: str = "handler_failed", **extra: Any) -> dict[str, Any]:
    """The headers the worker writes when it dead-letters a Deposit."""
    return {
        h.DLQ_ID: dlq_id,
        h.FAILURE_CLASS: "bug",
        h.ERROR_CODE: code,
        h.ERROR_MESSAGE: "RuntimeError: boom",
        h.EXCEPTION_TYPE: "RuntimeError",
        h.STACK: "Traceback ...",
        h.ORIGINAL_QUEUE: "accounts.commands",
        h.ORIGINAL_EXCHANGE: "commands",
        h.ORIGINAL_ROUTING_KEY: "Deposit",
        h.COMMAND: "Deposit",
        h.ATTEMPTS: 7,
        h.FAILED_AT: "2030-01-02T03:04:05+00:00",
        **extra,
    }


def letter(headers: dict[str, Any], body: bytes = BODY, **props: Any) -> DeadLetter:
    properties = Properties(**{"message_id": "m-1", **props})
    return read(DLQ, body, headers, properties, REGISTRY.public, REGISTRY.reserved_ids)


def broker_copy(delivery_count: int) -> DeadLetter:
    death = {
        "reason": "delivery_limit",
        "queue": "accounts.commands",
        "exchange": "commands",
        "routing-keys": ["Withdraw"],
        "count": 1,
        "time": datetime(2030, 1, 1, tzinfo=UTC),
    }
    return letter({"x-death": [death], "x-delivery-count": delivery_count})


def test_a_copy_the_worker_dead_lettered_is_read_from_its_record() -> None:
    found = letter(worker_record("0123456789ab"))
    assert (found.id, found.failure_class, found.error_code) == (
        "0123456789ab",
        "bug",
        "handler_failed",
    )
    assert (found.original_queue, found.command, found.attempts) == (
        "accounts.commands",
        "Deposit",
        7,
    )
    assert found.message_id == "m-1"


def test_a_copy_the_broker_dead_lettered_is_a_bug_at_its_delivery_limit() -> None:
    found = broker_copy(3)
    assert (found.failure_class, found.error_code) == ("bug", "delivery_limit")
    assert found.original_queue == "accounts.commands"
    assert found.command == "Withdraw", "the routing key names the command"
    assert found.failed_at == "2030-01-01T00:00:00+00:00"
    assert "delivery_limit" in found.error_message


def test_a_copy_without_an_id_keeps_the_same_id_however_often_it_is_looked_at() -> None:
    first, again = broker_copy(1), broker_copy(7)
    assert first.id == again.id
    assert len(first.id) == 12
    assert letter({"x-death": [{"reason": "delivery_limit"}]}, b"other").id != first.id


def test_an_old_copy_without_a_class_takes_one_from_its_error_code() -> None:
    old = {"error-code": "schema_validation_failed", "original-queue": "accounts.commands"}
    assert letter(old).failure_class == "invalid"
    assert letter({**old, "error-code": "handler_failed"}).failure_class == "bug"


def test_the_message_id_header_wins_over_the_property() -> None:
    assert letter({"message-id": "from-header"}, message_id="random").message_id == "from-header"


def test_letters_group_by_queue_class_and_code_with_their_oldest_and_newest_failure() -> None:
    early = worker_record("a1", **{h.FAILED_AT: "2030-01-01T00:00:00+00:00"})
    late = worker_record("a2", **{h.FAILED_AT: "2030-01-03T00:00:00+00:00"})
    other = worker_record("b1", code="schema_validation_failed", **{h.FAILURE_CLASS: "invalid"})
    groups = group([letter(late), letter(other), letter(early)])
    assert [(g.failure_class, g.error_code, g.count) for g in groups] == [
        ("bug", "handler_failed", 2),
        ("invalid", "schema_validation_failed", 1),
    ]
    assert [x.id for x in groups[0].letters] == ["a1", "a2"], "oldest first"
    assert groups[0].oldest == datetime(2030, 1, 1, tzinfo=UTC)
    assert groups[0].newest == datetime(2030, 1, 3, tzinfo=UTC)


def test_selection_by_id_takes_every_copy_and_names_the_ids_it_did_not_find() -> None:
    letters = [letter(worker_record(i)) for i in ("a1", "b2", "a1")]
    chosen = select(letters, ids=["a1", "zz", "a1"])
    assert [x.id for x in chosen.letters] == ["a1", "a1"]
    assert chosen.missing == ["zz"]


def test_selection_by_group_takes_one_error_code_and_all_takes_everything() -> None:
    letters = [letter(worker_record("a1")), letter(worker_record("b2", code="malformed_json"))]
    assert [x.id for x in select(letters, code="malformed_json").letters] == ["b2"]
    assert len(select(letters, everything=True).letters) == 2


def test_the_copy_sent_back_sheds_the_failure_record_and_keeps_the_rest_and_its_origin() -> None:
    extra: dict[str, Any] = {"message-id": "m-1", "x-death": [], "tenant": "acme"}
    headers = worker_record("a1", **extra)
    headers.update({h.RETRY_ROUND: 3, h.RETRY_REPLY_TO: "old", "x-delivery-count": 4})
    message = redelivery(letter(headers, correlation_id="c-1"), "amq.gen-reply")
    assert message.headers == {
        "message-id": "m-1",
        "tenant": "acme",
        h.COMMAND: "Deposit",
        h.ORIGINAL_EXCHANGE: "commands",
        h.ORIGINAL_ROUTING_KEY: "Deposit",
        h.RETRIED_FROM: "a1",
        h.RETRY_REPLY_TO: "amq.gen-reply",
    }
    assert (message.message_id, message.correlation_id) == ("m-1", "c-1")
    assert message.body == BODY


def test_the_copy_sent_back_names_its_command_in_type_because_its_routing_key_is_the_queue() -> (
    None
):
    from_header = letter(worker_record("a1"), type=None)
    from_routing_key = letter({"original-routing-key": "Withdraw"}, type="something")
    from_type = letter({"original-routing-key": "accounts.commands"}, type="Deposit")
    assert redelivery(from_header, "r").type == "Deposit"
    assert redelivery(from_routing_key, "r").type == "Withdraw"
    assert redelivery(from_type, "r").type == "Deposit"


def test_an_edited_body_goes_back_as_json() -> None:
    found = letter(worker_record("a1"), content_type="text/plain")
    message = redelivery(found, "r", body=b'{"fixed": true}')
    assert (message.body, message.content_type) == (b'{"fixed": true}', "application/json")


def test_a_letter_dead_lettered_for_lacking_a_message_id_has_none_of_its_own() -> None:
    made_up = letter(worker_record("a1", code="missing_message_id"), message_id="4f1c0d9e")
    assert made_up.message_id == "4f1c0d9e", "a client library filled one in"
    assert not has_own_id(made_up)
    assert not has_own_id(letter(worker_record("a2"), message_id=None))
    assert not has_own_id(letter(worker_record("a3"), message_id="x" * 256))
    assert not has_own_id(letter(worker_record("a4"), message_id="transfer-t1/debit"))
    assert has_own_id(letter(worker_record("a5")))


def test_a_header_that_is_not_utf8_goes_back_as_the_same_bytes_of_the_same_type() -> None:
    wire.install()
    found = letter(worker_record("a1", tenant=b"\xff\xfe", nested={"raw": [b"\x80"]}))
    properties = redelivery(found, "r").properties
    _, headers = decode.field_table(encode.field_table(properties.headers))
    assert (headers["tenant"], headers["nested"]) == (b"\xff\xfe", {"raw": [b"\x80"]})
    assert type(headers["tenant"]) is bytes, "a long string that is not UTF-8, as received"


def test_a_letter_keeps_its_id_from_a_byte_array_header_when_it_goes_back() -> None:
    found = letter(worker_record("a1", **{"message-id": bytearray(b"from-header")}))
    assert found.message_id == "from-header"
    assert redelivery(found, "r").message_id == "from-header"


def test_an_edit_answered_as_a_duplicate_is_recorded_as_changing_nothing() -> None:
    answer = {"status": "accepted", "message_id": "m-1", "error": None, "duplicate": True}
    assert audit_after(answer, edited=True)["status"] == "duplicate"
    as_is = audit_after(answer)
    assert (as_is["status"], as_is["duplicate"]) == ("accepted", True)
    assert audit_after(None)["status"] == "no_outcome"


def test_an_attempts_header_that_is_no_count_reads_as_unknown() -> None:
    for value in (float("inf"), float("nan"), "many", b"\xff"):
        assert letter(worker_record("a1", **{h.ATTEMPTS: value})).attempts is None
