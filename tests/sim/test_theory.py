"""The model against queueing theory and against its input distributions.

1. A one-store world with Poisson arrivals, exponential pick times and c pickers is an
   M/M/c queue, so its mean wait for a picker must match Erlang C (Kleinrock 1975,
   Queueing Systems I, eq. 3.40):

       C(c, a) = (a^c / c!) (c / (c - a)) / (sum_{k<c} a^k / k! + (a^c / c!) (c / (c - a))),
       Wq = C(c, a) / (c mu - lambda),   a = lambda / mu,   rho = a / c.

   With c = 3, rho = 0.7 and ~30,000 orders, six independent replications of exactly this
   run gave relative standard deviations of 4.1% for the mean wait (waits are strongly
   autocorrelated at rho = 0.7; see Whitt 1989, "Planning queueing simulations"), 2.1% for
   P(wait > 0) and 1.0% for the utilisation, with means within 1% of theory. The
   tolerances are about 3.5 standard deviations: 15%, 7.5% and 3.5%. A wrong model fails
   clearly (one picker too few gives rho = 1.05: no steady state; one too many cuts Wq by
   ~80%), and a correct one essentially never fails by chance; the seed is fixed anyway,
   so the test is deterministic.

2. Customers' regions follow population shares: a chi-square goodness-of-fit test on the
   regions of all orders of the default scenario (~140,000 orders) must not reject at
   the 0.1% level.

3. Walk-in sales are Poisson with `sales_per_store_per_day` per store and local day, spread
   over the scheduled open hours by the hour profile. With a flat day profile every whole
   UTC day then has the same expected sales, also the first and the last (cut by the
   start and the horizon), and an outage removes its hours' share of the day's sales.
   With 40 stores at 400 sales a day a UTC day holds ~16,000 sales (sd ~126): 4% is five
   standard deviations. One store's half day holds ~200 (sd ~14).

4. Walk-in customers buy what their store carries: every walk-in line is a SKU of the
   store's range (held or kept as safety stock at the start), and within it lines follow
   popularity renormalised over the range: a chi-square test on each of three stores'
   lines, over the SKUs it ranges, must not reject at the 0.1% level (Bonferroni).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim import load_scenario, run
from sim.model.world import World

C, PICK_MINUTES, RHO, DAYS = 3, 6.0, 0.7, 60
MU = 60.0 / PICK_MINUTES  # services per picker-hour
LAM = RHO * C * MU  # orders per hour


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load a = lambda/mu."""
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (head + tail)


def one_store_scenario() -> dict:
    """One always-open store with C pickers and unlimited stock of one SKU."""
    quiet = {"orders_per_day": 0}
    return {
        "name": "mmc",
        "seed": 11,
        "horizon_days": DAYS,
        "warmup_days": 0,
        "network": {
            "warehouses": [],
            "stores": [
                {
                    "id": "S1",
                    "city": "Chicago, IL",
                    "staff": C,
                    "pick_minutes": PICK_MINUTES,
                    "pack_minutes": 0,
                    "hours": "always",
                }
            ],
            "store_defaults": {"daily_order_limit": None, "online_threshold": 0},
        },  # fmt: skip
        "catalogue": {"skus": [{"id": "A", "return_rate": 0.0}]},
        "demand": {
            "regions": 20,
            "hour_profile": [1] * 24,
            "day_profile": [1] * 7,
            "channels": {
                "web": {
                    "orders_per_day": LAM * 24,
                    "basket": {"mean_lines": 1, "max_lines": 1, "mean_qty": 1, "max_qty": 1},
                    "methods": {"ship": 1.0},
                },
                "app": quiet,
                "marketplace": quiet,
                "social": quiet,
                "wholesale": quiet,
                "pos": {"sales_per_store_per_day": 0},
            },
        },
        "operations": {"pick_time": "exponential", "release_hold_minutes": 0},
        "inventory": {
            "overrides": [{"location": "S1", "sku": "A", "on_hand": 10**8}],
            "record_inaccuracy": {"share": 0},
        },
        "customer_service": {"edit_share": 0, "cancel_share": 0},
    }


@pytest.mark.slow
def test_store_pick_queue_matches_erlang_c() -> None:
    r = run(load_scenario(one_store_scenario()), "closest")
    site = r.utilisation.set_index("location").loc["S1"]
    a = LAM / MU
    wq_theory = erlang_c(C, a) / (C * MU - LAM)  # hours
    assert site["packages_picked"] == len(r.orders) > 25_000
    assert site["utilisation"] == pytest.approx(RHO, rel=0.035)
    assert site["share_waited"] == pytest.approx(erlang_c(C, a), rel=0.075)
    assert site["mean_wait_h"] == pytest.approx(wq_theory, rel=0.15)


