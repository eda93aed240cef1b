"""State changes that fail change nothing; ids, times and quantities are checked first."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest
from routing_world import OPEN, order, world

from engine import LedgerError, OrderStatus
from engine.errors import RoutingError
from engine.returns import Condition, ReturnAction, ReturnDecision, ReturnItem, ReturnsPolicy
from engine.routing import RoutingSettings

NAIVE = datetime(2024, 3, 5, 16, 0)


def _state(router, ledger, o) -> tuple:
    """What a failed call must leave as it was."""
    return (
        o.status, o.decision_id, len(o.history), router.decision_for(o.id),
        router.excluded(o.id), ledger.reserved.copy().tolist(),
        router.orders_today("DC1", OPEN), router.orders_today("ST1", OPEN),
    )  # fmt: skip


def test_reroute_after_a_package_shipped_routes_only_what_is_left():
    router, ledger, _ = world({("ST1", "A"): 1, ("ST2", "B"): 1, ("DC1", "A"): 5,
                               ("DC2", "B"): 5})  # fmt: skip
    o = order(("A", 1), ("B", 1))
    d = router.place(o, OPEN)
    assert {(a.location, a.sku) for a in d.allocations} == {("ST1", "A"), ("ST2", "B")}
    router.release(o, OPEN)
    ledger.fulfil(d.decision_id, "ST1", OPEN)  # ST1 ships A; ST2 rejects B
    o.record_fulfilled("A", 1)
    d2 = router.reroute(o, OPEN, exclude=["ST2"])
    assert [(a.location, a.sku, a.quantity) for a in d2.allocations] == [("DC2", "B", 1)]
    assert ledger.reserved[ledger.loc_index["DC1"], ledger.sku_index["A"]] == 0
    assert o.outstanding_by_sku() == {"B": 1}


def test_two_orders_with_one_id_cannot_share_a_reservation():
    router, ledger, _ = world({("DC1", "A"): 5})
    first = order(("A", 3), id="SAME")
    router.place(first, OPEN)
    again = order(("A", 3), id="SAME")  # e.g. a storefront retrying a submission
    with pytest.raises(RoutingError, match="order ids must be unique"):
        router.place(again, OPEN)
    assert again.status is OrderStatus.CREATED
    router.release(first, OPEN)
    third = order(("A", 2), id="SAME")
    with pytest.raises(RoutingError, match="order ids must be unique"):
        router.place(third, OPEN)
    assert ledger.reserved[ledger.loc_index["DC1"], ledger.sku_index["A"]] == 3
    # the same order committing its own decision again is still a no-op
    fourth = order(("A", 1), id="OTHER")
    d = router.place(fourth, OPEN)
    router.commit(fourth, d, OPEN)
    assert ledger.reserved[ledger.loc_index["DC1"], ledger.sku_index["A"]] == 4


@pytest.mark.parametrize("call", ["cancel", "reroute", "release", "commit"])
@pytest.mark.parametrize("bad", [NAIVE, "not a time"])
def test_a_naive_time_changes_nothing(call, bad):
    router, ledger, _ = world({("DC1", "A"): 5, ("ST1", "A"): 5})
    o = order(("A", 2))
    d = router.place(o, OPEN)
    before = _state(router, ledger, o)
    with pytest.raises(RoutingError, match="timezone-aware"):
        if call == "cancel":
            router.cancel(o, bad)
        elif call == "reroute":
            router.reroute(o, bad, exclude=["ST1"])
        elif call == "release":
            router.release(o, bad)
        else:
            router.commit(o, d, bad)
    assert _state(router, ledger, o) == before
    router.release(o, OPEN)  # the order still works


def test_all_or_nothing_counts_unknown_skus():
    router, _, _ = world({("DC1", "A"): 5}, settings=RoutingSettings(allow_partial=False))
    d = router.route(order(("A", 1), ("NOPE", 1)), OPEN)
    assert d.allocations == ()
    assert dict(d.unfulfillable) == {"A": 1, "NOPE": 1}
    partial = world({("DC1", "A"): 5})[0].route(order(("A", 1), ("NOPE", 1)), OPEN)
    assert [(a.sku, a.quantity) for a in partial.allocations] == [("A", 1)]


@pytest.mark.parametrize(
    "field, value",
    [("same_day_max_miles", math.nan), ("bopis_pick_hours", math.nan),
     ("same_day_hours", -1.0), ("max_packages", 2.5), ("max_packages", True),
     ("same_day_max_miles", "50")],
)  # fmt: skip
def test_settings_reject_nan_and_non_numbers(field, value):
    with pytest.raises(ValueError, match=field):
        RoutingSettings(**{field: value})
    with pytest.raises(ValueError, match="demand_rate"):
        RoutingSettings(demand_rate=np.array([1.0, math.nan]))
    assert RoutingSettings(max_packages=np.int64(2), same_day_max_miles=math.inf).max_packages == 2


def test_order_times_must_be_aware():
    o = order(("A", 2), ("B", 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        o.transition(OrderStatus.ROUTED, NAIVE)
    with pytest.raises(ValueError, match="timezone-aware"):
        o.edit_quantity(0, 5, NAIVE)
    with pytest.raises(ValueError, match="timezone-aware"):
        o.add_refund(1.0, "yesterday", "goodwill")  # type: ignore[arg-type]
    assert (o.status, o.lines[0].quantity, o.edits, o.refunds) == (OrderStatus.CREATED, 2, [], [])


def test_expected_receipts_cannot_overflow_the_ledger():
    _, ledger, _ = world({})
    top = ledger.max_units
    ledger.expect("DC1", "A", top, OPEN)
    with pytest.raises(LedgerError, match="would pass"):
        ledger.expect("DC1", "A", 1, OPEN)
    assert ledger.incoming_qty("DC1", "A") == top


def test_a_return_that_fails_changes_nothing():
    router, ledger, network = world({("DC1", "A"): 5})
    o = order(("A", 1))
    item = ReturnItem(o.id, "A", 1, "DC1", Condition.NEW)
    with pytest.raises(ValueError, match="finite"):
        ReturnsPolicy().decide(item, network, ledger, OPEN, unit_price=math.inf)
    on_hand = ledger.on_hand.copy()
    bad_refund = ReturnDecision(ReturnAction.RESTOCK, "DC1", math.inf, None, item, "")
    with pytest.raises(ValueError, match="refund"):
        ReturnsPolicy().apply(bad_refund, ledger, OPEN, order=o)
    bad_place = ReturnDecision(ReturnAction.RESTOCK, "NOWHERE", 20.0, None, item, "")
    with pytest.raises(LedgerError):
        ReturnsPolicy().apply(bad_place, ledger, OPEN, order=o)
    assert (ledger.on_hand == on_hand).all() and o.refunds == []
    good = ReturnDecision(ReturnAction.RESTOCK, "DC1", 20.0, None, item, "")
    assert ReturnsPolicy().apply(good, ledger, OPEN, order=o)
    assert o.refunded_total == 20.0


def test_a_decision_made_before_an_edit_cannot_be_committed():
    from datetime import timedelta

    router, ledger, _ = world({("DC1", "A"): 5})
    o = order(("A", 1))
    stale = router.route(o, OPEN)
    o.edit_quantity(0, 4, OPEN + timedelta(minutes=5))
    with pytest.raises(RoutingError, match="before the order's last edit"):
        router.commit(o, stale, OPEN + timedelta(minutes=6))
    same_instant = order(("A", 1))  # an edit at the very time of routing counts too
    early = router.route(same_instant, OPEN)
    same_instant.edit_quantity(0, 3, OPEN)
    with pytest.raises(RoutingError, match="before the order's last edit"):
        router.commit(same_instant, early, OPEN)
    assert o.status is OrderStatus.CREATED and ledger.reserved.sum() == 0
    fresh = router.route(o, OPEN + timedelta(minutes=6))
    router.commit(o, fresh, OPEN + timedelta(minutes=6))
    assert [a.quantity for a in fresh.allocations] == [4] and not o.needs_reroute


def test_two_routes_before_a_commit_cannot_both_be_committed():
    router, ledger, _ = world({("DC1", "A"): 5, ("DC2", "A"): 5})
    o = order(("A", 1))
    near = router.route(o, OPEN)
    far = router.route(o, OPEN, exclude=[near.locations[0]])  # same id, other location
    assert near.decision_id == far.decision_id and near.locations != far.locations
    router.commit(o, far, OPEN)
    before = _state(router, ledger, o)
    with pytest.raises(RoutingError, match="another decision with the id"):
        router.commit(o, near, OPEN)  # was silently ignored: `near` looked committed
    assert _state(router, ledger, o) == before and router.decision_for(o.id) is far
    router.commit(o, far, OPEN)  # committing the held decision again is a no-op
    assert _state(router, ledger, o) == before
