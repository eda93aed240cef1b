"""Periodic-review, order-up-to replenishment (`sim.model.replenishment`).

Found by mutation testing: lead times in hours instead of days, the DC lead time used for
store transfers, the in-transit units dropped from the inventory position (or never
taken off it on arrival), the observed outflow per hour instead of per day and the
forecast weights swapped all passed the suite. With ``lead_sd_days = 0`` every lead time
is exactly its mean, so each shipment is checked against its review.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from busy_world import DAYS, SEED, busy, scenario

from sim.model.replenishment import ALPHA
from sim.model.world import World


def _events(r, kind: str) -> pd.DataFrame:
    ev = r.events[r.events["kind"] == kind]
    return ev.assign(location=ev["location"].astype(str))[["time_h", "location", "qty", "detail"]]


@pytest.mark.parametrize(("sent", "detail", "lead"), [
    ("replenish_store", "transfer", "store_lead_days"), ("replenish_dc", "receipt", "dc_lead_days"),
])  # fmt: skip
def test_each_shipment_arrives_exactly_its_lead_time_after_its_review(sent, detail, lead) -> None:
    scn, _, r = busy()
    rp = scn.inventory.replenishment
    hours = 24.0 * getattr(rp, lead)
    out = _events(r, sent)
    came = _events(r, "receipt")
    came = came[came["detail"] == detail]
    assert len(out) > 5
    # reviews every review_days
    k = out["time_h"].to_numpy() / (24.0 * rp.review_days)
    assert np.allclose(k, np.round(k)) and (k >= 1).all()
    due = out.assign(time_h=out["time_h"] + hours)
    due = due[due["time_h"] <= r.end_h]
    key = ["location", "qty"]
    got = came.assign(t=came["time_h"].round(6)).groupby([*key, "t"]).size()
    want = due.assign(t=due["time_h"].round(6)).groupby([*key, "t"]).size()
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)


def test_units_in_transit_are_what_was_shipped_and_has_not_arrived() -> None:
    w = World.build(scenario(), "closest", SEED, 0, 3)
    w.run()
    rec = w.rec
    kinds = np.array(list(rec.kind_codes))[np.frombuffer(rec.e_kind, dtype=np.int16)]
    qty = np.frombuffer(rec.e_qty, dtype=np.int32)
    sent = qty[np.isin(kinds, ["replenish_store", "replenish_dc"])].sum()
    came = qty[kinds == "receipt"].sum()
    inbound = w.replenishment.inbound
    assert sent >= came > 0  # the run drains: usually everything has arrived
    assert (inbound >= 0).all()
    assert inbound.sum() == sent - came


def test_the_inventory_position_counts_units_on_the_way() -> None:
    w = World.build(scenario(), "closest", SEED, 0, DAYS)
    rep = w.replenishment
    rows = rep.store_rows[:3]
    rate = np.ones(w.stock.on_hand.shape)
    base = rep._need(rows, rate, 30.0)
    target = 30
    position = w.ledger.on_hand[rows].astype(np.int64) - w.ledger.reserved[rows]
    assert (base == np.maximum(target - position, 0)).all()
    assert (base > 0).any()
    rep.inbound[rows] += base  # what the review orders is now on the way
    assert (rep._need(rows, rate, 30.0) == 0).all()


def _first_review_rate(units_per_day) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(forecast rate of the first review, prior rate, observed units per day) when
    `units_per_day(prior)` (rounded to whole units over the period) flowed out in it."""
    w = World.build(
        scenario(**{"inventory.replenishment.review_days": 2}), "closest", SEED, 0, DAYS
    )
    rep = w.replenishment
    seen = []
    rep._stores = lambda rate: seen.append(rate.copy())
    rep._dcs = lambda rate: None
    gen = rep.process()
    next(gen)  # the first timeout
    units = np.rint(units_per_day(w.prior_rate) * rep.review_days).astype(np.int64)
    w.outflow[...] = rep._last + units
    gen.send(None)
    return seen[0], w.prior_rate, units / rep.review_days


def test_the_forecast_is_the_prior_when_nothing_was_observed_to_differ() -> None:
    rate, prior, observed = _first_review_rate(lambda prior: prior)
    assert (prior > 1).any()
    # observed = prior up to rounding to whole units: the forecast stays near the prior
    assert np.abs(rate - prior).max() <= ALPHA * 0.5 / 2 + 1e-9


def test_the_forecast_blends_observed_units_per_day_with_the_prior() -> None:
    rate, prior, _ = _first_review_rate(lambda prior: np.zeros_like(prior))
    assert rate == pytest.approx((1.0 - ALPHA) * prior)  # nothing sold: 30% of the prior
    rate, prior, observed = _first_review_rate(lambda prior: 2.0 * prior)
    assert rate == pytest.approx(ALPHA * observed + (1.0 - ALPHA) * prior)
    assert np.abs(rate - (1.0 + ALPHA) * prior).max() <= ALPHA * 0.5 / 2 + 1e-9
