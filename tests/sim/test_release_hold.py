"""Orders are released to their locations exactly `release_hold_minutes` after they were
created, whether placed at once or at the end of a routing tick (the hold runs from the
customer's order, not from the tick that placed it).
"""

from __future__ import annotations

import numpy as np
import pytest
from busy_world import scenario

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
