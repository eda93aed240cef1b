"""Shrink (`inventory.record_inaccuracy.daily_share`): store shelves lose units each day
that the records do not know of, until a count finds them."""

from __future__ import annotations

import math

import numpy as np

from sim import load_scenario, run
from sim.model.world import World
from sim.run import check_conservation

#: Customers stay away for the whole run (a peak that scales demand to almost nothing), so
#: only shrink moves the shelves; the stock is still sized on the usual demand.
NO_DEMAND = {
    "demand.peaks": [{"start": "2026-11-01", "days": 10, "multiplier": 1e-9}],
    "inventory.record_inaccuracy.share": 0.0,
    "horizon_days": 6,
    "warmup_days": 0,
}


def test_a_days_shrink_matches_its_expectation() -> None:
    """Each stocked store shelf with h units loses min(h, U{1, 2}) with probability p: in
    expectation p * 1.5 per shelf with h >= 2 and p per shelf with h = 1. Ten days of the
    draw, one after another, against the sum of their expectations (4 standard deviations)."""
    p = 0.02
    scn = load_scenario("default", {**NO_DEMAND, "inventory.record_inaccuracy.daily_share": p})
    w = World.build(scn, "closest", 5)
    stores = np.flatnonzero(w.is_store)
    mean = var = 0.0
    before = int(w.stock.on_hand[stores].sum())
    for day in range(10):
        shelves = w.stock.on_hand[stores]
        two, one = int((shelves >= 2).sum()), int((shelves == 1).sum())
        mean += p * (1.5 * two + one)
        var += two * (2.5 * p - (1.5 * p) ** 2) + one * p * (1 - p)
        w._shrink(p, 2, 24.0 * (day + 1))
    lost = w.stock.flows.shrunk
    assert before - int(w.stock.on_hand[stores].sum()) == lost
    assert abs(lost - mean) <= 4 * math.sqrt(var), (lost, mean, math.sqrt(var))


def test_a_run_shrinks_the_shelves_daily_and_the_records_never_hear_of_it() -> None:
    """No customers for 6 days: only shrink moves the store shelves, the records stay as
    they were (no count happens), and units are conserved."""
    scn = load_scenario("default", {**NO_DEMAND, "inventory.record_inaccuracy.daily_share": 0.01})
    w = World.build(scn, "closest", 5)
    stores = np.flatnonzero(w.is_store)
    records = w.ledger.on_hand.copy()
    w.run()
    lost = check_conservation(w)["shrunk"]  # raises if a unit went missing from the books
    assert lost > 0
    assert np.array_equal(w.ledger.on_hand, records)
    assert records[stores].sum() - w.stock.on_hand[stores].sum() == lost
    events = [units for kind, units in _events(w) if kind == "shrink"]
    assert sum(events) == lost
    days = {
        int(t // 24)
        for t, (kind, _) in zip(w.rec.e_time, _events(w), strict=True)
        if kind == "shrink"
    }
    assert days == set(range(1, 7))  # at the end of each of the 6 days (and not before)


def _events(w: World) -> list[tuple[str, int]]:
    """``(kind, qty)`` of the events the run recorded."""
    names = {code: kind for kind, code in w.rec.kind_codes.items()}
    return [(names[k], int(q)) for k, q in zip(w.rec.e_kind, w.rec.e_qty, strict=True)]


def test_shrink_makes_store_rejections_and_oversells_common_random_numbers() -> None:
    """The same seed with and without shrink: the same customers, so the difference is
    shrink's own. Shelves below their records make stores reject picks (oversells)."""
    base = {"inventory.record_inaccuracy.share": 0.0}
    kpis = {}
    for share in (0.0, 0.02):
        scn = load_scenario("default", {**base, "inventory.record_inaccuracy.daily_share": share})
        result = run(scn, "store_first", 3, days=4)
        rejects = result.events[result.events["kind"] == "reject"]
        kpis[share] = (result.kpis["oversell_rate"], len(rejects))
        shrunk = result.events[result.events["kind"] == "shrink"]
        assert (shrunk["time_h"] <= 4 * 24).all()  # within the horizon, not in the drain
        assert len(shrunk) > 0 or share == 0.0
    assert kpis[0.0][0] < kpis[0.02][0]
    assert kpis[0.0][1] < kpis[0.02][1]


def test_shrink_without_units_is_said_to_have_no_effect() -> None:
    from sim.scenario.idle import idle_settings

    quiet = load_scenario("default", {"inventory.record_inaccuracy.daily_share": 0.01})
    assert not [f for f, _ in idle_settings(quiet) if "record_inaccuracy" in f]
    idle = load_scenario(
        "default",
        {
            "inventory.record_inaccuracy.daily_share": 0.01,
            "inventory.record_inaccuracy.max_units": 0,
        },
    )
    said = dict(idle_settings(idle))
    assert "daily_share have no effect" in said["inventory.record_inaccuracy.max_units"]
