"""`run(..., inflows=True)`: the ledger's inflows per location, SKU and day (the supply the
hindsight bound in `sim.bound_report` uses)."""

from __future__ import annotations

import numpy as np

from sim import load_scenario, run
from sim.scenario.loader import SCENARIOS_DIR


def test_inflows_are_opt_in_and_count_every_receipt():
    fast = {
        "inventory.replenishment.review_days": 1,
        "inventory.replenishment.dc_lead_days": 1,
        "inventory.replenishment.store_lead_days": 1,
    }
    scn = load_scenario(SCENARIOS_DIR / "store_network.yaml", overrides=fast)
    plain = run(scn, seed=3, days=4)
    assert plain.inflows is None
    r = run(scn, seed=3, days=4, inflows=True)
    assert r.kpis == plain.kpis  # observing the ledger changes nothing
    n_days = int(np.ceil(r.end_h / 24.0)) + 1
    assert r.inflows.shape[0] == len(scn.network.location_ids())
    assert r.inflows.shape[2] == n_days
    assert (r.inflows >= 0).all()
    assert r.inflows.sum() >= r.conservation["received"] > 0
