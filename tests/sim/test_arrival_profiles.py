"""Online arrivals follow each channel's hour-of-day profile in the customer's local time.

With a flat day profile and no peaks, a run of whole days covers every local hour of each
time zone equally often (the local window is the UTC window shifted by the offset), so the
local creation hours of a channel's orders are multinomial with the channel's profile: a
chi-square goodness-of-fit test must not reject at the 0.1% level. A channel with its own
profile (web here: only 12:00-14:00 local) uses it; the others use the scenario's.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim import load_scenario
from sim.model.arrivals import CHANNELS
from sim.model.clock import utc_offsets
from sim.model.world import World

DAYS = 3
WEB_PROFILE = [0.0] * 12 + [1.0, 1.0] + [0.0] * 10


def _local_hours(w: World, channel: str) -> np.ndarray:
    d = w.demand
    keep = d.channel == CHANNELS.index(channel)
    t, region = d.time_h[keep], d.region[keep]
    tz_names = tuple(sorted(set(w.regions.tz)))
    off = utc_offsets(tz_names, w.clock.origin, 24 * DAYS)
    g = np.array([tz_names.index(w.regions.tz[r]) for r in region.tolist()], dtype=np.int64)
    local = t + off[g, np.floor(t).astype(np.int64)]
    return np.floor(local).astype(np.int64) % 24


def test_local_arrival_hours_follow_the_channel_hour_profiles():
    scn = load_scenario(
        "default",
        overrides={
            "demand.day_profile": [1.0] * 7,
            "demand.peaks": [],
            "demand.channels.web.hour_profile": WEB_PROFILE,
        },
    )
    w = World.build(scn, "closest", seed=7, days=DAYS)
    web = np.bincount(_local_hours(w, "web"), minlength=24)
    assert web.sum() > 3000
    assert web[[12, 13]].sum() == web.sum()  # nothing outside the web profile's hours
    assert abs(web[12] - web[13]) < 4 * np.sqrt(web.sum() / 2)

    profile = np.asarray(scn.demand.hour_profile) / np.sum(scn.demand.hour_profile)
    for channel in ("app", "marketplace"):
        counts = np.bincount(_local_hours(w, channel), minlength=24)
        expected = profile * counts.sum()
        assert expected.min() > 5
        assert stats.chisquare(counts, expected).pvalue > 0.001, channel
        # the test has power: the same counts read one hour off are rejected
        assert stats.chisquare(np.roll(counts, 1), expected).pvalue < 0.001
