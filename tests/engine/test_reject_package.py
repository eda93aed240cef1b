"""`Router.reject`: one location of a released order cannot pick its package; only that
package is given back and routed again, as a re-route order, while the others proceed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from routing_world import OPEN, order, packages, world

from engine import DeliveryMethod, InvalidTransition, OrderStatus, RoutingError

STOCK = {("ST1", "A"): 1, ("ST2", "B"): 2, ("DC1", "B"): 1, ("DC2", "B"): 5}


def _released(stock=STOCK):
    router, ledger, network = world(stock)
    o = order(("A", 1), ("B", 2), id="O1")
    d = router.place(o, OPEN)
    assert packages(d) == {"ST1": {"A": 1}, "ST2": {"B": 2}}
    router.release(o, OPEN)
    return router, ledger, o, d


def test_reject_gives_back_one_package_and_routes_its_units_again():
    router, ledger, o, d = _released()
    later = OPEN + timedelta(minutes=30)
    rerouted, d2 = router.reject(o, "ST2", later, "not_on_shelf")
    assert rerouted.id == "O1-D1.ST2" and d2.decision_id == "O1-D1.ST2-D1"
    assert d2.order_id == rerouted.id and rerouted.status is OrderStatus.ROUTED
    assert packages(d2) == {"DC2": {"B": 2}}  # DC1 has 1 B only; ST2 is excluded
    assert [(x.sku, x.quantity, x.line_id) for x in rerouted.lines] == [("B", 2, 1)]
    assert (rerouted.customer_id, rerouted.dest_lat, rerouted.method) == (
        o.customer_id,
        o.dest_lat,
        o.method,
    )
    # the order and its other package go on: ST1 still holds A under the first decision
    assert o.status is OrderStatus.RELEASED and o.decision_id == d.decision_id
    assert ledger.reservations(d.decision_id) == [(0, 0, 1)]
    assert router.excluded(o.id) == router.excluded(rerouted.id) == {"ST2"}
    released = [m for m in ledger.audit.records() if m.op == "release"]
    assert [(m.location, m.sku, m.quantity, m.ref) for m in released] == [
        ("ST2", "B", 2, "not_on_shelf:O1-D1")
    ]
    assert [r.location for r in router.release(rerouted, later)] == ["DC2"]
    ledger.fulfil(d.decision_id, "ST1", later)
    ledger.fulfil(d2.decision_id, "DC2", later)
    assert ledger.reserved.sum() == 0
    ledger.check_conservation()
    ledger.check_reservations()


def test_a_rejected_re_route_package_is_routed_again_without_both_locations():
    router, ledger, o, _ = _released({**STOCK, ("DC1", "B"): 2})
    rerouted, d2 = router.reject(o, "ST2", OPEN)
    assert packages(d2) == {"DC1": {"B": 2}}
    router.release(rerouted, OPEN)
    again, d3 = router.reject(rerouted, "DC1", OPEN, exclude=["WH"])
    assert again.id == "O1-D1.ST2-D1.DC1" and packages(d3) == {"DC2": {"B": 2}}
    assert router.excluded(again.id) == {"ST2", "DC1", "WH"}
    assert ledger.reserved.sum() == 1 + 2  # ST1's A and DC2's B
    ledger.check_reservations()


def test_with_no_stock_left_the_units_are_unfulfillable_and_given_back():
    router, ledger, o, d = _released({("ST1", "A"): 1, ("ST2", "B"): 2})
    rerouted, d2 = router.reject(o, "ST2", OPEN)
    assert d2.allocations == () and d2.unfulfillable == (("B", 2),)
    assert rerouted.status is OrderStatus.CREATED and rerouted.decision_id is None
    assert ledger.reservations(d.decision_id) == [(0, 0, 1)]
    assert ledger.reserved.sum() == 1
    router.cancel(rerouted, OPEN, "no stock")
    assert rerouted.status is OrderStatus.CANCELLED


@pytest.mark.parametrize(
    ("substitute", "expected"),
    [(None, {}), (False, {}), (True, {"ST1": {"B": 2}})],
)
def test_a_pickup_order_rejected_by_its_store_is_filled_elsewhere_only_with_substitution(
    substitute, expected
):
    """Without substitution only the pickup store may fill a pickup order, and it is the
    store rejecting: nothing is routed. `substitute=True` lets another store fill it."""
    router, ledger, _ = world({**STOCK, ("ST1", "B"): 2})
    o = order(("B", 2), id="O2", method=DeliveryMethod.BOPIS, pickup_store="ST2")
    assert not o.allow_store_substitution
    assert packages(router.place(o, OPEN)) == {"ST2": {"B": 2}}
    router.release(o, OPEN)
    rerouted, d2 = router.reject(o, "ST2", OPEN, substitute=substitute)
    assert rerouted.allow_store_substitution is bool(substitute)
    assert rerouted.pickup_store == "ST2" and packages(d2) == expected
    assert d2.unfulfillable == (() if expected else (("B", 2),))
    ledger.check_reservations()


def _state(router, ledger, o) -> tuple:
    return (
        o.status, o.decision_id, len(o.history), router.excluded(o.id),
        ledger.reserved.copy().tolist(), len(ledger.audit), router.orders_today("DC2", OPEN),
    )  # fmt: skip


def test_wrong_states_are_refused_and_change_nothing():
    router, ledger, _ = world(STOCK)
    routed = order(("B", 1))
    router.place(routed, OPEN)
    with pytest.raises(InvalidTransition, match="cannot reject a package in status routed"):
        router.reject(routed, "ST2", OPEN)
    gone = order(("B", 1))
    router.place(gone, OPEN)
    router.release(gone, OPEN)
    router.cancel(gone, OPEN)
    with pytest.raises(InvalidTransition, match="cannot reject a package in status cancelled"):
        router.reject(gone, "ST2", OPEN)
    router, ledger, o, d = _released()
    before = _state(router, ledger, o)
    for location, bad in [
        ("DC1", "'DC1' holds no reserved package of decision 'O1-D1'"),
        ("NOPE", "reserved packages are at: ST1, ST2"),
    ]:
        with pytest.raises(RoutingError, match=bad):
            router.reject(o, location, OPEN)
    with pytest.raises(RoutingError, match="reason must be a non-empty string"):
        router.reject(o, "ST2", OPEN, "a:b")
    with pytest.raises(RoutingError, match="is before its last event"):
        router.reject(o, "ST2", OPEN - timedelta(hours=1))
    with pytest.raises(RoutingError, match="timezone-aware"):
        router.reject(o, "ST2", OPEN.replace(tzinfo=None))
    assert _state(router, ledger, o) == before
    ledger.fulfil(d.decision_id, "ST1", OPEN)  # picked and gone: nothing to reject there
    o.transition(OrderStatus.PICKED, OPEN, "ST1")  # ST2's package is still to pick
    router.reject(o, "ST2", OPEN)
    for location in ("ST1", "ST2"):  # fulfilled, rejected already
        with pytest.raises(RoutingError, match="reserved packages are at: none"):
            router.reject(o, location, OPEN)


def test_the_order_is_not_routed_again_whole_while_a_re_route_order_carries_its_units():
    """B:2 is the re-route order's now: a re-route of the order would reserve it twice."""
    router, ledger, o, d = _released({**STOCK, ("DC1", "A"): 1})
    rerouted, _ = router.reject(o, "ST2", OPEN)
    before = _state(router, ledger, o)
    carry = r"re-route order\(s\) 'O1-D1.ST2' \(routed\) carry units"
    with pytest.raises(RoutingError, match=carry):
        router.reroute(o, OPEN)
    router.release(rerouted, OPEN)  # still refused while it is at DC2, or picked, or gone
    with pytest.raises(RoutingError, match="reject its other packages one by one"):
        router.reroute(o, OPEN)
    assert _state(router, ledger, o) == before
    assert ledger.reserved.sum() == 1 + 2  # A at ST1, B at DC2: the order's 3 units once
    router.reject(o, "ST1", OPEN)  # the way on: its other packages one by one
    assert ledger.reserved.sum() == 3 and not ledger.reservations(d.decision_id)
    assert o.status is OrderStatus.RELEASED  # nothing reserved: its units are its re-routes'


