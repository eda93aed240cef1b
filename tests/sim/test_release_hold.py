"""Orders are released to their locations exactly `release_hold_minutes` after they were
created, whether placed at once or at the end of a routing tick (the hold runs from the
customer's order, not from the tick that placed it). The promise counts the hold: an
order placed just before the carrier cut-off is not promised that day's truck.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from busy_world import busy, scenario

from sim import run

HOLD_MIN = 20.0


@pytest.mark.parametrize("tick_s", [0.0, 600.0])
def test_first_release_is_the_hold_after_creation(tick_s):
    scn = scenario(
        **{
            "operations.routing_tick_seconds": tick_s,
            "operations.release_hold_minutes": HOLD_MIN,
            "operations.routing_mode": "on_arrival",
        }
    )
    r = run(scn, "closest", seed=5, days=1)
    first = r.shipments.groupby("order_id", observed=True)["released_h"].min()
    created = r.orders.set_index("order_id")["created_h"].loc[first.index]
    lag = (first - created).to_numpy()
    assert lag.size > 200
    np.testing.assert_allclose(lag, HOLD_MIN / 60.0, atol=1e-6)


def test_orders_placed_within_the_hold_before_the_cut_off_are_promised_the_next_truck():
    """Single-package shipped orders created in the last `release_hold_minutes` before
    their location's local cut-off cannot make that day's truck (work starts after the
    hold). Their promise says so, so in this quiet world they are on time like the rest
    (before the promise ignored the hold: 47 of 54 late here)."""
    scn, w, r = busy()
    hold_h = scn.operations.release_hold_minutes / 60.0
    orders = r.orders.set_index("order_id")
    s = r.shipments[r.shipments["method"].astype(str) == "ship"]
    s = s[s.groupby("order_id", observed=True)["order_id"].transform("size") == 1]
    start = pd.Timestamp(w.clock.dt(0.0))
    by_id = {x.id: x for x in w.network.locations}
    cohort_late = cohort = late = 0
    for loc, g in s.groupby(s["location"].astype(str), observed=True):
        o = orders.loc[g["order_id"]]
        local = (start + pd.to_timedelta(o["created_h"].to_numpy(), unit="h")).tz_convert(
            by_id[loc].timezone
        )
        hour = (local.hour + local.minute / 60.0).to_numpy()
        cut = by_id[loc].cutoff_hour
        in_cohort = (hour >= cut - hold_h) & (hour < cut)
        is_late = g["delivered_h"].to_numpy() > o["promised_h"].to_numpy() + 1e-6
        cohort += int(in_cohort.sum())
        cohort_late += int((is_late & in_cohort).sum())
        late += int(is_late.sum())
    assert cohort >= 30
    assert cohort_late / cohort <= max(0.2, 2 * late / len(s))
