"""The Order aggregate: its lines, placing, cancelling, the charge mark and the saga's end."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.orders import errors
from domain.orders.events import (
    OrderCancellationRequested,
    OrderCancelled,
    OrderChargeStarted,
    OrderConfirmed,
    OrderConflicted,
    OrderCreated,
    OrderEvent,
    OrderItemAdded,
    OrderItemRemoved,
    OrderItemUpdated,
    OrderNeedsOperator,
    OrderPlaced,
    OrderRejected,
    OrderResolved,
)
from domain.orders.order import (
    ENDED,
    MAX_LINES,
    MAX_UNITS_PER_LINE,
    Order,
    OrderLineItem,
    OrderStatus,
)
from domain.orders.pricing import Pricing
from domain.shared.errors import (
    BusinessRuleViolation,
    CurrencyMismatch,
    InvalidStateTransition,
    InvalidValue,
)
from domain.shared.money import Money

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def draft(*lines: tuple[str, int, str]) -> Order:
    """A draft order with ``lines`` (sku, quantity, EUR price), its events collected."""
    order = Order.create("ord-1", "cus-1", "acc-1", "EUR")
    for sku, quantity, price in lines:
        order.add_line(sku, quantity, eur(price))
    order.collect_events()
    return order


def placed() -> Order:
    order = draft(("MUG", 2, "8.50"))
    order.place(Pricing())
    order.collect_events()
    return order


def charging() -> Order:
    order = placed()
    order.start_charge()
    order.collect_events()
    return order


def cancel_requested() -> Order:
    order = placed()
    order.cancel("changed my mind")
    order.collect_events()
    return order


def ended(status: OrderStatus) -> Order:
    """An order that ended in ``status`` the way the saga (or the customer) ends one."""
    if status is OrderStatus.CANCELLED:
        order = draft()
        order.cancel("no longer needed")
    else:
        order = charging()
        state = {OrderStatus.CONFIRMED: "completed"}.get(status, status.value)
        order.end(state, "" if state == "completed" else "why")
    order.collect_events()
    assert order.status is status
    return order


def only_event(order: Order) -> OrderEvent:
    [event] = order.collect_events()
    assert isinstance(event, OrderEvent)
    return event


def state_of(order: Order) -> dict[str, Any]:
    """Everything the order holds, lines included, to show a refusal changed nothing."""
    lines = [vars(line).copy() for line in order.lines]
    return {**copy.copy(vars(order)), "_lines": lines, "pending_events": [*order.pending_events]}


# --- creating ------------------------------------------------------------------------------


def test_creating_an_order_records_who_pays_and_in_which_currency() -> None:
    order = Order.create("ord-1", "cus-1", "acc-1", "EUR")

    event = only_event(order)
    assert isinstance(event, OrderCreated)
    assert event.type_name() == "orders.OrderCreated"
    assert event.payload() == {
        "order_id": "ord-1",
        "customer_id": "cus-1",
        "payment_account_id": "acc-1",
        "currency": "EUR",
    }
    assert (order.status, order.lines, order.total, order.version) == (
        OrderStatus.DRAFT,
        (),
        None,
        1,
    )
    assert order.created_at == order.updated_at == event.occurred_at


@pytest.mark.parametrize(
    ("order_id", "customer_id", "account_id", "currency"),
    [
        ("ord/1", "cus-1", "acc-1", "EUR"),
        ("ord-1", "", "acc-1", "EUR"),
        ("ord-1", "cus-1", "acc 1", "EUR"),
        ("ord-1", "cus-1", "acc-1", "XXX"),
    ],
)
def test_an_order_with_a_malformed_id_or_unknown_currency_is_invalid(
    order_id: str, customer_id: str, account_id: str, currency: str
) -> None:
    with pytest.raises(InvalidValue):
        Order.create(order_id, customer_id, account_id, currency)


# --- lines ----------------------------------------------------------------------------------


def test_adding_a_line_records_the_units_added_and_their_price() -> None:
    order = draft()

    order.add_line("MUG", 3, eur("8.50"))

    [line] = order.lines
    assert (line.sku, line.quantity, line.unit_price) == ("MUG", 3, eur("8.50"))
    assert (line.discount, line.subtotal) == (eur("0"), eur("25.50"))
    assert only_event(order).payload() == {
        "order_id": "ord-1",
        "sku": "MUG",
        "quantity": 3,
        "line_quantity": 3,
        "unit_price": "8.50",
        "currency": "EUR",
    }


def test_adding_a_sku_already_on_the_order_adds_to_its_quantity_at_its_first_price() -> None:
    order = draft(("MUG", 3, "8.50"), ("TEA", 1, "4.00"))

    order.add_line("MUG", 2, eur("9.00"))

    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("MUG", 5, eur("8.50")),
        ("TEA", 1, eur("4.00")),
    ]
    event = only_event(order)
    assert isinstance(event, OrderItemAdded)
    assert (event.quantity, event.line_quantity, event.unit_price) == (2, 5, "8.50")


def test_updating_a_line_sets_its_quantity() -> None:
    order = draft(("MUG", 3, "8.50"))

    order.update_line("MUG", 7)

    assert [(line.quantity, line.subtotal) for line in order.lines] == [(7, eur("59.50"))]
    assert only_event(order).payload() == {"order_id": "ord-1", "sku": "MUG", "quantity": 7}


def test_removing_a_line_takes_it_off_the_order() -> None:
    order = draft(("MUG", 3, "8.50"), ("TEA", 1, "4.00"))

    order.remove_line("MUG")

    assert [line.sku for line in order.lines] == ["TEA"]
    assert only_event(order).payload() == {"order_id": "ord-1", "sku": "MUG"}


@pytest.mark.parametrize(
    "change",
    [lambda order: order.remove_line("TEA"), lambda order: order.update_line("TEA", 2)],
    ids=["remove", "update"],
)
def test_changing_a_line_that_is_not_there_is_refused_with_line_item_not_found(
    change: Callable[[Order], None],
) -> None:
    order = draft(("MUG", 3, "8.50"))
    before = state_of(order)

    with pytest.raises(errors.LineItemNotFound) as refused:
        change(order)

    assert (refused.value.code, str(refused.value)) == (
        "line_item_not_found",
        "line item not found",
    )
    assert state_of(order) == before


LINE_CHANGES: dict[str, Callable[[Order], None]] = {
    "add": lambda order: order.add_line("TEA", 1, eur("4.00")),
    "add to a line": lambda order: order.add_line("MUG", 1, eur("8.50")),
    "update": lambda order: order.update_line("MUG", 5),
    "remove": lambda order: order.remove_line("MUG"),
}


@pytest.mark.parametrize("change", LINE_CHANGES.values(), ids=LINE_CHANGES.keys())
@pytest.mark.parametrize("not_draft", [placed, charging, cancel_requested])
def test_lines_change_only_while_the_order_is_a_draft(
    change: Callable[[Order], None], not_draft: Callable[[], Order]
) -> None:
    order = not_draft()
    before = state_of(order)

    with pytest.raises(errors.OrderNotDraft) as refused:
        change(order)

    assert refused.value.code == "order_not_draft"
    assert state_of(order) == before


def test_a_cancelled_draft_takes_no_more_lines() -> None:
    order = ended(OrderStatus.CANCELLED)

    with pytest.raises(errors.OrderNotDraft):
        order.add_line("TEA", 1, eur("4.00"))


def test_a_line_holds_at_most_1000_units() -> None:
    order = draft(("MUG", MAX_UNITS_PER_LINE - 1, "8.50"))
    order.add_line("MUG", 1, eur("8.50"))
    order.collect_events()
    before = state_of(order)

    attempts: list[Callable[[], None]] = [
        lambda: order.add_line("MUG", 1, eur("8.50")),
        lambda: order.update_line("MUG", MAX_UNITS_PER_LINE + 1),
        lambda: order.add_line("TEA", MAX_UNITS_PER_LINE + 1, eur("4.00")),
    ]
    for attempt in attempts:
        with pytest.raises(errors.TooManyUnits) as refused:
            attempt()
        assert refused.value.code == "too_many_units"
        assert state_of(order) == before
    assert MAX_UNITS_PER_LINE == 1000


def test_an_order_holds_at_most_100_lines() -> None:
    order = draft(*((f"SKU-{n}", 1, "1.00") for n in range(MAX_LINES)))
    before = state_of(order)

    with pytest.raises(errors.TooManyLines) as refused:
        order.add_line("ONE-TOO-MANY", 1, eur("1.00"))

    assert refused.value.code == "too_many_lines"
    assert state_of(order) == before
    order.add_line("SKU-0", 1, eur("1.00"))  # a full order still takes more of what it holds
    assert (len(order.lines), order.lines[0].quantity) == (100, 2)
    assert MAX_LINES == 100


def test_one_order_is_in_one_currency() -> None:
    order = draft(("MUG", 1, "8.50"))
    before = state_of(order)

    with pytest.raises(CurrencyMismatch) as refused:
        order.add_line("TEA", 1, Money.of("400", "JPY"))
    with pytest.raises(CurrencyMismatch):
        order.add_line("MUG", 1, Money.of("8.50", "USD"))

    assert refused.value.code == "currency_mismatch"
    assert state_of(order) == before


@pytest.mark.parametrize("quantity", [0, -1, True, 1.0, "1", None])
def test_a_quantity_that_is_not_a_positive_whole_number_is_invalid(quantity: Any) -> None:
    order = draft(("MUG", 1, "8.50"))

    before = state_of(order)

    changes: list[Callable[[], None]] = [
        lambda: order.add_line("TEA", quantity, eur("4.00")),
        lambda: order.add_line("MUG", quantity, eur("8.50")),
        lambda: order.update_line("MUG", quantity),
    ]
    for change in changes:
        with pytest.raises(InvalidValue):
            change()
        assert state_of(order) == before


@pytest.mark.parametrize("price", [1.5, "8.50", Decimal("8.50"), None])
def test_a_unit_price_that_is_not_money_is_invalid(price: Any) -> None:
    with pytest.raises(InvalidValue):
        draft().add_line("MUG", 1, price)


def test_a_negative_unit_price_is_invalid() -> None:
    with pytest.raises(InvalidValue):
        draft().add_line("MUG", 1, eur("-1.00"))


@pytest.mark.parametrize("sku", ["", "A/B", "with space"])
def test_a_sku_that_cannot_end_a_message_id_is_invalid(sku: str) -> None:
    with pytest.raises(InvalidValue):
        draft().add_line(sku, 1, eur("1.00"))


# --- placing --------------------------------------------------------------------------------


def test_an_empty_order_cannot_be_placed() -> None:
    order = draft()

    with pytest.raises(errors.EmptyOrder) as refused:
        order.place(Pricing())

    assert (refused.value.code, order.status, order.pending_events) == (
        "empty_order",
        OrderStatus.DRAFT,
        [],
    )


def test_placing_prices_every_line_and_the_total() -> None:
    order = draft(("MUG", 12, "19.99"), ("TEA", 60, "2.50"), ("PEN", 1, "0.99"))

    order.place(Pricing())

    assert order.status is OrderStatus.PLACED
    assert [(line.discount, line.subtotal) for line in order.lines] == [
        (eur("11.99"), eur("227.89")),
        (eur("15.00"), eur("135.00")),
        (eur("0"), eur("0.99")),
    ]
    assert order.total == eur("363.88")


def test_order_placed_carries_the_priced_lines_and_the_total() -> None:
    order = draft(("MUG", 12, "19.99"), ("PEN", 1, "0.99"))

    order.place(Pricing())

    event = only_event(order)
    assert isinstance(event, OrderPlaced)
    assert event.payload() == {
        "order_id": "ord-1",
        "customer_id": "cus-1",
        "payment_account_id": "acc-1",
        "currency": "EUR",
        "total": "228.88",
        "lines": [
            {
                "sku": "MUG",
                "quantity": 12,
                "unit_price": "19.99",
                "discount": "11.99",
                "subtotal": "227.89",
            },
            {
                "sku": "PEN",
                "quantity": 1,
                "unit_price": "0.99",
                "discount": "0.00",
                "subtotal": "0.99",
            },
        ],
    }


def test_a_placed_order_cannot_be_placed_again() -> None:
    with pytest.raises(errors.OrderNotDraft):
        placed().place(Pricing())


# --- cancelling -----------------------------------------------------------------------------


def test_a_draft_is_cancelled_at_once() -> None:
    order = draft(("MUG", 1, "8.50"))

    order.cancel("no longer needed")

    assert (order.status, order.reason) == (OrderStatus.CANCELLED, "no longer needed")
    event = only_event(order)
    assert isinstance(event, OrderCancelled)
    assert event.payload() == {
        "order_id": "ord-1",
        "customer_id": "cus-1",
        "reason": "no longer needed",
    }


def test_a_placed_order_not_yet_charged_gets_its_cancellation_requested() -> None:
    order = placed()

    order.cancel("changed my mind")

    assert (order.status, order.cancel_requested, order.reason) == (
        OrderStatus.PLACED,
        True,
        "changed my mind",
    )
    event = only_event(order)
    assert isinstance(event, OrderCancellationRequested)
    assert event.payload() == {"order_id": "ord-1", "reason": "changed my mind"}


@pytest.mark.parametrize("saga_state", ["compensated", "rejected"])
def test_a_requested_cancellation_ends_the_order_cancelled_with_the_customers_reason(
    saga_state: str,
) -> None:
    order = cancel_requested()

    order.end(saga_state, "order_cancelled: order ord-1 was cancelled")

    assert (order.status, order.reason) == (OrderStatus.CANCELLED, "changed my mind")
    assert only_event(order).payload() == {
        "order_id": "ord-1",
        "customer_id": "cus-1",
        "reason": "changed my mind",
    }


def needs_operator() -> Order:
    order = charging()
    order.end("needs_operator", "charge: timed out")
    order.collect_events()
    return order


def ending(status: OrderStatus) -> Callable[[], Order]:
    return lambda: ended(status)


ENDED_ORDERS = {status.value: ending(status) for status in sorted(ENDED)}
NOT_CANCELLABLE = {
    "charging": charging,
    "cancellation requested": cancel_requested,
    "needs operator": needs_operator,
    **ENDED_ORDERS,
}


@pytest.mark.parametrize("make", NOT_CANCELLABLE.values(), ids=NOT_CANCELLABLE.keys())
def test_an_order_past_the_charge_mark_or_ended_cannot_be_cancelled(
    make: Callable[[], Order],
) -> None:
    order = make()
    before = state_of(order)

    with pytest.raises(errors.OrderNotCancellable) as refused:
        order.cancel("too late")

    assert refused.value.code == "order_not_cancellable"
    assert state_of(order) == before


# --- the charge mark ------------------------------------------------------------------------


def test_starting_the_charge_marks_the_order_as_charging() -> None:
    order = placed()

    order.start_charge()

    assert order.charging is True
    event = only_event(order)
    assert isinstance(event, OrderChargeStarted)
    assert event.payload() == {"order_id": "ord-1"}


def test_starting_the_charge_twice_changes_nothing_the_second_time() -> None:
    order = charging()
    before = state_of(order)

    order.start_charge()

    assert state_of(order) == before


def test_an_order_whose_cancellation_was_requested_refuses_the_charge() -> None:
    order = cancel_requested()
    before = state_of(order)

    with pytest.raises(errors.OrderWasCancelled) as refused:
        order.start_charge()

    assert refused.value.code == "order_cancelled"
    assert state_of(order) == before


@pytest.mark.parametrize("make", [draft, needs_operator, *ENDED_ORDERS.values()])
def test_only_a_placed_order_can_start_its_charge(make: Callable[[], Order]) -> None:
    with pytest.raises(InvalidStateTransition):
        make().start_charge()


# --- the saga's end -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("saga_state", "status", "event_type", "payload"),
    [
        (
            "completed",
            OrderStatus.CONFIRMED,
            OrderConfirmed,
            {"customer_id": "cus-1", "currency": "EUR", "total": "17.00"},
        ),
        (
            "rejected",
            OrderStatus.REJECTED,
            OrderRejected,
            {"customer_id": "cus-1", "reason": "why"},
        ),
        (
            "compensated",
            OrderStatus.REJECTED,
            OrderRejected,
            {"customer_id": "cus-1", "reason": "why"},
        ),
        ("needs_operator", OrderStatus.NEEDS_OPERATOR, OrderNeedsOperator, {"reason": "why"}),
        ("resolved", OrderStatus.RESOLVED, OrderResolved, {"reason": "why"}),
        ("conflicted", OrderStatus.CONFLICTED, OrderConflicted, {"reason": "why"}),
    ],
)
def test_each_end_of_the_saga_sets_the_orders_status_and_records_its_event(
    saga_state: str, status: OrderStatus, event_type: type[OrderEvent], payload: dict[str, str]
) -> None:
    order = charging()

    order.end(saga_state, "why")

    assert order.status is status
    event = only_event(order)
    assert type(event) is event_type
    assert event.type_name() == f"orders.{event_type.__name__}"
    assert event.payload() == {"order_id": "ord-1", **payload}


def test_order_confirmed_says_who_paid_what_in_which_currency() -> None:
    order = charging()

    order.end("completed", "")

    assert only_event(order).payload() == {
        "order_id": "ord-1",
        "customer_id": "cus-1",
        "currency": "EUR",
        "total": "17.00",
    }


@pytest.mark.parametrize("saga_state", ["completed", "rejected", "compensated", "resolved"])
def test_an_order_waiting_for_an_operator_can_still_end(saga_state: str) -> None:
    order = needs_operator()

    order.end(saga_state, "settled by hand")

    assert order.is_ended
    assert len(order.collect_events()) == 1


def test_a_new_reason_while_waiting_for_an_operator_is_recorded() -> None:
    order = needs_operator()

    order.end("needs_operator", "charge: timed out")
    assert order.pending_events == []
    order.end("needs_operator", "commit_stock: out of stock")

    assert order.reason == "commit_stock: out of stock"
    assert isinstance(only_event(order), OrderNeedsOperator)


SAGA_ENDS = {
    "confirmed": (charging, "completed"),
    "rejected": (charging, "rejected"),
    "cancelled": (cancel_requested, "compensated"),
    "resolved": (needs_operator, "resolved"),
    "conflicted": (charging, "conflicted"),
}


@pytest.mark.parametrize(("make", "saga_state"), SAGA_ENDS.values(), ids=SAGA_ENDS.keys())
def test_the_same_end_twice_changes_nothing(make: Callable[[], Order], saga_state: str) -> None:
    order = make()
    order.end(saga_state, "why")
    order.collect_events()
    before = state_of(order)

    order.end(saga_state, "told again")

    assert state_of(order) == before


@pytest.mark.parametrize("status", sorted(ENDED))
def test_an_ended_order_cannot_end_otherwise(status: OrderStatus) -> None:
    order = ended(status)

    with pytest.raises(InvalidStateTransition):
        order.end("needs_operator", "too late")


def test_a_draft_cannot_end() -> None:
    with pytest.raises(InvalidStateTransition):
        draft(("MUG", 1, "8.50")).end("completed", "")


def test_a_state_the_saga_never_ends_in_is_invalid() -> None:
    with pytest.raises(InvalidValue):
        charging().end("running", "")


# --- events and versions --------------------------------------------------------------------


def test_each_change_records_exactly_one_event_and_the_version_counts_them() -> None:
    order = Order.create("ord-1", "cus-1", "acc-1", "EUR")
    changes: list[Callable[[], None]] = [
        lambda: order.add_line("MUG", 3, eur("8.50")),
        lambda: order.add_line("MUG", 1, eur("8.50")),
        lambda: order.add_line("TEA", 1, eur("4.00")),
        lambda: order.update_line("TEA", 2),
        lambda: order.remove_line("TEA"),
        lambda: order.place(Pricing()),
        lambda: order.start_charge(),
        lambda: order.end("needs_operator", "charge: timed out"),
        lambda: order.end("resolved", "charged by hand"),
    ]
    for n, change in enumerate(changes, start=2):
        change()
        assert [event.aggregate_version for event in order.pending_events] == [*range(1, n + 1)]

    events = order.collect_events()

    assert order.version == len(events) == len(changes) + 1
    assert [type(event) for event in events] == [
        OrderCreated,
        OrderItemAdded,
        OrderItemAdded,
        OrderItemAdded,
        OrderItemUpdated,
        OrderItemRemoved,
        OrderPlaced,
        OrderChargeStarted,
        OrderNeedsOperator,
        OrderResolved,
    ]
    assert order.updated_at == events[-1].occurred_at


def test_every_refusal_is_a_business_rule_violation_with_its_code() -> None:
    codes = {
        errors.OrderNotFound: "order_not_found",
        errors.OrderAlreadyExists: "order_already_exists",
        errors.OrderNotDraft: "order_not_draft",
        errors.EmptyOrder: "empty_order",
        errors.LineItemNotFound: "line_item_not_found",
        errors.TooManyLines: "too_many_lines",
        errors.TooManyUnits: "too_many_units",
        errors.OrderNotCancellable: "order_not_cancellable",
        errors.OrderWasCancelled: "order_cancelled",
        errors.UnknownCustomer: "customer_not_found",
        errors.UnknownProduct: "product_not_found",
        errors.ProductUnavailable: "product_discontinued",
    }

    assert {error: error.code for error in codes} == codes
    assert all(issubclass(error, BusinessRuleViolation) for error in codes)


# --- loading from storage -------------------------------------------------------------------


def test_an_order_loads_from_what_was_stored() -> None:
    created = datetime(2025, 1, 2, tzinfo=UTC)
    lines = [
        OrderLineItem("TEA", 60, eur("2.50"), eur("15.00"), eur("135.00")),
        OrderLineItem("MUG", 2, eur("8.50")),
    ]

    order = Order(
        "ord-1",
        "cus-1",
        "acc-1",
        "EUR",
        status=OrderStatus.PLACED,
        lines=lines,
        total=eur("152.00"),
        reason="",
        charging=True,
        version=7,
        created_at=created,
    )

    assert [line.sku for line in order.lines] == ["TEA", "MUG"]
    assert (order.lines[1].discount, order.lines[1].subtotal) == (eur("0"), eur("17.00"))
    assert (order.version, order.created_at, order.updated_at) == (7, created, created)
    assert order.pending_events == []


def test_a_stored_order_listing_a_sku_twice_is_invalid() -> None:
    lines = [OrderLineItem("MUG", 1, eur("1.00")), OrderLineItem("MUG", 2, eur("1.00"))]

    with pytest.raises(InvalidValue):
        Order("ord-1", "cus-1", "acc-1", "EUR", lines=lines)


def test_a_stored_line_whose_discount_and_subtotal_do_not_make_its_gross_is_invalid() -> None:
    with pytest.raises(InvalidValue):
        OrderLineItem("MUG", 10, eur("1.00"), eur("0.50"), eur("10.00"))


# --- any sequence of line changes -----------------------------------------------------------

SKUS = [f"SKU-{n}" for n in range(MAX_LINES + 5)]
line_changes = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.sampled_from(SKUS),
            st.integers(1, 1100),
            st.sampled_from(["1.00", "2.50", "9.99"]),
        ),
        st.tuples(st.just("update"), st.sampled_from(SKUS), st.integers(1, 1100)),
        st.tuples(st.just("remove"), st.sampled_from(SKUS)),
    ),
    max_size=60,
)


def model_refusal(model: dict[str, tuple[int, str]], change: tuple[Any, ...]) -> type | None:
    """What a plain dict says of ``change``: the refusal due, or None after applying it."""
    kind, sku, *rest = change
    if kind == "add":
        quantity, price = rest
        held = model[sku][0] if sku in model else 0
        if quantity > MAX_UNITS_PER_LINE or held + quantity > MAX_UNITS_PER_LINE:
            return errors.TooManyUnits
        if sku not in model and len(model) >= MAX_LINES:
            return errors.TooManyLines
        model[sku] = (held + quantity, model[sku][1] if sku in model else price)
    elif sku not in model:
        return errors.LineItemNotFound
    elif kind == "update":
        if rest[0] > MAX_UNITS_PER_LINE:
            return errors.TooManyUnits
        model[sku] = (rest[0], model[sku][1])
    else:
        del model[sku]
    return None


def apply(order: Order, change: tuple[Any, ...]) -> None:
    kind, sku, *rest = change
    if kind == "add":
        order.add_line(sku, rest[0], eur(rest[1]))
    elif kind == "update":
        order.update_line(sku, rest[0])
    else:
        order.remove_line(sku)


@given(prefilled=st.integers(0, MAX_LINES), changes=line_changes)
@PROPERTY_SETTINGS
def test_any_sequence_of_line_changes_leaves_what_a_plain_dict_says(
    prefilled: int, changes: list[tuple[Any, ...]]
) -> None:
    order = draft(*((sku, 1, "1.00") for sku in SKUS[:prefilled]))
    model = {sku: (1, "1.00") for sku in SKUS[:prefilled]}
    accepted = 0

    for change in changes:
        refusal = model_refusal(model, change)
        if refusal is None:
            apply(order, change)
            assert len(order.collect_events()) == 1
            accepted += 1
        else:
            with pytest.raises(refusal):
                apply(order, change)
            assert order.pending_events == []

        got = {line.sku: (line.quantity, line.unit_price.to_string()) for line in order.lines}
        assert list(got.items()) == list(model.items())  # the same lines, in the same order
        assert len(order.lines) <= MAX_LINES
        for line in order.lines:
            assert 1 <= line.quantity <= MAX_UNITS_PER_LINE
            assert line.subtotal == line.unit_price.times(line.quantity)
    assert order.version == 1 + prefilled + accepted
