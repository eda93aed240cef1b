"""Routing policies on a hand-built network with hand-computed expected choices.

See `routing_world.py` for the network: ST1 (10.6 mi) < ST2 (31.8) < DC1 (52.9) < WH (106)
< DC2 (265) from the destination.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from routing_world import (
    DC1,
    DC2,
    LOCATIONS,
    NIGHT,
    OPEN,
    PICKUP,
    REGIONS,
    SHIP,
    ST1,
    ST2,
    WH,
    order,
    packages,
    reasons,
    twin,
    world,
)

from engine import (
    Capability,
    Channel,
    DeliveryMethod,
    InvalidTransition,
    Ledger,
    Network,
    Order,
    OrderStatus,
    RateCard,
    RoutingError,
)
from engine.routing import Router, RoutingSettings, available_policies, get_policy, register_policy
from engine.routing.policies import RulePolicy

# ---------------------------------------------------------------- closest


def test_closest_picks_nearest_location_that_fills_whole_order():
    router, _, _ = world({("ST1", "A"): 1, ("DC1", "A"): 5, ("DC1", "B"): 5, ("DC2", "A"): 9})
    d = router.route(order(("A", 1), ("B", 1)), OPEN)
    assert packages(d) == {"DC1": {"A": 1, "B": 1}}
    assert d.packages == 1 and d.unfulfillable == ()


def test_closest_splits_greedily_by_distance_when_nobody_fills_all():
    router, _, _ = world({("ST1", "A"): 2, ("ST2", "B"): 1, ("DC1", "B"): 5})
    d = router.route(order(("A", 2), ("B", 2)), OPEN)
    # ST1 takes its 2 A, ST2 its 1 B, DC1 the remaining B.
    assert packages(d) == {"ST1": {"A": 2}, "ST2": {"B": 1}, "DC1": {"B": 1}}
    assert [a.package for a in d.allocations] == [0, 1, 2]
    assert d.locations == ("ST1", "ST2", "DC1")


def test_closest_tie_goes_to_earlier_location_in_network_order():
    locs = (ST1, ST2, twin(ST2, "ST2b"), DC1, WH, DC2)
    router, _, _ = world({("ST2b", "A"): 3, ("ST2", "A"): 3}, locations=locs)
    assert router.route(order(("A", 1)), OPEN).locations == ("ST2",)
    locs = (ST1, twin(ST2, "ST2b"), ST2, DC1, WH, DC2)
    router, _, _ = world({("ST2b", "A"): 3, ("ST2", "A"): 3}, locations=locs)
    assert router.route(order(("A", 1)), OPEN).locations == ("ST2b",)


def test_unfulfillable_units_are_reported_and_rest_allocated():
    router, _, _ = world({("ST1", "A"): 1, ("DC1", "A"): 2})
    d = router.route(order(("A", 5), ("B", 1)), OPEN)
    assert packages(d) == {"ST1": {"A": 1}, "DC1": {"A": 2}}
    assert dict(d.unfulfillable) == {"A": 2, "B": 1}


def test_no_partial_allocation_when_setting_off():
    settings = RoutingSettings(allow_partial=False)
    router, ledger, _ = world({("DC1", "A"): 2}, settings=settings)
    o = order(("A", 5))
    d = router.route(o, OPEN)
    assert d.allocations == () and d.unfulfillable == (("A", 5),)
    router.commit(o, d, OPEN)
    assert o.status is OrderStatus.CREATED and ledger.reserved.sum() == 0


def test_unknown_sku_is_unfulfillable():
    router, _, _ = world({("DC1", "A"): 2})
    d = router.route(order(("A", 1), ("ZZZ", 3)), OPEN)
    assert packages(d) == {"DC1": {"A": 1}}
    assert ("ZZZ", 3) in d.unfulfillable


# ---------------------------------------------------------------- ranked


def test_ranked_follows_priority_list_then_distance():
    stock = {("ST1", "A"): 5, ("DC1", "A"): 5, ("DC2", "A"): 5}
    router, _, _ = world(stock, policy=get_policy("ranked", priority=["DC2", "DC1"]))
    assert router.route(order(("A", 1)), OPEN).locations == ("DC2",)
    stock[("DC2", "A")] = 0
    router, _, _ = world(stock, policy=get_policy("ranked", priority=["DC2", "DC1"]))
    assert router.route(order(("A", 1)), OPEN).locations == ("DC1",)
    # Unlisted locations come after the list, nearest first.
    router, _, _ = world(
        {("ST1", "A"): 5, ("ST2", "A"): 5}, policy=get_policy("ranked", priority=["DC2"])
    )
    assert router.route(order(("A", 1)), OPEN).locations == ("ST1",)


def test_ranked_splits_in_priority_order():
    stock = {("ST1", "A"): 1, ("DC2", "A"): 1, ("DC1", "A"): 1}
    router, _, _ = world(stock, policy=get_policy("ranked", priority=["DC2", "DC1", "ST1"]))
    d = router.route(order(("A", 2)), OPEN)
    assert packages(d) == {"DC2": {"A": 1}, "DC1": {"A": 1}}


# ---------------------------------------------------------------- min_split


def test_min_split_prefers_in_region_pair_over_nearer_out_of_region():
    # Destination region is EAST. ST2 is WEST. Covers of size 2: {ST1, ST2} and {ST1, DC2};
    # in-region ranking: ST1 (0), DC1 (1), DC2 (2), ST2 (3) -> {ST1, DC2} has the lower rank sum.
    stock = {("ST1", "A"): 1, ("ST1", "C"): 1, ("ST2", "B"): 1, ("DC2", "A"): 1, ("DC2", "B"): 1}
    router, _, _ = world(stock, policy="min_split")
    d = router.route(order(("A", 1), ("B", 1), ("C", 1)), OPEN)
    assert packages(d) == {"ST1": {"A": 1, "C": 1}, "DC2": {"B": 1}}
    # closest would take ST2 for B (nearer than DC2).
    router, _, _ = world(stock, policy="closest")
    assert packages(router.route(order(("A", 1), ("B", 1), ("C", 1)), OPEN)) == {
        "ST1": {"A": 1, "C": 1},
        "ST2": {"B": 1},
    }


def test_min_split_uses_fewest_packages_even_if_farther():
    # closest: ST1 (A) + ST2 (B) + DC1 (C) = 3 packages; min_split: DC2 alone.
    stock = {("ST1", "A"): 1, ("ST2", "B"): 1, ("DC1", "C"): 1}
    stock |= {("DC2", "A"): 1, ("DC2", "B"): 1, ("DC2", "C"): 1}
    lines = (("A", 1), ("B", 1), ("C", 1))
    router, _, _ = world(stock, policy="min_split")
    assert router.route(order(*lines), OPEN).locations == ("DC2",)
    stock.pop(("DC2", "C"))
    router, _, _ = world(stock, policy="min_split")
    d = router.route(order(*lines), OPEN)
    # Pairs covering A,B,C: {DC1(C), DC2(A,B)} rank sum 1+2=3, best; ST1/ST2 need triples.
    assert packages(d) == {"DC1": {"C": 1}, "DC2": {"A": 1, "B": 1}}


def test_min_split_triple_and_quantity_split_of_unfillable_line():
    stock = {("ST1", "A"): 1, ("DC1", "B"): 1, ("DC2", "C"): 1, ("ST2", "D"): 2, ("DC1", "D"): 2}
    router, _, _ = world(stock, policy="min_split")
    d = router.route(order(("A", 1), ("B", 1), ("C", 1), ("D", 3)), OPEN)
    # A, B, C need three locations; nobody has 3 D, so D is split greedily, chosen
    # locations first (DC1 has 2), then by rank (ST1 has none, ST2 has 2 -> 1 more).
    assert packages(d) == {
        "ST1": {"A": 1},
        "DC1": {"B": 1, "D": 2},
        "DC2": {"C": 1},
        "ST2": {"D": 1},
    }
    assert d.locations[:3] == ("ST1", "DC1", "DC2")


def test_min_split_tie_break_is_deterministic_by_rank():
    locs = (ST1, ST2, DC1, twin(DC1, "DC1b"), WH, DC2)
    stock = {("DC1", "A"): 1, ("DC1b", "A"): 1, ("DC1b", "B"): 1, ("DC1", "B"): 1}
    router, _, _ = world(stock, policy="min_split", locations=locs)
    assert router.route(order(("A", 1), ("B", 1)), OPEN).locations == ("DC1",)


@pytest.mark.parametrize("policy", ["min_split", "cost"])
def test_set_cover_is_exact_for_orders_wider_than_an_int64_mask(policy):
    # 70 lines: DC2 fills lines 0-63, DC1 lines 64-69, so {DC1, DC2} is the only pair that
    # covers the order. ST1 (nearest) fills the odd lines. Line bits 63 and up used to
    # overflow int64 masks, hiding the pair and giving three packages.
    skus = [f"S{j}" for j in range(70)]
    network = Network(LOCATIONS, REGIONS)
    ledger = Ledger([x.id for x in network.locations], skus)
    for j, sku in enumerate(skus):
        ledger.set_stock("DC2" if j < 64 else "DC1", sku, 1)
        if j % 2:
            ledger.set_stock("ST1", sku, 1)
    router = Router(network, ledger, policy=policy)
    d = router.route(order(*((s, 1) for s in skus)), OPEN)
    assert sorted(d.locations) == ["DC1", "DC2"]
    assert packages(d) == {"DC2": {s: 1 for s in skus[:64]}, "DC1": {s: 1 for s in skus[64:]}}


# ---------------------------------------------------------------- cost


def test_cost_picks_cheapest_single_and_reports_cost():
    rates = RateCard()
    router, _, net = world({("DC1", "A"): 5, ("DC2", "A"): 5}, policy="cost", rates=rates)
    d = router.route(order(("A", 2)), OPEN)
    assert d.locations == ("DC1",)
    miles = float(net.distances_from(40.0, -75.0)[net.index["DC1"]])
    assert d.est_shipping_cost == pytest.approx(rates.package_cost(miles, 2))
    assert d.est_cost == pytest.approx(8.759 + 2 * (0.423 + 0.000541 * miles))


def test_cost_package_fee_is_split_penalty_unless_handling_makes_split_cheaper():
    stock = {("ST1", "A"): 1, ("ST2", "B"): 1, ("DC2", "A"): 1, ("DC2", "B"): 1}
    router, _, _ = world(stock, policy="cost")
    # One package from DC2 (265 mi): 8.759 + 2*(0.423+0.143) = 9.89 < two packages (~18.4).
    assert router.route(order(("A", 1), ("B", 1)), OPEN).locations == ("DC2",)
    dc2 = replace(DC2, handling_cost_per_order=10.0)
    router, _, _ = world(stock, policy="cost", locations=(ST1, ST2, DC1, WH, dc2))
    d = router.route(order(("A", 1), ("B", 1)), OPEN)
    assert packages(d) == {"ST1": {"A": 1}, "ST2": {"B": 1}}
    assert d.est_handling_cost == 0.0


def test_cost_sends_each_line_to_cheaper_location_of_pair():
    # Nobody has A and B; DC1 and DC2 both have B; A only at DC2. Pair {DC1? no}: the only
    # cover is DC2 alone (A, B) -> single; add C only at ST1: pair {ST1, DC2}.
    stock = {("DC2", "A"): 1, ("DC2", "B"): 1, ("ST1", "C"): 1, ("ST1", "B"): 1}
    router, _, _ = world(stock, policy="cost")
    d = router.route(order(("A", 1), ("B", 1), ("C", 1)), OPEN)
    # B is cheaper from ST1 (10.6 mi) than DC2 (265 mi).
    assert packages(d) == {"ST1": {"B": 1, "C": 1}, "DC2": {"A": 1}}


# ---------------------------------------------------------------- balance


def test_balance_prefers_most_days_of_cover():
    router, _, _ = world({("DC1", "A"): 10, ("DC2", "A"): 50}, policy="balance")
    assert router.route(order(("A", 1)), OPEN).locations == ("DC2",)


def test_balance_uses_min_cover_over_skus_and_demand_rate():
    stock = {("DC1", "A"): 10, ("DC1", "B"): 10, ("DC2", "A"): 50, ("DC2", "B"): 2}
    router, _, _ = world(stock, policy="balance")
    # Rate 1/day: DC1 covers min(10, 10) = 10 days, DC2 min(50, 2) = 2.
    assert router.route(order(("A", 1), ("B", 1)), OPEN).locations == ("DC1",)
    rate = np.array([1.0, 0.1, 1.0, 1.0])  # B sells slowly: DC2 covers min(50, 20) = 20 days
    router, _, _ = world(stock, policy="balance", settings=RoutingSettings(demand_rate=rate))
    assert router.route(order(("A", 1), ("B", 1)), OPEN).locations == ("DC2",)


def test_balance_tie_falls_back_to_distance():
    router, _, _ = world({("DC2", "A"): 10, ("DC1", "A"): 10}, policy="balance")
    assert router.route(order(("A", 1)), OPEN).locations == ("DC1",)


# ---------------------------------------------------------------- store_first / dc_first


def test_store_first_and_dc_first():
    stock = {("ST2", "A"): 3, ("DC1", "A"): 3, ("DC2", "A"): 3}
    router, _, _ = world(stock, policy="store_first")
    assert router.route(order(("A", 1)), OPEN).locations == ("ST2",)
    router, _, _ = world(stock, policy="dc_first")
    assert router.route(order(("A", 1)), OPEN).locations == ("DC1",)
    router, _, _ = world({("ST1", "A"): 3, ("DC2", "A"): 3}, policy="dc_first")
    assert router.route(order(("A", 1)), OPEN).locations == ("DC2",)
    router, _, _ = world({("DC1", "A"): 3}, policy="store_first")
    assert router.route(order(("A", 1)), OPEN).locations == ("DC1",)


def test_registry_lists_builtins_and_rejects_unknown():
    assert {"closest", "ranked", "min_split", "cost", "balance", "store_first", "dc_first"} <= set(
        available_policies()
    )
    with pytest.raises(RoutingError, match="unknown routing policy 'nope'"):
        get_policy("nope")
    with pytest.raises(RoutingError, match="already registered"):
        register_policy("closest", lambda: None)
    with pytest.raises(RoutingError, match="unknown routing policy"):
        _, ledger, network = world({})
        Router(network, ledger, policy="nope")


def test_custom_policy_object_is_accepted():
    policy = RulePolicy("farthest_dc", sort=(get_policy("dc_first").sort[0],))
    router, _, _ = world({("DC1", "A"): 1, ("DC2", "A"): 1}, policy=policy)
    d = router.route(order(("A", 1)), OPEN)
    assert d.policy == "farthest_dc" and d.locations == ("DC1",)


# ---------------------------------------------------------------- opening hours


def test_closed_store_waits_and_ships_after_next_opening():
    router, _, net = world({("ST1", "A"): 1, ("DC1", "A"): 1}, settings=RoutingSettings())
    d = router.route(order(("A", 1)), NIGHT)  # Monday 22:00 EST: ST1 closed
    assert d.locations == ("ST1",)
    # Opens Tue 09:00 EST, before the 16:00 cut-off: ships Tue 16:00 EST = 21:00 UTC;
    # 10.6 miles is zone 1 = 1 transit day.
    assert d.ship_by == (datetime(2024, 3, 5, 21, 0, tzinfo=UTC),)
    assert d.est_delivery == datetime(2024, 3, 7, 5, 0, tzinfo=UTC)  # end of Wed 6 Mar EST
    assert reasons(d)["ST1"]["excluded"] is None


def test_closed_store_is_skipped_in_skip_mode():
    router, _, _ = world(
        {("ST1", "A"): 1, ("DC1", "A"): 1}, settings=RoutingSettings(closed_location="skip")
    )
    d = router.route(order(("A", 1)), NIGHT)
    assert d.locations == ("DC1",)
    assert reasons(d)["ST1"]["excluded"] == "CLOSED"
    # DC1 is open 24/7 and it is 22:00 local, after the cut-off: ships Tue 16:00 EST;
    # 52.9 miles is zone 2 = 2 transit days.
    assert d.est_delivery == datetime(2024, 3, 8, 5, 0, tzinfo=UTC)  # end of Thu 7 Mar EST
    # In opening hours the store is used again.
    assert router.route(order(("A", 1)), OPEN).locations == ("ST1",)


def test_open_store_ships_at_cutoff_same_day_or_next():
    router, _, _ = world({("ST1", "A"): 1})
    assert router.route(order(("A", 1)), OPEN).ship_by == (datetime(2024, 3, 5, 21, tzinfo=UTC),)
    late = datetime(2024, 3, 5, 22, 0, tzinfo=UTC)  # 17:00 EST, after the 16:00 cut-off
    assert router.route(order(("A", 1)), late).ship_by == (datetime(2024, 3, 6, 21, tzinfo=UTC),)


# ---------------------------------------------------------------- daily limits


def test_daily_order_limit_per_local_day():
    router, _, _ = world({("ST1", "A"): 10, ("ST2", "A"): 10})
    first = [router.place(order(("A", 1)), OPEN) for _ in range(2)]
    assert [d.locations for d in first] == [("ST1",), ("ST1",)]
    assert router.orders_today("ST1", OPEN) == 2
    third = router.place(order(("A", 1)), OPEN)
    assert third.locations == ("ST2",)
    assert reasons(third)["ST1"]["excluded"] == "DAILY_LIMIT"
    # Next local day (Wednesday 10:00 EST) the counter starts again.
    assert router.route(order(("A", 1)), OPEN + timedelta(days=1)).locations == ("ST1",)
    # 04:00 UTC Wednesday is still Tuesday 23:00 in New York: still at the limit.
    tue_night = datetime(2024, 3, 6, 4, 0, tzinfo=UTC)
    assert router.route(order(("A", 1)), tue_night).locations == ("ST2",)


def test_cancel_before_release_frees_daily_slot():
    router, _, _ = world({("ST1", "A"): 10, ("ST2", "A"): 10})
    orders = [order(("A", 1)) for _ in range(2)]
    for o in orders:
        router.place(o, OPEN)
    router.cancel(orders[0], OPEN, "customer")
    assert router.orders_today("ST1", OPEN) == 1
    assert router.route(order(("A", 1)), OPEN).locations == ("ST1",)


# ---------------------------------------------------------------- wholesale


def test_wholesale_orders_only_from_wholesale_dcs():
    stock = {("DC1", "A"): 10, ("WH", "A"): 10}
    router, _, _ = world(stock)
    d = router.route(order(("A", 5), channel=Channel.WHOLESALE), OPEN)
    assert d.locations == ("WH",)
    r = reasons(d)
    assert r["DC1"]["excluded"] == "NO_CAPABILITY"
    # Retail orders never use the wholesale-only DC.
    d = router.route(order(("A", 20)), OPEN)
    assert packages(d) == {"DC1": {"A": 10}}
    assert reasons(d)["WH"]["excluded"] == "NO_CAPABILITY"


def test_warehouse_with_wholesale_capability_is_not_wholesale_dc():
    dc1 = replace(DC1, capabilities=frozenset({Capability.SHIP, Capability.WHOLESALE}))
    router, _, _ = world({("DC1", "A"): 10}, locations=(ST1, ST2, dc1, WH, DC2))
    d = router.route(order(("A", 1), channel=Channel.WHOLESALE), OPEN)
    assert d.allocations == ()
    assert reasons(d)["DC1"]["excluded"] == "NOT_WHOLESALE"


# ---------------------------------------------------------------- BOPIS and same day


def test_bopis_uses_chosen_store_only():
    router, _, _ = world({("ST1", "A"): 3, ("ST2", "A"): 3, ("DC1", "A"): 3})
    d = router.route(order(("A", 1), method=DeliveryMethod.BOPIS, pickup_store="ST2"), OPEN)
    assert d.locations == ("ST2",)
    assert d.est_shipping_cost == 0.0
    assert d.est_delivery == OPEN + timedelta(hours=2)  # ready after the pick lead time
    r = reasons(d)
    assert r["ST1"]["excluded"] == "NOT_PICKUP_STORE"
    assert r["DC1"]["excluded"] == "NO_CAPABILITY"


def test_bopis_without_stock_at_chosen_store():
    stock = {("ST1", "A"): 3, ("DC1", "A"): 3}
    router, _, _ = world(stock)
    d = router.route(order(("A", 1), method=DeliveryMethod.BOPIS, pickup_store="ST2"), OPEN)
    assert d.allocations == () and d.unfulfillable == (("A", 1),)
    o = order(
        ("A", 1), method=DeliveryMethod.BOPIS, pickup_store="ST2", allow_store_substitution=True
    )
    d = router.route(o, OPEN)
    assert d.locations == ("ST1",)  # nearest store with stock; DC1 cannot do pickup


def test_bopis_substitution_only_picks_stores():
    # A warehouse that offers pickup is still not a store: substitution looks at stores only.
    dc_pickup = replace(DC1, capabilities=frozenset({SHIP, PICKUP}))
    locations = (ST1, ST2, dc_pickup, WH, DC2)
    router, _, _ = world({("DC1", "A"): 3, ("ST1", "A"): 1}, locations=locations)
    o = order(
        ("A", 1), method=DeliveryMethod.BOPIS, pickup_store="ST2", allow_store_substitution=True
    )
    d = router.route(o, OPEN)
    assert d.locations == ("ST1",)
    assert reasons(d)["DC1"]["excluded"] == "NOT_PICKUP_STORE"


def test_bopis_never_splits():
    def pickup_at_st2(substitution: bool = True) -> Order:
        return order(
            ("A", 1),
            ("B", 1),
            method=DeliveryMethod.BOPIS,
            pickup_store="ST2",
            allow_store_substitution=substitution,
        )

    # One store holding both SKUs: the order goes there whole.
    router, _, _ = world({("ST1", "A"): 1, ("ST1", "B"): 1, ("ST2", "A"): 1})
    assert packages(router.route(pickup_at_st2(), OPEN)) == {"ST1": {"A": 1, "B": 1}}
    # A only at ST1, B only at the pickup store ST2: no store holds both, so any split
    # strategy would send two packages. The customer collects at one store, so BOPIS takes
    # one store (the pickup store, nearest to itself) and leaves the rest unfulfillable.
    router, _, _ = world({("ST1", "A"): 1, ("ST2", "B"): 1})
    for substitution in (True, False):
        d = router.route(pickup_at_st2(substitution), OPEN)
        assert d.packages == 1 and len(d.locations) == 1
        assert packages(d) == {"ST2": {"B": 1}}
        assert d.unfulfillable == (("A", 1),)


def test_bopis_unknown_store_raises():
    router, _, _ = world({("ST1", "A"): 1})
    with pytest.raises(RoutingError, match="pickup store 'NOPE'"):
        router.route(order(("A", 1), method=DeliveryMethod.BOPIS, pickup_store="NOPE"), OPEN)


def test_same_day_only_within_radius():
    router, _, _ = world(
        {("ST2", "A"): 1, ("DC1", "A"): 5}, settings=RoutingSettings(same_day_max_miles=50)
    )
    d = router.route(order(("A", 2), method=DeliveryMethod.SAME_DAY), OPEN)
    assert packages(d) == {"ST2": {"A": 1}}
    assert d.unfulfillable == (("A", 1),)
    assert reasons(d)["DC1"]["excluded"] == "TOO_FAR"
    assert d.est_delivery == OPEN + timedelta(hours=4)


# ---------------------------------------------------------------- lifecycle: commit, reroute, cancel


def test_place_reserves_and_marks_routed():
    router, ledger, _ = world({("ST1", "A"): 3})
    o = order(("A", 2))
    d = router.place(o, OPEN)
    assert o.status is OrderStatus.ROUTED and o.decision_id == d.decision_id == f"{o.id}-D1"
    assert ledger.reservations(d.decision_id) == [(0, 0, 2)]
    assert ledger.ats_for("ST1", "A", "web") == 1


def test_route_is_pure_and_ids_are_deterministic():
    router, ledger, _ = world({("ST1", "A"): 3})
    o = order(("A", 2))
    d1, d2 = router.route(o, OPEN), router.route(o, OPEN)
    assert d1.decision_id == d2.decision_id and d1.allocations == d2.allocations
    assert ledger.reserved.sum() == 0 and o.status is OrderStatus.CREATED


def test_reroute_after_store_rejection_excludes_it():
    router, ledger, _ = world({("ST1", "A"): 3, ("ST2", "A"): 3, ("DC1", "A"): 3})
    o = order(("A", 1))
    router.place(o, OPEN)
    requests = router.release(o, OPEN)
    assert [r.location for r in requests] == ["ST1"]
    o.transition(OrderStatus.REJECTED, OPEN, "not on shelf")
    d2 = router.reroute(o, OPEN, exclude=["ST1"])
    assert d2.locations == ("ST2",) and d2.decision_id == f"{o.id}-D2"
    assert reasons(d2)["ST1"]["excluded"] == "EXCLUDED"
    assert o.status is OrderStatus.ROUTED
    assert ledger.reserved[ledger.loc_index["ST1"]].sum() == 0
    assert ledger.reserved[ledger.loc_index["ST2"]].sum() == 1
    # A later rejection by ST2 keeps ST1 excluded.
    router.release(o, OPEN)
    d3 = router.reroute(o, OPEN, exclude=["ST2"])  # released -> rejected -> routed
    assert d3.locations == ("DC1",) and router.excluded(o.id) == {"ST1", "ST2"}
    assert ledger.reserved.sum() == 1


def test_reroute_when_nothing_left_rejects_order():
    router, ledger, _ = world({("ST1", "A"): 3})
    o = order(("A", 1))
    router.place(o, OPEN)
    d = router.reroute(o, OPEN, exclude=["ST1"])  # an outage
    assert d.allocations == () and o.status is OrderStatus.REJECTED
    assert ledger.reserved.sum() == 0 and o.decision_id is None


def test_edit_quantity_then_reroute_moves_reservation():
    router, ledger, _ = world({("ST1", "A"): 1, ("DC1", "A"): 5})
    o = order(("A", 1))
    router.place(o, OPEN)
    assert router.decision_for(o.id).locations == ("ST1",)
    o.edit_quantity(o.lines[0].line_id, 3, OPEN)
    assert o.needs_reroute
    d = router.reroute(o, OPEN)
    assert packages(d) == {"DC1": {"A": 3}} and not o.needs_reroute
    assert ledger.reserved[ledger.loc_index["ST1"]].sum() == 0
    assert ledger.reserved[ledger.loc_index["DC1"]].sum() == 3


def test_address_change_then_reroute_uses_new_destination():
    router, _, _ = world({("ST1", "A"): 1, ("DC2", "A"): 1})
    o = order(("A", 1))
    assert router.place(o, OPEN).locations == ("ST1",)
    o.change_address(40.0, -80.1, OPEN)
    assert router.reroute(o, OPEN).locations == ("DC2",)


def test_cancel_releases_reservation():
    router, ledger, _ = world({("ST1", "A"): 3})
    o = order(("A", 2))
    router.place(o, OPEN)
    router.cancel(o, OPEN, "customer changed mind")
    assert o.status is OrderStatus.CANCELLED
    assert ledger.reserved.sum() == 0 and ledger.ats_for("ST1", "A", "web") == 3


def test_cancel_after_release_releases_and_invalid_transitions_change_nothing():
    router, ledger, _ = world({("ST1", "A"): 3})
    o = order(("A", 2))
    router.place(o, OPEN)
    router.release(o, OPEN)
    router.cancel(o, OPEN)
    assert ledger.reserved.sum() == 0
    with pytest.raises(InvalidTransition):
        router.cancel(o, OPEN)
    with pytest.raises(InvalidTransition):
        router.reroute(o, OPEN)


def test_commit_of_stale_decision_raises_and_changes_nothing():
    router, ledger, _ = world({("ST1", "A"): 2})
    o1, o2 = order(("A", 2)), order(("A", 2))
    stale = router.route(o2, OPEN)
    router.place(o1, OPEN)
    with pytest.raises(RoutingError, match="cannot reserve"):
        router.commit(o2, stale, OPEN)
    assert o2.status is OrderStatus.CREATED and ledger.reserved.sum() == 2


def test_release_needs_a_routed_order():
    router, _, _ = world({("ST1", "A"): 2})
    with pytest.raises(InvalidTransition, match="cannot release in status created"):
        router.release(order(("A", 1)), OPEN)
    o = order(("A", 1))
    router.place(o, OPEN)
    router.release(o, OPEN)
    with pytest.raises(InvalidTransition, match="cannot release in status released"):
        router.release(o, OPEN)  # once, not "it has no reservation"


def test_naive_time_is_rejected():
    router, _, _ = world({("ST1", "A"): 2})
    with pytest.raises(RoutingError, match="timezone-aware"):
        router.route(order(("A", 1)), datetime(2024, 3, 5, 12))


def test_ledger_rows_may_differ_from_network_order():
    from routing_world import LOCATIONS, REGIONS, SKUS

    from engine import Ledger, Network

    network = Network(LOCATIONS, REGIONS)
    ledger = Ledger([x.id for x in reversed(LOCATIONS)], SKUS)
    ledger.set_stock("DC1", "A", 2)
    router = Router(network, ledger, policy="balance")
    o = order(("A", 2))
    assert router.place(o, OPEN).locations == ("DC1",)
    assert ledger.reserved[ledger.loc_index["DC1"], 0] == 2


# ---------------------------------------------------------------- invariants on random networks


def _random_world(seed: int, n_locations: int = 30):
    from engine import Ledger, Location, LocationKind, Network, OpeningHours

    rng = np.random.default_rng(seed)
    locs = []
    for i in range(n_locations):
        store = i % 3 != 0
        locs.append(
            Location(
                f"L{i}", LocationKind.STORE if store else LocationKind.WAREHOUSE,
                float(rng.uniform(30, 45)), float(rng.uniform(-120, -75)), "America/Chicago",
                hours=OpeningHours.daily(9, 21) if store else OpeningHours.always_open(),
                capabilities=frozenset({Capability.SHIP}), daily_order_limit=3 if store else None,
                region=f"R{i % 4}",
            )
        )  # fmt: skip
    network = Network(locs)
    skus = [f"S{j}" for j in range(8)]
    ledger = Ledger([x.id for x in locs], skus)
    ledger.load_stock(rng.poisson(1.0, size=(n_locations, 8)).astype(np.int32))
    return rng, network, ledger, skus


@pytest.mark.parametrize(
    "policy", ["closest", "min_split", "cost", "balance", "store_first", "dc_first", "ranked"]
)
def test_routing_invariants_on_random_orders(policy):
    from engine import Order, OrderLine

    rng, network, ledger, skus = _random_world(7)
    settings = RoutingSettings(max_packages=4, closed_location="skip")
    router = Router(network, ledger, policy=policy, settings=settings)
    closest = Router(network, ledger, policy="closest", settings=settings)
    for i in range(150):
        k = int(rng.integers(1, 6))
        lines = [
            OrderLine(skus[j], int(rng.integers(1, 4))) for j in rng.choice(8, k, replace=False)
        ]
        o = Order(
            f"R{i}",
            Channel.WEB,
            "c",
            float(rng.uniform(30, 45)),
            float(rng.uniform(-120, -75)),
            lines,
            created_at=OPEN,
        )
        at = OPEN + timedelta(hours=int(rng.integers(0, 48)))
        d = router.route(o, at)
        ordered = {line.sku: line.quantity for line in o.lines}
        got = {s: 0 for s in ordered}
        for a in d.allocations:
            got[a.sku] += a.quantity
            assert a.quantity <= ledger.ats_for(a.location, a.sku, "web")
        for s, q in d.unfulfillable:
            got[s] += q
        assert got == ordered
        assert d.packages <= 4
        r = reasons(d)
        assert all(r[loc]["excluded"] is None for loc in d.locations)
        if policy == "cost":
            other = closest.route(o, at)
            if other.packages == 1 and not other.unfulfillable:
                assert d.est_cost <= other.est_cost + 1e-9
        if i % 3 == 0 and d.allocations and policy != "cost":  # cost compares with closest
            router.commit(o, d, at)
    assert (ledger.reserved <= ledger.on_hand).all()


# ------------------------------------------- ties and shared filters, for every policy

BUILTIN_NAMES = ("closest", "ranked", "min_split", "cost", "balance", "store_first", "dc_first")


def test_builtin_names_are_all_covered():
    assert set(BUILTIN_NAMES) <= set(available_policies())


@pytest.mark.parametrize("policy", BUILTIN_NAMES)
def test_every_policy_breaks_exact_ties_by_network_order(policy):
    # DC1 and its twin are identical in place, kind, region, cost and stock: every sort key
    # ties, so the earlier row wins, and swapping the rows swaps the choice.
    stock = {("DC1", "A"): 4, ("DC1b", "A"): 4}
    for locs, expected in (
        ((ST1, ST2, DC1, twin(DC1, "DC1b"), WH, DC2), "DC1"),
        ((ST1, ST2, twin(DC1, "DC1b"), DC1, WH, DC2), "DC1b"),
    ):
        router, _, _ = world(stock, policy=policy, locations=locs)
        assert router.route(order(("A", 2)), OPEN).locations == (expected,)


@pytest.mark.parametrize("policy", BUILTIN_NAMES)
def test_every_policy_respects_exclusions_hours_limits_and_wholesale(policy):
    # Excluded: DC1 would win on distance, cost and DC-first; only DC2 is left.
    router, _, _ = world({("DC1", "A"): 5, ("DC2", "A"): 5}, policy=policy)
    assert router.route(order(("A", 1)), OPEN, exclude=["DC1"]).locations == ("DC2",)

    # Closed store in "skip" mode: ST1 (nearest, a store) is closed at NIGHT -> DC1.
    skip = RoutingSettings(closed_location="skip")
    router, _, _ = world({("ST1", "A"): 5, ("DC1", "A"): 5}, policy=policy, settings=skip)
    d = router.route(order(("A", 1)), NIGHT)
    assert d.locations == ("DC1",) and reasons(d)["ST1"]["excluded"] == "CLOSED"

    # Daily limit: ST1 takes 2 orders a day; a third goes to DC2 whatever the policy.
    router, _, _ = world({("ST1", "A"): 9, ("DC2", "A"): 9}, policy="store_first")
    for _ in range(2):
        assert router.place(order(("A", 1)), OPEN).locations == ("ST1",)
    router.policy = get_policy(policy)
    d = router.route(order(("A", 1)), OPEN)
    assert d.locations == ("DC2",) and reasons(d)["ST1"]["excluded"] == "DAILY_LIMIT"

    # Wholesale: only the wholesale DC, even though DC1 is nearer and stocked.
    router, _, _ = world({("DC1", "A"): 5, ("WH", "A"): 5}, policy=policy)
    d = router.route(order(("A", 3), channel=Channel.WHOLESALE), OPEN)
    assert packages(d) == {"WH": {"A": 3}}


def test_line_removal_then_reroute_releases_the_removed_line():
    router, ledger, _ = world({("ST1", "A"): 2, ("ST1", "B"): 2})
    o = order(("A", 1), ("B", 2))
    router.place(o, OPEN)
    st1 = ledger.loc_index["ST1"]
    assert ledger.reserved[st1].tolist() == [1, 2, 0, 0]
    o.remove_line(o.lines[1].line_id, OPEN)
    router.reroute(o, OPEN)
    assert ledger.reserved[st1].tolist() == [1, 0, 0, 0]
    ledger.check_reservations()


def test_release_of_an_edited_order_needs_a_reroute_first():
    router, ledger, _ = world({("DC1", "A"): 5})
    o = order(("A", 1))
    router.place(o, OPEN)
    o.edit_quantity(o.lines[0].line_id, 3, OPEN)
    with pytest.raises(RoutingError, match="re-route it before release"):
        router.release(o, OPEN)
    assert o.status is OrderStatus.ROUTED  # nothing changed
    router.reroute(o, OPEN)
    (request,) = router.release(o, OPEN)
    assert request.lines == (("A", 3),) and o.status is OrderStatus.RELEASED


def test_bopis_neither_blocked_by_nor_counted_in_the_ship_from_store_limit():
    router, _, _ = world({("ST1", "A"): 10, ("DC1", "A"): 10})
    for _ in range(2):  # ST1's daily limit is 2 shipping orders
        router.place(order(("A", 1)), OPEN)
    assert router.orders_today("ST1", OPEN) == 2
    assert router.route(order(("A", 1)), OPEN).locations == ("DC1",)
    pickup = order(("A", 1), method=DeliveryMethod.BOPIS, pickup_store="ST1")
    assert router.place(pickup, OPEN).locations == ("ST1",)
    assert router.orders_today("ST1", OPEN) == 2


def test_every_built_in_policy_says_what_it_does() -> None:
    """The app lists each policy with its description: none may be left blank."""
    from engine.routing import available_policies, get_policy

    for name in available_policies():
        assert str(getattr(get_policy(name), "description", "")).strip(), name
