"""A small "busy" run shared by the lifecycle tests (a helper module, not a test file).

`busy` runs the default scenario at a tenth of its demand for a few days with the rare
paths made common: many returns that come back within days, many BOPIS no-shows held for
one day, more customer-service requests, daily replenishment reviews with exact lead
times. Demand is drawn up front, so a `World` built with the same arguments (and not run)
holds the very draws the run used (`World.demand`), and its clock, calendar and prices.
"""

from __future__ import annotations

from functools import lru_cache

from demand_scale import scaled_demand

from sim import load_scenario, run
from sim.model.world import World

SCALE = 0.1
DAYS = 5
SEED = 3

BUSY = {
    "catalogue.return_rate": 0.5,
    "returns.lag_days.mean": 1.0,
    "returns.inspection_hours": 6,
    "operations.no_show_rate": 0.3,
    "operations.no_show_days": 1,
    "operations.pickup_delay_hours.mean": 8,
    "customer_service.edit_share": 0.1,
    "customer_service.cancel_share": 0.05,
    "inventory.replenishment.review_days": 1,
    "inventory.replenishment.lead_sd_days": 0.0,
    "inventory.replenishment.store_lead_days": 1.5,
    "inventory.replenishment.dc_lead_days": 2,
}


def scenario(**extra: object):
    over = scaled_demand(load_scenario("default"), SCALE)
    over.update(BUSY)
    over.update(extra)
    return load_scenario("default", overrides=over)


@lru_cache(maxsize=4)
def busy(days: int = DAYS, seed: int = SEED):
    """(scenario, world built but not run, run result) of the busy scenario."""
    scn = scenario()
    w = World.build(scn, "closest", seed, 0, days)
    r = run(scn, "closest", seed, days=days)
    return scn, w, r
