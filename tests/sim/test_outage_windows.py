"""Outages: windows in hours from scenario days, and which locations are down when.

Overlapping outages of one location keep it down until the last one ends, and a location is
up again after its outages (the down-count returns to zero).
"""

from __future__ import annotations

from types import SimpleNamespace

import simpy

from sim.model.disruptions import Disruptions, outage_windows


def _outage(location: str, start_day: float, days: float) -> SimpleNamespace:
    return SimpleNamespace(location=location, start_day=start_day, days=days)


def test_outage_windows_are_days_converted_to_hours():
    scn = SimpleNamespace(
        disruptions=SimpleNamespace(outages=[_outage("S2", 1, 2), _outage("S1", 0.5, 0.25)])
    )
    assert outage_windows(scn, {"S1": 0, "S2": 1}) == {1: [(24.0, 72.0)], 0: [(12.0, 18.0)]}


def test_overlapping_outages_keep_a_location_down_until_the_last_ends():
    env = simpy.Environment()
    events = []
    w = SimpleNamespace(
        env=env, loc_ids=("S1", "S2"),
        scn=SimpleNamespace(disruptions=SimpleNamespace(carrier_delays=[])),
        rec=SimpleNamespace(event=lambda t, kind, location: events.append((t, kind, location))),
    )  # fmt: skip
    d = Disruptions(w, {0: [(10.0, 20.0), (15.0, 30.0)], 1: [(12.0, 14.0)]})
    seen = {}
    for t in (5, 11, 13, 16, 25, 31, 40):
        env.run(until=t)
        seen[t] = d.down_ids(t)
    assert seen == {
        5: (), 11: ("S1",), 13: ("S1", "S2"), 16: ("S1",), 25: ("S1",), 31: (), 40: (),
    }  # fmt: skip
    starts = [e for e in events if e[1] == "outage_start"]
    ends = [e for e in events if e[1] == "outage_end"]
    assert len(starts) == len(ends) == 3
