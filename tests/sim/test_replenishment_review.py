"""One replenishment review, piece by piece, on the busy world (`busy_world`): the order
position counts reservations, stores are served in network order from their DC's free
stock, transfers count as the DC's outflow, every store with a source is served, each
review reads its own period's outflow, DCs order after the stores' transfers, lead times
keep their floor, and reviews run every `review_days` up to the horizon.
"""

from __future__ import annotations

import numpy as np
import pytest
from busy_world import DAYS, SEED, busy, scenario

from sim.model.replenishment import ALPHA
from sim.model.world import World


def _world(**overrides: object) -> World:
    return World.build(scenario(**overrides), "closest", SEED, 0, DAYS)


def _need_of_first_sku(units: int):
    """A stand-in for `Replenishment._need`: `units` of SKU 0 for every row asked."""

    def need(rows, rate, days):
        row = np.zeros(rate.shape[1], dtype=np.int64)
        row[0] = units
        return np.tile(row, (len(rows), 1))

    return need


def test_the_order_position_counts_units_already_reserved():
    w = _world()
    rep = w.replenishment
    row = int(rep.store_rows[0])
    s = int(np.argmax(w.ledger.on_hand[row]))
    rate = np.full(w.stock.on_hand.shape, 1000.0)
    before = rep._need(np.array([row]), rate, 30.0)[0, s]
    assert w.ledger.reserve("D-test", [(row, s, 2)], "web", w.clock.dt(0.0))
    assert rep._need(np.array([row]), rate, 30.0)[0, s] - before == 2


def test_stores_are_served_in_network_order_from_their_dcs_free_stock():
    w = _world()
    rep = w.replenishment
    rep._need = _need_of_first_sku(5)
    dc = int(rep.source[rep.store_rows[0]])
    mine = [int(r) for r in rep.store_rows if rep.source[r] == dc]
    assert len(mine) >= 3
    w.ledger.set_stock(w.loc_ids[dc], w.sku_ids[0], 12)
    w.stock.on_hand[dc, 0] = 12
    rep._stores(np.zeros(w.stock.on_hand.shape))
    assert rep.inbound[mine, 0].tolist() == [5, 5, 2] + [0] * (len(mine) - 3)


def test_every_store_with_a_source_is_served_and_transfers_count_as_dc_outflow():
    w = _world()
    rep = w.replenishment
    rep._need = _need_of_first_sku(1)
    before = w.outflow.copy()
    rep._stores(np.zeros(w.stock.on_hand.shape))
    sourced = rep.store_rows[rep.source[rep.store_rows] >= 0]
    assert len(sourced) == len(rep.store_rows)
    assert (rep.inbound[sourced, 0] == 1).all()  # DC row 0 feeds stores too
    for dc in sorted(set(rep.source[sourced].tolist())):
        assert w.outflow[dc, 0] - before[dc, 0] == rep.inbound[rep.source == dc, 0].sum()


def test_each_review_reads_the_outflow_of_its_own_period():
    w = _world(**{"inventory.replenishment.review_days": 2})
    rep = w.replenishment
    seen = []
    rep._stores = lambda rate: seen.append(rate.copy())
    rep._dcs = lambda rate: None
    review = rep.process()
    next(review)
    w.outflow[...] += int(10 * rep.review_days)  # first period: 10 units a day per cell
    review.send(None)
    review.send(None)  # second period: nothing sold
    # rate = ALPHA * this period's outflow per day + (1 - ALPHA) * the prior rate
    np.testing.assert_allclose(seen[0], ALPHA * 10.0 + (1 - ALPHA) * w.prior_rate)
    np.testing.assert_allclose(seen[1], (1 - ALPHA) * w.prior_rate)


def test_dcs_order_after_the_stores_transfers_of_the_same_review():
    w = _world(**{"inventory.replenishment.review_days": 2})
    rep = w.replenishment
    seen = []
    dcs = rep._dcs

    def spy(rate):
        seen.append(rate.copy())
        return dcs(rate)

    rep._dcs = spy
    review = rep.process()
    next(review)
    w.outflow[...] = rep._last + np.rint(3 * w.prior_rate * rep.review_days).astype(np.int64)
    review.send(None)
    rows = rep.dc_rows
    target = np.rint(seen[0][rows] * rep.dc_days).astype(np.int64)
    position = w.ledger.on_hand[rows].astype(np.int64) - w.ledger.reserved[rows] + rep.inbound[rows]
    assert (position >= target).all()


def test_lead_times_keep_their_floor_of_a_tenth_of_the_mean():
    rep = _world().replenishment
    rep.lead_sd = 10.0
    rep.rng = np.random.default_rng(1)
    hours = np.array([rep._lead_hours(2.0) for _ in range(500)])
    assert hours.min() == pytest.approx(24 * 0.2)  # max(draw, 0.1 * 2 days), often hit


def test_reviews_run_every_review_period_up_to_and_including_the_horizon():
    _, _, r = busy()  # review_days 1, DAYS days
    ev = r.events[r.events["kind"].astype(str).str.startswith("replenish")]
    times = sorted(set(np.round(ev["time_h"].to_numpy(), 6).tolist()))
    assert times == [24.0 * k for k in range(1, DAYS + 1)]
