"""UTC offsets per sim hour (`sim.model.clock.utc_offsets`) against the known daylight-saving
switches: New York springs forward at 02:00 EST on Sun 10 Mar 2024 (07:00 UTC) and falls
back at 02:00 EDT on Sun 3 Nov 2024 (06:00 UTC); Berlin at 01:00 UTC on 31 Mar 2024.
The arrival model reads local hours and weekdays from these offsets.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

from sim.model.clock import Clock, utc_offsets


def test_offsets_switch_at_the_daylight_saving_hour_not_at_the_day_boundary():
    origin = datetime(2024, 3, 9, tzinfo=UTC)  # Sat 00:00 UTC
    off = utc_offsets(("America/New_York", "Europe/Berlin", "UTC"), origin, 24 * 30)
    ny, berlin, utc = off
    switch_ny = 24 + 7  # Sun 10 Mar 07:00 UTC
    assert (ny[:switch_ny] == -5).all() and (ny[switch_ny : 24 * 22] == -4).all()
    switch_be = 24 * 22 + 1  # Sun 31 Mar 01:00 UTC
    assert (berlin[:switch_be] == 1).all() and (berlin[switch_be:] == 2).all()
    assert (utc == 0).all()


def test_fall_back_and_local_hours_stay_continuous():
    origin = datetime(2024, 11, 2, tzinfo=UTC)
    ny = utc_offsets(("America/New_York",), origin, 72)[0]
    switch = 24 + 6  # Sun 3 Nov 06:00 UTC
    assert (ny[:switch] == -4).all() and (ny[switch:] == -5).all()
    local = np.arange(72) + ny
    # the local clock repeats 01:00 once (a step of 0 h), otherwise it advances an hour
    steps = np.diff(local)
    assert sorted(set(steps.tolist())) == [0.0, 1.0] and (steps == 0).sum() == 1


def test_local_wall_clock_times_map_to_sim_hours_across_the_switch():
    clock = Clock(date(2024, 3, 9))
    assert clock.local_to_sim("America/New_York", 0, 16.0) == 21.0  # Sat 16:00 EST
    assert clock.local_to_sim("America/New_York", 1, 16.0) == 24.0 + 20.0  # Sun 16:00 EDT
    assert clock.local_to_sim("America/New_York", 1, 1.0) == 24.0 + 6.0  # Sun 01:00 EST
