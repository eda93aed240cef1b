"""Customer delays drawn up front have the scenario's means in the right unit.

Return lags are given in days, customer-service delays in minutes and pickup delays in
hours; all are exponential and stored in hours. With m draws the sample mean of an
exponential has standard error mean / sqrt(m): 5 standard errors is the tolerance.
"""

from __future__ import annotations

import numpy as np

from sim import load_scenario
from sim.model.world import World


def _within(x: np.ndarray, mean_h: float) -> bool:
    return abs(x.mean() - mean_h) <= 5 * mean_h / np.sqrt(x.size)


def test_delays_have_their_means_in_hours():
    scn = load_scenario("default")
    w = World.build(scn, "closest", seed=11, days=2)
    d = w.demand
    assert d.ret_lag_h.size > 10_000 and len(d) > 5_000
    assert _within(d.ret_lag_h, 24.0 * scn.returns.lag_days.mean)
    assert _within(d.cs_delay_h, scn.customer_service.delay_minutes.mean / 60.0)
    assert _within(d.pickup_delay_h, scn.operations.pickup_delay_hours.mean)
