"""Package counts of the split strategies on hand-built stock where the answer is known.

`min_packages` gives a line no location can fill whole to the chosen cover locations first
(they ship a package anyway) and only then to others by rank; starting with the best
ranked locations instead costs an extra package.
"""

from __future__ import annotations

from routing_world import OPEN, order, packages, world


def test_a_line_nobody_fills_whole_goes_to_the_cover_location_first():
    # ranking (in region EAST, then distance): ST1 < DC1 < DC2. Only DC2 has A; each of
    # them has one B, the order wants two. Fewest packages: DC2 {A, B} + ST1 {B}.
    stock = {("ST1", "B"): 1, ("DC1", "B"): 1, ("DC2", "A"): 1, ("DC2", "B"): 1}
    router, _, _ = world(stock, policy="min_split")
    d = router.route(order(("A", 1), ("B", 2)), OPEN)
    assert packages(d) == {"DC2": {"A": 1, "B": 1}, "ST1": {"B": 1}}
    assert d.packages == 2 and not d.unfulfillable
    # closest walks by distance: ST1 and DC1 give their B, DC2 the A: three packages
    router, _, _ = world(stock, policy="closest")
    assert router.route(order(("A", 1), ("B", 2)), OPEN).packages == 3
