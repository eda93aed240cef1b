"""Daily order limits count on the location's local calendar day, also in zones whose
midnight falls inside a UTC hour (India, UTC+05:30: local midnight is 18:30 UTC), and the
batch path (`place_many`) counts them exactly as `place` does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from routing_world import LOCATIONS, ST1, order, world

from engine import OpeningHours
from engine.routing import RoutingSettings

KOLKATA = replace(ST1, timezone="Asia/Kolkata", hours=OpeningHours.always_open())
LOCS = (KOLKATA, *LOCATIONS[1:])
BEFORE = datetime(2024, 3, 5, 18, 10, tzinfo=UTC)  # Tue 23:40 in Kolkata
AFTER = datetime(2024, 3, 5, 18, 40, tzinfo=UTC)  # Wed 00:10: a new local day, same UTC hour


def test_the_limit_resets_at_local_midnight_inside_a_utc_hour():
    router, _, _ = world({("ST1", "A"): 10, ("ST2", "A"): 10}, locations=LOCS)
    assert [router.place(order(("A", 1)), BEFORE).locations for _ in range(3)] == [
        ("ST1",), ("ST1",), ("ST2",),
    ]  # fmt: skip
    assert router.orders_today("ST1", BEFORE) == 2  # limit 2 reached on Tuesday
    assert router.orders_today("ST1", AFTER) == 0
    assert router.place(order(("A", 1)), AFTER).locations == ("ST1",)
    assert router.orders_today("ST1", AFTER) == 1
    assert router.orders_today("ST1", BEFORE) == 2  # Tuesday's count is kept


def test_batches_count_the_limit_on_the_same_local_day_as_one_by_one():
    settings = RoutingSettings(keep_reasons=False)
    one, _, _ = world({("ST1", "A"): 10, ("ST2", "A"): 10}, locations=LOCS, settings=settings)
    many, _, _ = world({("ST1", "A"): 10, ("ST2", "A"): 10}, locations=LOCS, settings=settings)
    for at in (BEFORE, AFTER):
        a = [order(("A", 1), id=f"{at:%M}-{k}") for k in range(3)]
        b = [order(("A", 1), id=f"{at:%M}-{k}") for k in range(3)]
        expected = [one.place(o, at).locations for o in a]
        assert [d.locations for d in many.place_many(b, at)] == expected
        assert expected == [("ST1",), ("ST1",), ("ST2",)]  # two a local day at ST1
    assert one._counter._daily == many._counter._daily
