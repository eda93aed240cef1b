"""Guards an integrator relies on: the network sets the ledger's store thresholds, two orders
with one id cannot disturb each other, edits keep shipped units, returns fit their order."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest
from routing_world import DC1, LOCATIONS, OPEN, ST1, delivered, order, world

from engine import Ledger, LedgerError, Network, Order, OrderLine, OrderStatus, Router, RoutingError
from engine.errors import RuleError
from engine.returns import ReturnItem, ReturnsPolicy
from engine.routing import RoutingSettings, get_policy
from engine.routing.rules import load_policy_file, policy_from_rules


def test_a_store_online_threshold_set_on_the_location_hides_its_stock_online():
    stores = tuple(replace(x, online_threshold=5) if x.id == "ST1" else x for x in LOCATIONS)
    router, ledger, _ = world({("ST1", "A"): 2, ("DC1", "A"): 9}, locations=stores)
    row = ledger.loc_index["ST1"]
    assert ledger.is_store[row] and ledger.online_threshold[row] == 5
    assert not ledger.is_store[ledger.loc_index["DC1"]]
    assert ledger.ats_for("ST1", "A", "web") == 0  # 2 units are below the threshold
    assert ledger.ats_for("ST1", "A", "pos") == 2  # the till still sells them
    d = router.place(order(("A", 1)), OPEN)
    assert {a.location for a in d.allocations} == {"DC1"}


def test_an_unrouted_order_sharing_an_id_leaves_the_other_order_alone():
    router, ledger, _ = world({("ST1", "A"): 3})
    first = order(("Z", 1), id="SAME")  # an unknown SKU: nothing reserved
    router.place(first, OPEN)
    assert (first.status, first.decision_id) == (OrderStatus.CREATED, None)
    second = order(("A", 1), id="SAME")
    d = router.place(second, OPEN)
    assert router.orders_today("ST1", OPEN) == 1
    router.cancel(first, OPEN)
    assert router.decision_for("SAME") == d
    assert router.orders_today("ST1", OPEN) == 1
    assert ledger.reserved.sum() == 1
    assert [r.location for r in router.release(second, OPEN)] == ["ST1"]


def test_release_refuses_a_decision_closed_in_the_ledger():
    router, ledger, _ = world({("DC1", "A"): 3})
    o = order(("A", 1))
    d = router.place(o, OPEN)
    ledger.fulfil(d.decision_id, "DC1", OPEN)  # behind the router's back
    with pytest.raises(RoutingError, match="already closed in the ledger"):
        router.release(o, OPEN)
    assert o.status is OrderStatus.ROUTED


def test_cancel_refuses_units_fulfilled_in_the_ledger_and_keeps_them_after_a_reroute():
    router, ledger, _ = world({("ST1", "A"): 1, ("ST2", "B"): 1, ("DC2", "B"): 5})
    o = order(("A", 1), ("B", 1))
    d = router.place(o, OPEN)
    assert d.locations == ("ST1", "ST2")
    router.release(o, OPEN)
    ledger.fulfil(d.decision_id, "ST1", OPEN)  # ST1 shipped A; B is still being picked
    with pytest.raises(RoutingError, match=f"units of decision '{o.id}-D1' were already fulfilled"):
        router.cancel(o, OPEN)
    assert o.status is OrderStatus.RELEASED and o.decision_id == d.decision_id
    assert ledger.reservations(d.decision_id) == [(1, 1, 1)]  # ST2's B is still held
    # the way out: record what shipped, re-route the rest, cancel that
    o.record_fulfilled("A", 1)
    router.reroute(o, OPEN, exclude=["ST2"])
    router.cancel(o, OPEN, "customer")
    assert o.status is OrderStatus.CANCELLED and o.fulfilled_units == 1
    assert ledger.reserved.sum() == 0 and ledger.on_hand[0].tolist() == [0, 0, 0, 0]
    ledger.check_conservation()


def test_a_routed_order_fulfilled_in_part_behind_the_routers_back_is_not_released_or_cancelled():
    router, ledger, _ = world({("ST1", "A"): 1, ("ST2", "B"): 1})
    o = order(("A", 1), ("B", 1))
    d = router.place(o, OPEN)
    ledger.fulfil(d.decision_id, "ST2", OPEN)
    with pytest.raises(RoutingError, match="was fulfilled in part in the ledger before release"):
        router.release(o, OPEN)
    with pytest.raises(RoutingError, match="were already fulfilled in the ledger"):
        router.cancel(o, OPEN)
    assert o.status is OrderStatus.ROUTED and router.decision_for(o.id) == d
    assert router.orders_today("ST1", OPEN) == router.orders_today("ST2", OPEN) == 1
    assert ledger.reserved.sum() == 1


def test_reroute_refuses_units_fulfilled_in_the_ledger_that_the_order_does_not_record():
    router, ledger, _ = world({("ST1", "A"): 1, ("ST2", "B"): 1, ("DC2", "B"): 5})
    o = order(("A", 1), ("B", 1))
    d = router.place(o, OPEN)
    router.release(o, OPEN)
    ledger.fulfil(d.decision_id, "ST1", OPEN)  # ST1 shipped A; the order was not told

    def state() -> tuple:
        return (o.status, o.decision_id, len(o.history), router.excluded(o.id),
                ledger.reserved.copy().tolist(), len(ledger.audit))  # fmt: skip

    before = state()
    unrecorded = r"does not record as fulfilled \(1 consumed under its decisions, 0 recorded\)"
    with pytest.raises(RoutingError, match=unrecorded):
        router.reroute(o, OPEN, exclude=["ST2"])  # would route A again
    assert state() == before and o.status is OrderStatus.RELEASED
    o.record_fulfilled("A", 1)
    d2 = router.reroute(o, OPEN, exclude=["ST2"])
    assert [(a.location, a.sku, a.quantity) for a in d2.allocations] == [("DC2", "B", 1)]
    # the units of earlier decisions count too: B shipped under the second one, unrecorded
    router.release(o, OPEN)
    ledger.fulfil(d2.decision_id, "DC2", OPEN)
    with pytest.raises(RoutingError, match=r"\(2 consumed under its decisions, 1 recorded\)"):
        router.reroute(o, OPEN)
    with pytest.raises(RoutingError, match="were already fulfilled in the ledger"):
        router.cancel(o, OPEN)
    assert o.decision_id == d2.decision_id and ledger.reserved.sum() == 0


def test_edits_cannot_drop_units_already_fulfilled():
    router, _, _ = world({("DC1", "A"): 9, ("DC1", "B"): 9})
    o = order(("A", 3), ("B", 2))
    router.place(o, OPEN)
    router.release(o, OPEN)
    o.record_fulfilled("A", 3)  # A shipped; B is rejected and re-routed
    router.reroute(o, OPEN, exclude=["DC2"])
    with pytest.raises(ValueError, match="line 0 has 3 units fulfilled already"):
        o.edit_quantity(0, 1, OPEN)
    with pytest.raises(ValueError, match="line 0 has units fulfilled already"):
        o.remove_line(0, OPEN)
    assert (o.units, o.fulfilled_units, o.unfulfilled_units) == (5, 3, 2)
    o.edit_quantity(0, 4, OPEN)  # more is fine
    assert o.unfulfilled_units == 3


@pytest.mark.parametrize(
    "item, match",
    [
        (ReturnItem("R1", "A", 2, "DC1"), "2 units of 'A' handed back, but only 1 were"),
        (ReturnItem("R1", "B", 1, "DC1"), "SKU 'B' is not on the order"),
        (ReturnItem("OTHER", "A", 1, "DC1"), "the original order given is 'R1'"),
    ],
)
def test_a_return_must_fit_its_order(item, match):
    _, ledger, network = world({("DC1", "A"): 1})
    original = delivered(order(("A", 1), id="R1"))
    with pytest.raises(ValueError, match=match):
        ReturnsPolicy().decide(item, network, ledger, OPEN, 10.0, original)


def test_units_cannot_come_back_twice_or_before_they_left():
    _, ledger, network = world({("DC1", "A"): 1})
    policy = ReturnsPolicy()
    original = delivered(order(("A", 2), id="R1"))
    item = ReturnItem("R1", "A", 1, DC1.id)
    for _ in range(2):
        policy.apply(policy.decide(item, network, ledger, OPEN, 10.0, original), ledger, OPEN,
                     order=original)  # fmt: skip
    with pytest.raises(ValueError, match="only 0 were fulfilled and not returned"):
        policy.decide(item, network, ledger, OPEN, 10.0, original)
    assert ledger.on_hand[ledger.loc_index["DC1"], 0] == 3
    assert len(original.refunds) == 2
    never_sent = order(("A", 1), id="R2")
    with pytest.raises(ValueError, match="only 0 were fulfilled"):
        policy.decide(ReturnItem("R2", "A", 1, ST1.id), network, ledger, OPEN, 10.0, never_sent)


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("id", "", "order id must be a non-empty string"),
        ("id", 7, "order id must be a non-empty string"),
        ("created_at", "2024-03-05", "created_at must be a timezone-aware datetime"),
        ("promised_at", datetime(2024, 3, 6), "promised_at must be a timezone-aware datetime"),
        ("dest_lat", "40.7", "destination latitude must be a number"),
        ("dest_lon", None, "destination longitude must be a number"),
    ],
)
def test_an_order_with_bad_fields_is_a_value_error_naming_the_field(field, value, match):
    fields = dict(id="O1", channel="web", customer_id="c", dest_lat=40.0, dest_lon=-75.0,
                  lines=[OrderLine("A", 1)], created_at=OPEN)  # fmt: skip
    with pytest.raises(ValueError, match=match):
        Order(**{**fields, field: value})
    Order(**fields)  # the same order with good fields is fine


def test_a_priority_list_with_an_unknown_location_is_refused_when_routing():
    router, ledger, _ = world({("DC1", "A"): 5}, policy=get_policy("ranked", priority=["DC-1"]))
    o = order(("A", 1))
    with pytest.raises(RoutingError, match=r"not in the network: \['DC-1'\]"):
        router.place(o, OPEN)
    assert o.status is OrderStatus.CREATED and ledger.reserved.sum() == 0


def test_a_distance_limit_must_be_a_number_not_nan():
    with pytest.raises(RuleError, match="max_distance_miles needs a number >= 0, got nan"):
        policy_from_rules({"name": "near", "filters": [{"max_distance_miles": math.nan}]})


def test_settings_and_times_are_checked_before_routing():
    with pytest.raises(RoutingError, match="demand_rate has 2 values, the ledger 4 SKUs"):
        world({}, settings=RoutingSettings(demand_rate=np.ones(2)))
    router, ledger, _ = world({("DC1", "A"): 5})
    o = order(("A", 1))
    with pytest.raises(RoutingError, match="place_many: time must be a timezone-aware"):
        router.place_many([o], "2024-03-05T15:00Z")  # type: ignore[arg-type]
    assert o.status is OrderStatus.CREATED and ledger.reserved.sum() == 0


def test_a_rule_cannot_ship_more_packages_than_the_settings_allow():
    network = Network(list(LOCATIONS))
    ledger = Ledger([x.id for x in LOCATIONS], ["A", "B"])
    ledger.set_stock("DC1", "A", 1)
    ledger.set_stock("DC2", "B", 1)
    wide = policy_from_rules({"name": "wide", "max_packages": 3})
    one = Router(network, ledger, policy=wide, settings=RoutingSettings(max_packages=1))
    d = one.route(order(("A", 1), ("B", 1)), OPEN)
    assert len(d.locations) == 1 and d.unfulfillable  # the setting caps the rule
    two = Router(network, ledger, policy=wide, settings=RoutingSettings(max_packages=5))
    assert len(two.route(order(("A", 1), ("B", 1)), OPEN).locations) == 2
    assert get_policy("closest", max_packages=2).max_packages == 2


def test_a_kinds_filter_must_name_a_kind():
    with pytest.raises(RuleError, match="kinds needs at least one location kind"):
        policy_from_rules({"name": "none", "filters": [{"kinds": []}]})


def test_counts_and_open_masks_refuse_naive_times():
    router, _, network = world({})
    naive = OPEN.replace(tzinfo=None)
    network.open_mask(OPEN)  # cached: a naive time of the same hour must still be refused
    with pytest.raises(ValueError, match="timezone-aware"):
        network.open_mask(naive)
    with pytest.raises(RoutingError, match="orders_today: time must be a timezone-aware"):
        router.orders_today("ST1", naive)


def test_an_order_line_too_large_for_routing_is_a_value_error():
    with pytest.raises(
        ValueError, match="quantity must be in 1..2,147,483,647, got 9223372036854775808"
    ):
        OrderLine("A", 2**63)
    assert OrderLine("A", 2**31 - 1).quantity == 2**31 - 1


def test_reasons_say_how_much_of_the_order_each_location_could_fill():
    router, _, _ = world({("ST1", "A"): 1, ("DC1", "A"): 5}, policy="min_split")
    d = router.route(order(("A", 3)), OPEN)
    by_loc = {r["location"]: r for r in d.reasons()}
    assert by_loc["ST1"]["rank"] == 0 and not by_loc["ST1"]["chosen"]
    assert by_loc["ST1"]["fillable_units"] == 1  # why the nearest store was passed over
    assert by_loc["DC1"]["fillable_units"] == 3 and by_loc["DC1"]["chosen"]
    assert by_loc["DC2"]["fillable_units"] == 0


def test_an_order_history_never_goes_back_in_time():
    router, ledger, _ = world({("DC1", "A"): 5})
    o = order(("A", 1))  # created at OPEN
    earlier = OPEN - timedelta(hours=1)
    with pytest.raises(RoutingError, match="is before its last event"):
        router.place(o, earlier)
    with pytest.raises(RoutingError, match="is before its last event"):
        router.place_many([o], earlier)
    assert o.status is OrderStatus.CREATED and ledger.reserved.sum() == 0
    router.place(o, OPEN + timedelta(hours=1))
    for call in (router.release, router.cancel, router.reroute):
        with pytest.raises(RoutingError, match="is before its last event"):
            call(o, OPEN)
    assert o.status is OrderStatus.ROUTED and ledger.reserved.sum() == 1


def test_a_ledger_configured_otherwise_is_refused_not_overwritten():
    _, ledger, network = world({("ST1", "A"): 2})
    assert not ledger.is_store[ledger.loc_index["DC1"]]
    fresh = Ledger(ledger.location_ids, ledger.skus)
    fresh.configure_locations(online_threshold=5, is_store=ledger.is_store)  # not the network's
    with pytest.raises(
        RoutingError, match="differ from the network's locations at \\['ST1', 'ST2', 'DC1'"
    ):
        Router(network, fresh)
    assert fresh.online_threshold.tolist() == [5] * 5  # left as it was
    stores = tuple(
        replace(x, online_threshold=5) if x.kind.value == "store" else x for x in LOCATIONS
    )
    with pytest.raises(RoutingError, match="differ from the network's"):
        Router(Network(list(stores)), ledger)  # a second router that disagrees with the first


def test_large_ledgers_keep_within_the_audit_log():
    big = Ledger(["L1"], ["A"], dtype=np.int64)
    assert big.max_units == 2**31 - 1
    with pytest.raises(LedgerError, match="on_hand"):
        big.set_stock("L1", "A", 3_000_000_000)
    assert big.on_hand.sum() == 0


def test_a_rules_file_that_is_not_utf8_is_a_rule_error(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: caf\xe9\nsort: [distance]\n")
    with pytest.raises(RuleError, match="not UTF-8 text"):
        load_policy_file(bad)
