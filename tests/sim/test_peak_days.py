"""Peak multipliers per local day (`sim.model.arrivals.peak_factor`), hand-computed.

A peak of `days` days from `start` multiplies exactly those local days, only for its
channels (all when none are listed); overlapping peaks multiply. The array is indexed by
local day + 1 (local days -1 .. days).
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np

from sim.model.arrivals import peak_factor
from sim.model.clock import Clock

START = date(2026, 11, 2)


def _scn(*peaks: dict) -> SimpleNamespace:
    return SimpleNamespace(demand=SimpleNamespace(peaks=[SimpleNamespace(**p) for p in peaks]))


def _peak(first_day: int, days: int, multiplier: float, channels=None) -> dict:
    return {"start": START + timedelta(days=first_day), "days": days, "multiplier": multiplier,
            "channels": channels}  # fmt: skip


def test_a_peak_multiplies_exactly_its_days_and_only_its_channels():
    scn = _scn(_peak(1, 2, 3.0, ["web"]), _peak(2, 1, 2.0))
    clock = Clock(START)
    #                     day: -1  0  1    2          3  4  5
    np.testing.assert_array_equal(peak_factor(scn, clock, "web", 5), [1, 1, 3, 6, 1, 1, 1])
    np.testing.assert_array_equal(peak_factor(scn, clock, "app", 5), [1, 1, 1, 2, 1, 1, 1])


def test_a_peak_reaching_over_the_run_edges_counts_only_the_days_in_range():
    scn = _scn(_peak(-3, 3, 2.0), _peak(4, 10, 5.0, ["pos"]))
    clock = Clock(START)
    np.testing.assert_array_equal(peak_factor(scn, clock, "pos", 4), [2, 1, 1, 1, 1, 5])
    np.testing.assert_array_equal(peak_factor(scn, clock, "web", 4), [2, 1, 1, 1, 1, 1])
