"""Sort keys and ties, on hand-built stock where the ranking decides the packages.

* `ats`: locations that can supply more *of the order* first; stock beyond what the order
  wants does not count (capped per line).
* Ties keep network order, also for many tied locations (a stable sort).
* A location (`priority`) or a kind (`kind`) listed twice keeps its first place.
"""

from __future__ import annotations

from routing_world import DC1, DC2, OPEN, order, packages, twin, world

from engine.routing import get_policy
from engine.routing.policies import RulePolicy
from engine.routing.ranking import SORT_KEYS, AtsKey, DistanceKey


def test_ats_key_counts_only_the_units_the_order_wants():
    # DC1 holds 100 A and no B (it can supply 2 units of the order); DC2 holds 2 A and 1 B
    # (3 units): DC2 ranks first, greedily takes A2 B1 and DC1 is not needed for A.
    stock = {("DC1", "A"): 100, ("DC2", "A"): 2, ("DC2", "B"): 1}
    policy = RulePolicy("most_ats", sort=(AtsKey(),))
    router, _, _ = world(stock, policy=policy, locations=(DC1, DC2))
    d = router.route(order(("A", 2), ("B", 2)), OPEN)
    assert packages(d) == {"DC2": {"A": 2, "B": 1}}
    assert d.unfulfillable == (("B", 1),)


def test_many_tied_locations_are_walked_in_network_order():
    # 40 locations alternating far (DC2's place) and near (DC1's place), one unit each: an
    # order for 5 units takes the 5 nearest, and among the tied near ones the first in
    # network order (rows 1, 3, 5, 7, 9).
    locs = [twin(DC2 if i % 2 == 0 else DC1, f"L{i:02d}") for i in range(40)]
    stock = {(x.id, "A"): 1 for x in locs}
    policy = RulePolicy("near", sort=(DistanceKey(),))
    router, _, _ = world(stock, policy=policy, locations=locs)
    d = router.route(order(("A", 5)), OPEN)
    assert sorted(packages(d)) == [f"L{i:02d}" for i in (1, 3, 5, 7, 9)]


def test_a_location_or_kind_listed_twice_keeps_its_first_place():
    stock = {("ST1", "A"): 1, ("DC1", "A"): 1, ("DC2", "A"): 1}
    ranked = get_policy("ranked", priority=["DC2", "DC1", "DC2"])
    router, _, _ = world(stock, policy=ranked)
    assert router.route(order(("A", 1)), OPEN).locations == ("DC2",)
    kinds = RulePolicy(
        "dcs", sort=(SORT_KEYS["kind"]([["warehouse"], ["store"], ["warehouse"]]), DistanceKey())
    )
    router, _, _ = world(stock, policy=kinds)
    assert router.route(order(("A", 1)), OPEN).locations == ("DC1",)