def test_customer_regions_follow_population() -> None:
    w = World.build(load_scenario("default"), "closest", seed=7)
    counts = np.bincount(w.demand.region, minlength=w.regions.weight.size)
    expected = w.regions.weight * counts.sum()
    assert expected.min() > 5  # chi-square approximation is valid
    result = stats.chisquare(counts, expected)
    assert result.pvalue > 0.001
    # and the test has power: a 10% shift of demand from the largest city is rejected
    shifted = counts.astype(float).copy()
    moved = 0.1 * shifted[0]
    shifted[0] -= moved
    shifted[1:] += moved / (shifted.size - 1)
    assert stats.chisquare(shifted, expected).pvalue < 0.001


def _sales(w: World, row: int | None = None) -> np.ndarray:
    """Start times of the walk-in sales (one per sale, not per line), of one store or all. [h]"""
    pos = w.pos_demand
    keep = slice(None) if row is None else pos.store == row
    return np.unique(np.stack([pos.store[keep], pos.time_h[keep]]), axis=1)[1]


def test_walk_in_sales_keep_their_rate_at_the_horizon_edges_and_stop_in_an_outage() -> None:
    flat = {"demand.channels.pos.sales_per_store_per_day": 400, "demand.day_profile": [1] * 7,
            "demand.peaks": [], "disruptions.outages": []}  # fmt: skip
    w = World.build(load_scenario("default", overrides=flat), "closest", seed=3, days=4)
    per_day = np.bincount((_sales(w) // 24).astype(int), minlength=4)
    assert per_day.sum() > 60_000
    assert per_day == pytest.approx(np.full(4, per_day[1:3].mean()), rel=0.04)

    row = w.loc_ids.index("STORE-01")
    opened = [(a, b) for a, b in zip(w.calendar.open_starts[row], w.calendar.open_ends[row],
                                      strict=True) if 24 <= a < 48]  # fmt: skip
    ((start, end),) = opened
    mid = (start + end) / 2
    down = {"location": "STORE-01", "start_day": mid / 24, "days": (end - mid) / 24}
    w_down = World.build(
        load_scenario("default", overrides={**flat, "disruptions.outages": [down]}),
        "closest", seed=3, days=4,
    )  # fmt: skip
    t, t_down = _sales(w, row), _sales(w_down, row)
    first_half = ((t >= start) & (t < mid)).sum()
    assert 150 < first_half < 260
    assert ((t_down >= mid) & (t_down < end)).sum() == 0
    assert ((t_down >= start) & (t_down < mid)).sum() == pytest.approx(first_half, rel=0.3)


def test_walk_in_lines_follow_popularity_within_each_stores_range() -> None:
    more = {"demand.channels.pos.sales_per_store_per_day": 400}
    w = World.build(load_scenario("default", overrides=more), "closest", seed=5, days=7)
    pos = w.pos_demand
    assert w.ranged[pos.store, pos.sku].all()
    stores = np.flatnonzero(w.is_store)
    assert 0.05 < w.ranged[stores].mean() < 0.95  # stores range part of the catalogue only

    # the first, a middle and the last store (rows 0, g and K-1 of the drawing table)
    for row in (int(stores[0]), int(stores[len(stores) // 2]), int(stores[-1])):
        mine = pos.store == row
        carried = np.flatnonzero(w.ranged[row])
        lines = np.bincount(pos.sku[mine], minlength=w.ranged.shape[1])[carried]
        share = w.catalogue.popularity[carried] / w.catalogue.popularity[carried].sum()
        expected = share * lines.sum()
        # pool the slow movers so that every cell expects at least 5 lines
        by_share = np.argsort(-expected)
        big = by_share[expected[by_share] >= 5]
        small = by_share[expected[by_share] < 5]
        observed = np.append(lines[big], lines[small].sum())
        wanted = np.append(expected[big], expected[small].sum())
        assert lines.sum() > 3_000 and big.size > 50
        assert stats.chisquare(observed, wanted).pvalue > 1e-3 / 3


def test_a_basket_row_never_draws_a_sku_without_weight() -> None:
    from sim.model.arrivals import _basket
    from sim.scenario.sections import Basket

    weights = np.array([[0.0, 1.0, 3.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0, 1.0], [0, 0, 0, 0, 1.0]])
    cdf = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
    n = 30_000
    group = np.arange(n) % 3
    basket = Basket(mean_lines=1.0, max_lines=1, mean_qty=1.0, max_qty=1)
    rng = np.random.default_rng(0)
    start, sku, _ = _basket(rng, [basket], np.zeros(n, dtype=np.int64), cdf, group)
    assert np.array_equal(np.diff(start), np.ones(n, dtype=np.int64))
    drawn = np.zeros_like(weights)
    np.add.at(drawn, (group, sku), 1)
    assert np.all(drawn[weights == 0] == 0)
    assert drawn[0, 2] / drawn[0].sum() == pytest.approx(0.75, abs=0.015)
    assert drawn[1, 0] / drawn[1].sum() == pytest.approx(2 / 3, abs=0.015)
