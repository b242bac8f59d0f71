"""The account_statement projection's pure parts: what a movement is called, its sign,
and what the projection declares."""

from __future__ import annotations

import pytest

from worker.contexts.accounts import CONTEXT
from worker.contexts.accounts.statement import (
    ACCOUNT_STATEMENT,
    DEPOSITED,
    WITHDRAWN,
    movement_kind,
    signed_amount,
)
from worker.readside.declarations import Policy


@pytest.mark.parametrize(
    ("event_type", "cause", "kind"),
    [
        (WITHDRAWN, "transfer-T1/withdraw/1", "transfer.withdraw"),
        (DEPOSITED, "transfer-T1/deposit/2", "transfer.deposit"),
        (DEPOSITED, "transfer-T1/refund/1", "transfer.refund"),
        (WITHDRAWN, "order-O-1.a/charge/1", "order.charge"),
        (DEPOSITED, "order-O1/refund_charge/3", "order.refund_charge"),
        (WITHDRAWN, "payout2-2024-05/settle/1", "payout2.settle"),
    ],
)
def test_a_saga_steps_movement_is_named_by_the_sagas_kind_and_the_step(
    event_type: str, cause: str, kind: str
) -> None:
    assert movement_kind(event_type, cause) == kind


@pytest.mark.parametrize(
    "cause",
    [
        "m-1",
        "3f1c2d4e-0000-4000-8000-000000000001",
        "transfer-T1/withdraw",
        "transfer-T1/withdraw/0",
        "transfer-T1/withdraw/1/again",
        "Transfer-T1/withdraw/1",
        "transfer-/withdraw/1",
        "transfer-T1/Withdraw/1",
        "transfer T1/withdraw/1",
        None,
    ],
)
def test_any_other_cause_is_a_clients_deposit_or_withdrawal(cause: str | None) -> None:
    assert movement_kind(DEPOSITED, cause) == "deposit"
    assert movement_kind(WITHDRAWN, cause) == "withdrawal"


def test_a_policys_command_is_no_saga_step_even_when_it_looks_like_one() -> None:
    sealed = Policy(name="pay_out", events=("x.Y",), decide=lambda _: []).message_id("e1", 1)
    assert movement_kind(DEPOSITED, sealed) == "deposit"
    assert movement_kind(DEPOSITED, "policy-pay_out/credit/1") == "deposit"


def test_a_withdrawal_is_the_payloads_amount_with_a_minus_sign() -> None:
    assert signed_amount(WITHDRAWN, "12.50") == "-12.50"
    assert signed_amount(WITHDRAWN, "0.001") == "-0.001"


def test_a_deposit_is_the_payloads_amount_as_it_is_written() -> None:
    assert signed_amount(DEPOSITED, "12.50") == "12.50"
    assert signed_amount(DEPOSITED, "7") == "7"


def test_the_projection_follows_movements_of_money_only() -> None:
    assert ACCOUNT_STATEMENT.events == ("accounts.MoneyDeposited", "accounts.MoneyWithdrawn")
    assert set(ACCOUNT_STATEMENT.tables) == {"account_statement"}
    assert ACCOUNT_STATEMENT in CONTEXT.subscriptions


def test_its_events_are_the_contexts_own() -> None:
    published = {event.type_name() for event in CONTEXT.events}
    assert set(ACCOUNT_STATEMENT.events) <= published
