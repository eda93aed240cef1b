"""Distance limits are inclusive: a location exactly at `max_distance_miles` (rule filter)
or at `same_day_max_miles` (same-day radius) is within reach; one a hair farther is not.
"""

from __future__ import annotations

import math

import pytest
from routing_world import DEST, OPEN, order, world

from engine import DeliveryMethod, Order
from engine.routing import RoutingSettings, batch
from engine.routing.filters import MaxDistanceFilter
from engine.routing.policies import RulePolicy
from engine.routing.ranking import DistanceKey

STOCK = {("DC1", "A"): 5, ("DC2", "A"): 5}


def _dc1_miles() -> float:
    _, _, net = world({})
    return float(net.distances_from(*DEST)[net.index["DC1"]])


def test_max_distance_filter_keeps_a_location_exactly_at_the_limit():
    miles = _dc1_miles()  # DC2 is ~265 mi away: always filtered out here
    for limit, expected in ((miles, ("DC1",)), (math.nextafter(miles, 0.0), ())):
        policy = RulePolicy("near", filters=(MaxDistanceFilter(limit),), sort=(DistanceKey(),))
        router, _, _ = world(STOCK, policy=policy)
        d = router.route(order(("A", 1)), OPEN)
        assert d.locations == expected, limit
        assert d.unfulfillable == (() if expected else (("A", 1),))


def test_same_day_radius_includes_its_edge():
    miles = _dc1_miles()
    for radius, expected in ((miles, ("DC1",)), (math.nextafter(miles, 0.0), ())):
        router, _, _ = world(STOCK, settings=RoutingSettings(same_day_max_miles=radius))
        d = router.route(order(("A", 1), method=DeliveryMethod.SAME_DAY), OPEN)
        assert d.locations == expected, radius


def test_the_batch_short_cut_uses_the_same_inclusive_same_day_radius(
    monkeypatch: pytest.MonkeyPatch,
):
    # When the short cut refuses, `place_many` falls back to the usual path, which gives the
    # same answer: so record which orders the short cut places (`_Pending.add`) and check
    # that the order with DC1 exactly at the radius went through it.
    taken: list[Order] = []
    add = batch._Pending.add
    monkeypatch.setattr(
        batch._Pending, "add", lambda self, o, c: taken.append(o) or add(self, o, c)
    )
    miles = _dc1_miles()
    for radius, expected in ((miles, ("DC1",)), (math.nextafter(miles, 0.0), ())):
        taken.clear()
        settings = RoutingSettings(same_day_max_miles=radius, keep_reasons=False)
        router, _, _ = world(STOCK, settings=settings)
        o = order(("A", 1), method=DeliveryMethod.SAME_DAY)
        (d,) = router.place_many([o], OPEN)
        assert d.locations == expected, radius
        assert taken == ([o] if expected else []), radius
