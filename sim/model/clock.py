"""Simulation time: hours since the scenario start, local calendars and carrier pickups.

Sim time is a float number of hours since the scenario's start date at 00:00 UTC. The
engine wants aware UTC datetimes, so conversion happens only at the engine boundary
(`Clock.dt`). Opening hours, outages and carrier pickups are turned once, at the start of a
run, into sorted interval lists per location so that "when can this store next pick?" is a
bisection, not a time-zone conversion.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from engine import Location

__all__ = ["Calendar", "Clock", "utc_offsets"]

_INF = math.inf


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class Clock:
    """Converts sim hours to aware UTC datetimes and local wall-clock times.

    Args:
        start: Scenario start date; sim time 0 is this date at 00:00 UTC.
    """

    def __init__(self, start: date) -> None:
        self.start = start
        self.origin = datetime(start.year, start.month, start.day, tzinfo=UTC)
        self._last_t = 0.0
        self._last_dt = self.origin

    def dt(self, t_h: float) -> datetime:
        """Aware UTC datetime of sim time `t_h` (microsecond resolution). [h]"""
        if t_h == self._last_t:  # many engine calls happen at the same instant
            return self._last_dt
        at = self.origin + timedelta(0, t_h * 3600.0)
        self._last_t, self._last_dt = t_h, at
        return at

    def hours(self, at: datetime) -> float:
        """Sim time of an aware datetime. [h]"""
        return (at - self.origin).total_seconds() / 3600.0

    def local_to_sim(self, tz: str, day: int, hour: float) -> float:
        """Sim time of a local wall-clock time.

        Args:
            tz: IANA time zone.
            day: Local date as days after the start date (may be negative).
            hour: Local hour of that date, in [0, 24]. [h]
        """
        d = self.start + timedelta(days=day)
        local = datetime(d.year, d.month, d.day, tzinfo=_zone(tz)) + timedelta(hours=hour)
        return self.hours(local.astimezone(UTC))


def utc_offsets(tz_names: Sequence[str], origin: datetime, hours: int) -> np.ndarray:
    """UTC offset of each time zone at the start of each sim hour.

    Args:
        tz_names: IANA time zones (G,).
        origin: Aware UTC datetime of sim hour 0.
        hours: Number of sim hours H.

    Returns:
        float64 (G, H) offsets, local = UTC + offset. [h]
    """
    out = np.zeros((len(tz_names), hours))
    for g, name in enumerate(tz_names):
        tz = _zone(name)

        def off(h: int, tz: ZoneInfo = tz) -> float:
            return (origin + timedelta(hours=h)).astimezone(tz).utcoffset().total_seconds() / 3600

        for day0 in range(0, hours, 24):
            day1 = min(day0 + 24, hours)
            a, b = off(day0), off(day1 - 1)
            if a == b:
                out[g, day0:day1] = a
            else:  # a DST change inside this day: evaluate every hour
                out[g, day0:day1] = [off(h) for h in range(day0, day1)]
    return out


def _merge(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for s, e in sorted(intervals):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _subtract(
    intervals: list[tuple[float, float]], holes: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    out = intervals
    for hs, he in holes:
        nxt: list[tuple[float, float]] = []
        for s, e in out:
            if he <= s or hs >= e:
                nxt.append((s, e))
                continue
            if s < hs:
                nxt.append((s, hs))
            if he < e:
                nxt.append((he, e))
        out = nxt
    return out


class Calendar:
    """When each location can work (open and not in an outage) and when carriers call.

    Args:
        clock: The run's clock.
        locations: Locations in network row order.
        days: Days to cover from the start (horizon plus drain). [days]
        outages: Location row -> `(start_h, end_h)` outage windows. [h]
        cutoff_hour: Local carrier cut-off hour; parcels packed later wait a day. [h]
        pickup_hour: Local hour of the daily carrier pickup (>= cut-off); the carrier does
            not call on days the location is closed. [h]
    """

    def __init__(
        self,
        clock: Clock,
        locations: Sequence[Location],
        days: int,
        outages: Mapping[int, Sequence[tuple[float, float]]],
        cutoff_hour: float,
        pickup_hour: float,
    ) -> None:
        self.clock = clock
        self.days = days
        self.starts: list[list[float]] = []
        self.ends: list[list[float]] = []
        self.open_starts: list[list[float]] = []  # opening hours only (no outages)
        self.open_ends: list[list[float]] = []
        self.cutoffs: list[list[float]] = []
        self.pickups: list[list[float]] = []
        self.always_available: list[bool] = []
        for row, loc in enumerate(locations):
            if loc.hours.is_always_open:
                opened = [(-_INF, _INF)]
            else:
                opened = []
                for d in range(-1, days + 2):
                    weekday = (clock.start + timedelta(days=d)).weekday()
                    span = loc.hours.days[weekday]
                    if span is None or span[0] >= span[1]:
                        continue
                    opened.append(
                        (
                            clock.local_to_sim(loc.timezone, d, span[0]),
                            clock.local_to_sim(loc.timezone, d, span[1]),
                        )
                    )
                opened = _merge(opened)
            holes = sorted(outages.get(row, ()))
            avail = _subtract(opened, holes)
            self.open_starts.append([s for s, _ in opened])
            self.open_ends.append([e for _, e in opened])
            self.starts.append([s for s, _ in avail])
            self.ends.append([e for _, e in avail])
            self.always_available.append(avail == [(-_INF, _INF)])
            cut, pick = [], []
            for d in range(-1, days + 2):
                span = loc.hours.days[(clock.start + timedelta(days=d)).weekday()]
                if span is None or span[0] >= span[1]:
                    continue  # nor on days it is closed (as the engine's ship-by estimate)
                p = clock.local_to_sim(loc.timezone, d, pickup_hour)
                if any(hs <= p < he for hs, he in holes):
                    continue  # no carrier calls at a location that is down
                cut.append(clock.local_to_sim(loc.timezone, d, cutoff_hour))
                pick.append(p)
            self.cutoffs.append(cut)
            self.pickups.append(pick)

    def next_available(self, row: int, t: float) -> float:
        """First time >= `t` when location `row` is open and not down (inf if never). [h]"""
        if self.always_available[row]:
            return t
        ends = self.ends[row]
        i = bisect_right(ends, t)
        if i == len(ends):
            return _INF
        s = self.starts[row][i]
        return t if s <= t else s

    def is_available(self, row: int, t: float) -> bool:
        """Whether location `row` can work at time `t`. [h]"""
        return self.next_available(row, t) == t

    def next_pickup(self, row: int, t: float) -> tuple[float, float]:
        """The carrier pickup that takes a parcel packed at `t`.

        Returns:
            `(cutoff_h, pickup_h)` of the first cut-off at or after `t`; `(inf, inf)` if
            there is none within the calendar. [h]
        """
        cut = self.cutoffs[row]
        i = bisect_left(cut, t)
        if i == len(cut):
            return _INF, _INF
        return cut[i], self.pickups[row][i]

    def open_fraction(
        self, row: int, hours: int, include_outages: bool = True, first: int = 0
    ) -> np.ndarray:
        """Share of each sim hour [h, h+1) that location `row` is open, float64 (H,).

        Args:
            row: Location row.
            hours: Number of sim hours H.
            include_outages: Treat outage windows as closed.
            first: Sim hour of the first entry (negative reaches before the start; the
                calendar covers the day before and the day after the horizon). [h]
        """
        starts = self.starts[row] if include_outages else self.open_starts[row]
        ends = self.ends[row] if include_outages else self.open_ends[row]
        frac = np.zeros(hours + 1)
        lo, hi = float(first), float(first + hours)
        for s, e in zip(starts, ends, strict=True):
            s, e = max(s, lo) - lo, min(e, hi) - lo
            if e <= s:
                continue
            i0, i1 = int(math.floor(s)), int(math.floor(e))
            if i0 == i1:
                frac[i0] += e - s
                continue
            frac[i0] += i0 + 1 - s
            frac[i0 + 1 : i1] += 1.0
            frac[i1] += e - i1
        return np.minimum(frac[:hours], 1.0)
