"""Tests for engine.order: lifecycle transitions, edits, refunds, partial fulfilment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import InvalidTransition
from engine.order import (
    ALLOWED_TRANSITIONS,
    Channel,
    DeliveryMethod,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
)

S = OrderStatus
T0 = datetime(2024, 3, 5, 12, tzinfo=UTC)

# Shortest path from CREATED to each status, to put an order in any state.
PATHS = {
    S.CREATED: [],
    S.ROUTED: [S.ROUTED],
    S.REJECTED: [S.ROUTED, S.REJECTED],
    S.RELEASED: [S.ROUTED, S.RELEASED],
    S.PICKED: [S.ROUTED, S.RELEASED, S.PICKED],
    S.SHIPPED: [S.ROUTED, S.RELEASED, S.PICKED, S.SHIPPED],
    S.READY_FOR_PICKUP: [S.ROUTED, S.RELEASED, S.PICKED, S.READY_FOR_PICKUP],
    S.DELIVERED: [S.ROUTED, S.RELEASED, S.PICKED, S.SHIPPED, S.DELIVERED],
    S.PICKED_UP: [S.ROUTED, S.RELEASED, S.PICKED, S.READY_FOR_PICKUP, S.PICKED_UP],
    S.CANCELLED: [S.CANCELLED],
    S.PARTIALLY_FULFILLED: [S.ROUTED, S.RELEASED, S.PICKED, S.SHIPPED, S.PARTIALLY_FULFILLED],
}


def make_order(**kw) -> Order:
    base = dict(
        id="O-1",
        channel=Channel.WEB,
        customer_id="C-1",
        dest_lat=40.71,
        dest_lon=-74.0,
        lines=[OrderLine("SKU-A", 2), OrderLine("SKU-B", 1)],
        created_at=T0,
    )
    base.update(kw)
    return Order(**base)


def order_in(status: OrderStatus) -> Order:
    order = make_order()
    for i, step in enumerate(PATHS[status]):
        order.transition(step, T0 + timedelta(minutes=i + 1))
    assert order.status is status
    return order


EXPECTED = {
    S.CREATED: {S.ROUTED, S.CANCELLED},
    S.ROUTED: {S.RELEASED, S.CANCELLED, S.REJECTED, S.ROUTED},
    S.REJECTED: {S.ROUTED, S.CANCELLED},
    S.RELEASED: {S.PICKED, S.REJECTED, S.CANCELLED},
    S.PICKED: {S.SHIPPED, S.READY_FOR_PICKUP},
    S.SHIPPED: {S.DELIVERED, S.PARTIALLY_FULFILLED},
    S.READY_FOR_PICKUP: {S.PICKED_UP, S.CANCELLED},
    S.DELIVERED: {S.PARTIALLY_FULFILLED},
    S.PICKED_UP: {S.PARTIALLY_FULFILLED},
    S.CANCELLED: set(),
    S.PARTIALLY_FULFILLED: set(),
}


def test_transition_table_matches_contract():
    assert set(ALLOWED_TRANSITIONS) == set(OrderStatus)
    assert {k: set(v) for k, v in ALLOWED_TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(
    ("src", "dst"), [(s, d) for s, targets in EXPECTED.items() for d in sorted(targets)]
)
def test_every_allowed_transition(src, dst):
    order = order_in(src)
    at = T0 + timedelta(hours=5)
    order.transition(dst, at, "because")
    assert order.status is dst
    assert order.history[-1] == (at, dst, "because")


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        (S.CREATED, S.RELEASED),
        (S.CREATED, S.SHIPPED),
        (S.CREATED, S.REJECTED),
        (S.ROUTED, S.PICKED),
        (S.RELEASED, S.SHIPPED),
        (S.RELEASED, S.ROUTED),
        (S.PICKED, S.CANCELLED),
        (S.SHIPPED, S.CANCELLED),
        (S.SHIPPED, S.PICKED_UP),
        (S.READY_FOR_PICKUP, S.DELIVERED),
        (S.DELIVERED, S.CANCELLED),
        (S.PICKED_UP, S.SHIPPED),
        (S.CANCELLED, S.ROUTED),
        (S.CANCELLED, S.CREATED),
        (S.PARTIALLY_FULFILLED, S.DELIVERED),
    ],
)
def test_forbidden_transitions(src, dst):
    order = order_in(src)
    history = list(order.history)
    with pytest.raises(InvalidTransition, match=rf"'O-1'.*{src.value}.*{dst.value}"):
        order.transition(dst, T0)
    assert order.status is src
    assert order.history == history


def test_creation_defaults_and_history():
    order = make_order()
    assert order.status is S.CREATED
    assert order.method is DeliveryMethod.SHIP
    assert order.history == [(T0, S.CREATED, "created")]
    assert [line.line_id for line in order.lines] == [0, 1]
    assert order.units == 3
    assert order.is_editable and not order.is_terminal
    assert order.decision_id is None and not order.needs_reroute


def test_string_enums_coerced_and_validation():
    order = make_order(channel="app", method="bopis", pickup_store="ST-1")
    assert order.channel is Channel.APP and order.method is DeliveryMethod.BOPIS
    with pytest.raises(ValueError, match="O-1"):
        make_order(channel="fax")
    with pytest.raises(ValueError, match="pickup_store"):
        make_order(method=DeliveryMethod.BOPIS)
    with pytest.raises(ValueError, match="coordinates"):
        make_order(dest_lat=95.0)
    with pytest.raises(ValueError, match="at least one line"):
        make_order(lines=[])
    with pytest.raises(ValueError, match="duplicate line ids"):
        make_order(lines=[OrderLine("A", 1, 3), OrderLine("B", 1, 3)])
    with pytest.raises(ValueError, match="quantity"):
        OrderLine("A", 0)
    with pytest.raises(ValueError, match="created_at"):
        make_order(created_at=datetime(2024, 1, 1))


def test_channel_values():
    assert [c.value for c in Channel] == ["web", "app", "marketplace", "social", "pos", "wholesale"]


@pytest.mark.parametrize("status", [S.CREATED, S.ROUTED, S.REJECTED])
def test_edits_before_release_flag_reroute(status):
    order = order_in(status)
    at = T0 + timedelta(hours=1)
    order.edit_quantity(0, 5, at)
    assert order.lines[0].quantity == 5 and order.needs_reroute
    order.remove_line(1, at)
    assert [line.sku for line in order.lines] == ["SKU-A"]
    order.change_address(34.05, -118.24, at)
    assert (order.dest_lat, order.dest_lon) == (34.05, -118.24)
    assert len(order.edits) == 3
    assert order.status is status  # edits do not change the status


def test_reroute_clears_flag():
    order = order_in(S.ROUTED)
    order.edit_quantity(0, 1, T0)
    assert order.needs_reroute
    order.transition(S.ROUTED, T0, "reroute after edit")
    assert not order.needs_reroute


@pytest.mark.parametrize("status", [S.RELEASED, S.PICKED, S.SHIPPED, S.CANCELLED])
def test_edits_after_release_raise(status):
    order = order_in(status)
    with pytest.raises(InvalidTransition, match="'O-1'"):
        order.edit_quantity(0, 1, T0)
    with pytest.raises(InvalidTransition, match="'O-1'"):
        order.remove_line(1, T0)
    with pytest.raises(InvalidTransition, match="'O-1'"):
        order.change_address(0.0, 0.0, T0)
    assert not order.needs_reroute
    assert order.lines[0].quantity == 2 and len(order.lines) == 2


def test_edit_argument_errors():
    order = make_order()
    with pytest.raises(ValueError, match="no line 7"):
        order.edit_quantity(7, 1, T0)
    with pytest.raises(ValueError, match="quantity must be in 1..2,147,483,647, got 0"):
        order.edit_quantity(0, 0, T0)
    with pytest.raises(ValueError, match="quantity must be in 1..2,147,483,647"):
        order.edit_quantity(0, 2**63, T0)  # as an order line: routing could not hold it
    order.remove_line(0, T0)
    with pytest.raises(ValueError, match="last line"):
        order.remove_line(1, T0)
    with pytest.raises(ValueError, match="coordinates"):
        order.change_address(0.0, 200.0, T0)


def test_cancel():
    order = order_in(S.ROUTED)
    order.cancel(T0, "customer request")
    assert order.status is S.CANCELLED
    assert order.history[-1] == (T0, S.CANCELLED, "customer request")
    assert order.is_terminal
    with pytest.raises(InvalidTransition):
        order_in(S.SHIPPED).cancel(T0, "too late")


def test_record_fulfilled_and_close_partial():
    order = order_in(S.SHIPPED)
    order.record_fulfilled("SKU-A", 2)
    assert order.fulfilled_units == 2 and order.unfulfilled_units == 1
    assert order.unfulfilled() == [("SKU-B", 1)]
    assert order.close(T0, "end of run") is S.PARTIALLY_FULFILLED
    assert order.history[-1][1:] == (S.PARTIALLY_FULFILLED, "end of run")
    assert order.close(T0) is S.PARTIALLY_FULFILLED  # idempotent


@pytest.mark.parametrize("status", [S.SHIPPED, S.DELIVERED, S.PICKED_UP])
def test_close_fully_fulfilled_keeps_status(status):
    order = order_in(status)
    order.record_fulfilled("SKU-A", 1)
    order.record_fulfilled("SKU-A", 1)
    order.record_fulfilled("SKU-B", 1)
    assert order.unfulfilled() == []
    assert order.close(T0) is status


@pytest.mark.parametrize("status", [S.DELIVERED, S.PICKED_UP])
def test_close_partial_from_delivered_or_picked_up(status):
    order = order_in(status)
    order.record_fulfilled("SKU-B", 1)
    assert order.close(T0) is S.PARTIALLY_FULFILLED


def test_close_in_progress_raises_and_cancelled_is_noop():
    with pytest.raises(InvalidTransition, match="'O-1'.*routed"):
        order_in(S.ROUTED).close(T0)
    assert order_in(S.CANCELLED).close(T0) is S.CANCELLED


def test_record_fulfilled_spreads_over_duplicate_sku_lines():
    order = make_order(lines=[OrderLine("A", 1), OrderLine("B", 1), OrderLine("A", 2)])
    order.record_fulfilled("A", 2)
    assert order.fulfilled == {0: 1, 2: 1}
    order.record_fulfilled("A", 1)
    assert order.fulfilled == {0: 1, 2: 2}
    with pytest.raises(ValueError, match="only 0 outstanding"):
        order.record_fulfilled("A", 1)
    with pytest.raises(ValueError, match="'Z' is not on the order"):
        order.record_fulfilled("Z", 1)
    with pytest.raises(ValueError, match="> 0"):
        order.record_fulfilled("B", 0)


def test_refunds():
    order = order_in(S.DELIVERED)
    r = order.add_refund(5.0, T0, "damaged", sku="SKU-A", quantity=1)
    order.add_refund(2.5, T0, "late delivery")
    assert r == Refund(T0, 5.0, "damaged", "SKU-A", 1)
    assert order.refunds[1] == Refund(T0, 2.5, "late delivery")
    assert order.refunded_total == pytest.approx(7.5)
    with pytest.raises(ValueError, match="amount"):
        order.add_refund(0.0, T0, "nothing")
    with pytest.raises(ValueError, match="'ZZ'"):
        order.add_refund(1.0, T0, "x", sku="ZZ")
    with pytest.raises(ValueError, match="quantity"):
        order.add_refund(1.0, T0, "x", quantity=-1)
    assert len(order.refunds) == 2


def test_record_fulfilled_many_is_record_fulfilled_in_turn_and_all_or_nothing():
    def dup() -> Order:
        return make_order(lines=[OrderLine("A", 1), OrderLine("B", 1), OrderLine("A", 2)])

    one, many = dup(), dup()
    items = [("A", 1), ("B", 1), ("A", 2)]
    for sku, qty in items:
        one.record_fulfilled(sku, qty)
    many.record_fulfilled_many(items)
    assert many.fulfilled == one.fulfilled
    fresh = dup()
    with pytest.raises(ValueError, match="cannot fulfil 5 of 'A', only 3 outstanding"):
        fresh.record_fulfilled_many([("B", 1), ("A", 5)])
    with pytest.raises(ValueError, match="'Z' is not on the order"):
        fresh.record_fulfilled_many([("B", 1), ("Z", 1)])
    assert fresh.fulfilled == {}  # nothing recorded


def test_units_by_sku_sums_repeated_skus_in_first_line_order():
    order = make_order(lines=[OrderLine("B", 2), OrderLine("A", 1), OrderLine("B", 3)])
    assert list(order.units_by_sku().items()) == [("B", 5), ("A", 1)]
    assert sum(order.units_by_sku().values()) == order.units
