"""`place_many` takes its short cut for a pickup order only when the customer accepts no
other store: with store substitution the order is routed the usual way, which may pick
another store as good as the chosen one (here a twin at the same place, first in network
order), exactly as `place` one by one does. Daily limits in a batch count as one by one:
pickups do not use them up, and an order placed the usual way mid-batch does.
"""

from __future__ import annotations

from routing_world import LOCATIONS, OPEN, ST1, order, twin, world

from engine import DeliveryMethod
from engine.routing import RoutingSettings

LOCS = (twin(ST1, "ST0"), *LOCATIONS)  # ST0: same place as ST1, first in network order
STOCK = {("ST0", "A"): 5, ("ST1", "A"): 5}


def _pickups(substitution: bool):
    return [
        order(("A", 1), method=DeliveryMethod.BOPIS, pickup_store="ST1", id=f"P{k}",
              allow_store_substitution=substitution)
        for k in range(3)
    ]  # fmt: skip


def test_pickups_in_a_batch_go_where_they_go_one_by_one():
    settings = RoutingSettings(keep_reasons=False)
    for substitution in (False, True):
        one, _, _ = world(STOCK, settings=settings, locations=LOCS)
        many, _, _ = world(STOCK, settings=settings, locations=LOCS)
        expected = [one.place(o, OPEN) for o in _pickups(substitution)]
        got = many.place_many(_pickups(substitution), OPEN)
        assert [d.locations for d in got] == [d.locations for d in expected]
        assert got == expected
        if not substitution:
            assert {d.locations for d in got} == {("ST1",)}


def _same(orders_a, orders_b, stock):
    settings = RoutingSettings(keep_reasons=False)
    one, _, _ = world(stock, settings=settings)
    many, _, _ = world(stock, settings=settings)
    expected = [one.place(o, OPEN) for o in orders_a]
    got = many.place_many(orders_b, OPEN)
    assert got == expected
    assert one._counter._daily == many._counter._daily
    return [d.locations for d in got]


def test_pickups_do_not_use_up_the_daily_limit_in_a_batch():
    # ST1 (closest, limit 2 a day) also is the pickup store: two pickups, then three
    # shipped orders: the first two shipped ones still go to ST1.
    def orders():
        pick = [order(("A", 1), method=DeliveryMethod.BOPIS, pickup_store="ST1", id=f"P{k}")
                for k in range(2)]  # fmt: skip
        return pick + [order(("A", 1), id=f"S{k}") for k in range(3)]

    stock = {("ST1", "A"): 10, ("ST2", "A"): 10}
    assert _same(orders(), orders(), stock) == [("ST1",)] * 4 + [("ST2",)]


def test_an_order_placed_the_usual_way_mid_batch_counts_towards_the_limit():
    # S0 takes the short cut to ST1; S1 cannot be filled whole anywhere (split: ST1 gives A,
    # DC1 gives C), so it goes the usual way and is ST1's second order today; S2 then
    # finds ST1 at its limit of 2.
    def orders():
        return [order(("A", 1), id="S0"), order(("A", 1), ("C", 1), id="S1"),
                order(("A", 1), id="S2")]  # fmt: skip

    stock = {("ST1", "A"): 10, ("ST2", "A"): 10, ("DC1", "C"): 1}
    assert _same(orders(), orders(), stock) == [("ST1",), ("ST1", "DC1"), ("ST2",)]
