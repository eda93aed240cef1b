"""A warehouse picks in waves of `WAVE_HOURS` with `staff` pickers: over many waves it does
at most ``staff * WAVE_HOURS`` staff-hours of picking per wave (an overrun is paid back in
the next wave), so its throughput is the staff's capacity, not more.

Hand count: 2 pickers, waves of 0.25 h (0.5 staff-hours), fixed 0.2 h packages. Wave 1
takes 3 (0.6 h, overrun 0.1), wave 2 has 0.4 h left and takes 2, and so on: 3, 2, 3, 2...
= 25 packages in 10 waves, exactly 0.5 staff-hours a wave.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import simpy

from sim.model.locations import WAVE_HOURS, DcSite, PickTimes


def test_dc_throughput_is_its_staff_capacity():
    env = simpy.Environment()
    done: list[float] = []
    w = SimpleNamespace(
        env=env, horizon_h=100.0,
        calendar=SimpleNamespace(is_available=lambda row, t: True),
        pick_times=PickTimes(np.random.default_rng(0), "fixed"),
        oms=SimpleNamespace(picked=lambda pkg: done.append(env.now)),
    )  # fmt: skip
    dc = DcSite(w, 0, staff=2, pick_minutes=12.0, pack_minutes=0.0)
    for _ in range(100):
        dc.submit(SimpleNamespace(lines=[(0, 1, 0)], released_h=0.0, draw_row=-1))
    env.run(until=10 * WAVE_HOURS + 1e-9)
    per_wave = np.bincount(np.round(np.array(done) / WAVE_HOURS).astype(int))[1:]
    assert per_wave.tolist() == [3, 2] * 5
    assert dc.busy_horizon_h == pytest.approx(28 * 0.2)  # 10 waves done, the 11th started (3)