def test_once_its_re_route_orders_are_cancelled_the_order_is_routed_again_whole():
    router, ledger, o, _ = _released()
    rerouted, _ = router.reject(o, "ST2", OPEN)
    router.cancel(rerouted, OPEN)
    d2 = router.reroute(o, OPEN)
    units: dict[str, int] = {}
    for a in d2.allocations:
        units[a.sku] = units.get(a.sku, 0) + a.quantity
    assert units == {"A": 1, "B": 2} and "ST2" not in d2.locations  # ST2 stays excluded
    assert ledger.reserved.sum() == 3
    ledger.check_reservations()


def test_the_order_is_not_cancelled_while_a_re_route_order_may_take_stock():
    router, ledger, o, d = _released()
    rerouted, d2 = router.reject(o, "ST2", OPEN)
    before = _state(router, ledger, o)
    for live in ("routed", "released"):
        with pytest.raises(RoutingError, match=rf"'O1-D1.ST2' \({live}\) of its rejected"):
            router.cancel(o, OPEN)
        assert _state(router, ledger, o) == before and ledger.is_open(d2.decision_id)
        if live == "routed":
            router.release(rerouted, OPEN)
    ledger.fulfil(d2.decision_id, "DC2", OPEN)  # picked: its units are on their way
    rerouted.transition(OrderStatus.PICKED, OPEN, "DC2")
    router.cancel(o, OPEN, "customer")  # gives back ST1's A only
    assert o.status is OrderStatus.CANCELLED and ledger.reserved.sum() == 0
    assert not ledger.is_open(d.decision_id)
    ledger.check_conservation()


