"""The run calendar (`sim.model.clock.Calendar`) against hand-computed local times.

Carrier cut-offs and pickups are local wall-clock hours: they move by one UTC hour across a
daylight-saving change, include the day before the start (west of UTC a local day begins
before sim hour 0), skip closed days, and a parcel packed exactly at the cut-off still makes
that day's truck ("the first cut-off at or after t").
"""

from __future__ import annotations

from datetime import date

import pytest

from engine import Location, LocationKind, OpeningHours
from sim.model.clock import Calendar, Clock

NY, LA = "America/New_York", "America/Los_Angeles"


def _store(tz: str, hours: OpeningHours | None = None) -> Location:
    return Location(
        "S", LocationKind.STORE, 40.0, -75.0, tz, hours=hours or OpeningHours.daily(9, 21)
    )


def _calendar(loc: Location, start: date, days: int = 4, outages=None) -> Calendar:
    return Calendar(Clock(start), [loc], days, outages or {}, cutoff_hour=16.0, pickup_hour=18.0)


def test_cut_offs_follow_local_time_across_a_daylight_saving_change():
    # Sat 9 Mar 2024 is EST (UTC-5); from Sun 10 Mar 02:00 it is EDT (UTC-4).
    cal = _calendar(_store(NY), date(2024, 3, 9))
    cut, pick = cal.cutoffs[0], cal.pickups[0]
    # day -1 (Fri 8 Mar) 16:00 EST = 21:00 UTC = sim -3 h; Sat: 21 h; Sun, Mon: 20:00 UTC
    assert cut[:4] == [-3.0, 21.0, 24.0 + 20.0, 48.0 + 20.0]
    assert [p - c for c, p in zip(cut, pick, strict=True)] == [2.0] * len(cut)


def test_a_parcel_packed_at_the_cut_off_makes_that_days_pickup():
    cal = _calendar(_store(NY), date(2024, 3, 5))  # Tue, EST: cut-off 16:00 = 21 h
    assert cal.next_pickup(0, 21.0) == (21.0, 23.0)
    assert cal.next_pickup(0, 20.5) == (21.0, 23.0)
    assert cal.next_pickup(0, 21.0 + 1e-6) == (45.0, 47.0)  # a moment later: tomorrow's


def test_west_of_utc_the_local_day_before_the_start_has_a_pickup_inside_the_run():
    # Tue 5 Mar 2024 00:00 UTC is Mon 4 Mar 16:00 PST: Monday's cut-off is sim hour 0 and
    # its truck (18:00 PST) calls at sim hour 2.
    cal = _calendar(_store(LA), date(2024, 3, 5))
    assert cal.next_pickup(0, 0.0) == (0.0, 2.0)
    assert cal.next_pickup(0, 0.5) == (24.0, 26.0)


def test_no_carrier_on_a_closed_day_nor_during_an_outage():
    closed_sunday = OpeningHours((*((9.0, 21.0),) * 6, None))
    # Sat 9 Mar 2024 (EST): Saturday's cut-off 21 h; Sunday closed; Monday (EDT) 68 h.
    cal = _calendar(_store(NY, closed_sunday), date(2024, 3, 9))
    assert cal.next_pickup(0, 21.5) == (68.0, 70.0)
    # an outage over Monday's pickup moves the parcel to Tuesday
    down = _calendar(_store(NY, closed_sunday), date(2024, 3, 9), outages={0: [(60.0, 80.0)]})
    assert down.next_pickup(0, 21.5) == (92.0, 94.0)


@pytest.mark.parametrize(
    ("tz", "midnight"),  # sim hour of local midnight of day 0 (June: summer time), rounded down
    [(NY, 4), (LA, 7), ("Europe/Berlin", -2), ("Asia/Kolkata", -6)],
)
def test_open_hours_per_local_day_add_up_to_the_opening_hours(tz, midnight):
    # 09:30-21:00 local: 11.5 open hours in each of the 6 local days of the window
    cal = _calendar(_store(tz, OpeningHours.daily(9.5, 21)), date(2024, 6, 4), days=6)
    frac = cal.open_fraction(0, 24 * 6, include_outages=False, first=midnight)
    assert frac.min() >= 0.0 and frac.max() <= 1.0
    assert frac.sum() == pytest.approx(11.5 * 6)
    # one sim hour a day is half open: 09:30 local, or 21:00 local = 15:30 UTC in Kolkata
    partial = frac[(frac > 0) & (frac < 1)]
    assert len(partial) == 6
    assert partial == pytest.approx([0.5] * len(partial))