def test_a_re_route_order_rejected_in_turn_still_carries_the_units_of_the_first_order():
    router, ledger, o, _ = _released({**STOCK, ("DC1", "B"): 2})
    rerouted, _ = router.reject(o, "ST2", OPEN)
    router.release(rerouted, OPEN)
    again, d3 = router.reject(rerouted, "DC1", OPEN)  # all of its packages: it holds nothing
    with pytest.raises(RoutingError, match=r"'O1-D1.ST2-D1.DC1' \(routed\) of its rejected"):
        router.cancel(rerouted, OPEN)
    with pytest.raises(RoutingError, match=r"'O1-D1.ST2-D1.DC1' \(routed\)"):
        router.cancel(o, OPEN)
    router.release(again, OPEN)
    ledger.fulfil(d3.decision_id, "DC2", OPEN)
    again.transition(OrderStatus.PICKED, OPEN, "DC2")
    router.cancel(rerouted, OPEN)  # holds nothing and its re-route order is picked
    with pytest.raises(RoutingError, match=r"'O1-D1.ST2-D1.DC1' \(picked\) carry units"):
        router.reroute(o, OPEN)  # B is on its way under the second re-route order
    assert ledger.reserved.sum() == 1


def test_the_router_forgets_re_route_orders_that_no_longer_matter():
    router, ledger, _ = world({("ST2", "B"): 1000, ("DC2", "B"): 1000})
    for _ in range(300):
        o = order(("B", 1))
        router.place(o, OPEN)
        router.release(o, OPEN)
        rerouted, _ = router.reject(o, "ST2", OPEN)
        router.cancel(rerouted, OPEN)  # no re-route order of `o` carries units any more
    memory = router._reroutes
    assert len(memory.by_order) <= 130 and len(memory._up) <= 130
    assert ledger.reserved.sum() == 0


def test_the_router_forgets_the_exclusions_of_closed_orders():
    """Each re-route leaves exclusions for the order; once orders are closed they go at
    the next sweep, so a long-running router keeps about twice the open orders' entries.
    The open orders keep theirs."""
    router, ledger, _ = world({("ST2", "B"): 5000, ("DC2", "B"): 5000})
    kept = []
    for i in range(3000):
        o = order(("B", 1))
        router.place(o, OPEN)
        router.release(o, OPEN)
        rerouted, _ = router.reject(o, "ST2", OPEN)
        router.release(rerouted, OPEN)
        if i % 100 == 0:
            kept.append(o)  # still open: it may be rejected again
            continue
        for x in (rerouted, o):
            x.transition(OrderStatus.PICKED, OPEN)
            x.transition(OrderStatus.SHIPPED, OPEN)
            x.transition(OrderStatus.DELIVERED, OPEN)
    assert len(router._excluded) <= 2 * 1024
    assert all(router.excluded(o.id) == {"ST2"} for o in kept)


def test_locations_avoided_for_one_routing_are_not_remembered():
    """An outage is avoided when the package is routed again, but the order keeps only
    the rejecting location: a later rejection or re-route may use the other one again."""
    router, ledger, o, _ = _released({**STOCK, ("DC1", "B"): 2})
    rerouted, d2 = router.reject(o, "ST2", OPEN, avoid=["DC1"])
    assert packages(d2) == {"DC2": {"B": 2}}  # DC1 had the stock but is avoided
    assert router.excluded(o.id) == router.excluded(rerouted.id) == {"ST2"}
    router.release(rerouted, OPEN)
    again, d3 = router.reject(rerouted, "DC2", OPEN)
    assert packages(d3) == {"DC1": {"B": 2}}  # no longer avoided
    edited = order(("B", 1), id="O9")
    router.place(edited, OPEN)
    d4 = router.reroute(edited, OPEN, exclude=["ST2"], avoid=["DC1"])
    assert packages(d4) == {"DC2": {"B": 1}}  # DC2 has B left; ST2 and DC1 are out
    assert router.excluded("O9") == {"ST2"}
    ledger.check_reservations()
