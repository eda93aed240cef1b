"""Local clocks, daily order counters and ship / delivery time estimates per location.

Everything here works on POSIX timestamps (seconds) and per-location UTC offsets cached
per UTC hour, so the hot path never builds `datetime` objects for hundreds of locations.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, datetime

import numpy as np

from engine.errors import EngineError
from engine.location import zone
from engine.network import Network
from engine.order import DeliveryMethod
from engine.routing.settings import RoutingSettings

__all__ = ["DailyCounter", "LocalClock", "ShipTimes"]

DAY_S = 86_400.0
_HOUR_EDGE_S = 3599.0  # `local_days` recomputes in the last second of an hour (rounding)
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
# Enum members as module constants: on the hot path (per order) a member read from its
# class (`DeliveryMethod.BOPIS`) costs several times a global in CPython 3.11.
_BOPIS, _SAME_DAY = DeliveryMethod.BOPIS, DeliveryMethod.SAME_DAY


class LocalClock:
    """UTC offsets of every location (seconds), cached per UTC hour."""

    def __init__(self, network: Network) -> None:
        groups: dict[str, list[int]] = {}
        for row, x in enumerate(network.locations):
            groups.setdefault(x.timezone, []).append(row)
        self._groups = [(zone(tz), np.array(rows)) for tz, rows in groups.items()]
        self._n = len(network.locations)
        self._cache: dict[int, tuple[np.ndarray, list[float]]] = {}  # per UTC hour
        self._days_key: int | None = None  # UTC hour of the cached `local_days`
        self._days: np.ndarray | None = None

    def offsets(self, ts: float) -> np.ndarray:
        """UTC offset of each location at time `ts` (s since the epoch), float64 (L,). [s]"""
        return self._hour(ts)[0]

    def offset(self, row: int, ts: float) -> float:
        """UTC offset of location `row` at time `ts`: ``float(offsets(ts)[row])``. [s]"""
        return self._hour(ts)[1][row]

    def _hour(self, ts: float) -> tuple[np.ndarray, list[float]]:
        """The offsets of the UTC hour of `ts`, as an array and as a list (for one row)."""
        key = int(ts // 3600)
        hour = self._cache.get(key)
        if hour is None:
            start = datetime.fromtimestamp(key * 3600, tz=UTC)
            off = np.empty(self._n, dtype=np.float64)
            for tz, rows in self._groups:
                off[rows] = start.astimezone(tz).utcoffset().total_seconds()
            if len(self._cache) >= 256:
                del self._cache[next(iter(self._cache))]
            hour = self._cache[key] = (off, off.tolist())
        return hour

    def local_days(self, ts: float) -> np.ndarray:
        """Local calendar day of each location (days since 1970-01-01), int64 (L,), read-only.

        Within one UTC hour in which no location passes local midnight the answer is the
        same for every `ts`, so it is kept for the last such hour.
        """
        key = int(ts // 3600)
        if key == self._days_key and ts - key * 3600.0 < _HOUR_EDGE_S:
            return self._days  # type: ignore[return-value]
        off = self.offsets(ts)
        days = ((ts + off) // DAY_S).astype(np.int64)
        start = key * 3600.0 + off  # exact: whole seconds
        if ((start % DAY_S) <= DAY_S - 3600.0).all():  # no local midnight inside the hour
            days.flags.writeable = False
            self._days_key, self._days = key, days
        return days


class DailyCounter:
    """Orders assigned per location and local calendar day, against daily order limits.

    Counts live in a dict keyed by `(row, local day)`; two arrays mirror each location's
    latest day so the check for "now" is a few vectorised operations.
    """

    def __init__(self, network: Network, clock: LocalClock) -> None:
        self._clock = clock
        self._limits = network.daily_limit
        self.limit_list: list[int] = self._limits.tolist()
        """`limits` as a list (read-only by convention). [orders/day]"""
        self._limited = self._limits >= 0
        self._any = bool(self._limited.any())
        self._zero = (self._limits == 0) if (self._limits == 0).any() else None
        self._daily: dict[tuple[int, int], int] = {}
        n = len(network.locations)
        self._cnt = np.zeros(n, dtype=np.int64)
        self._day = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)

    def limit_hit(self, ts: float) -> np.ndarray | None:
        """bool (L,): locations whose local day at `ts` is at its limit; None if none can be."""
        if not self._any:
            return None
        if not self._daily:
            return self._zero
        return self._limited & (self.used(ts) >= self._limits)

    @property
    def limits(self) -> np.ndarray:
        """Daily order limit per location, int64 (L,); negative = no limit. [orders/day]"""
        return self._limits

    def used(self, ts: float) -> np.ndarray:
        """Orders counted per location on its local day at `ts`, int64 (L,). [orders]"""
        day = self._clock.local_days(ts)
        used = np.where(self._day == day, self._cnt, 0)
        for r in np.flatnonzero(self._day > day).tolist():  # asked about the past
            used[r] = self._daily.get((r, int(day[r])), 0)
        return used

    def count(self, row: int, ts: float) -> int:
        """Orders counted at a location on its local day at `ts`."""
        return self._daily.get((row, int(self._clock.local_days(ts)[row])), 0)

    def bump(self, row: int, day: int, delta: int) -> None:
        """Add `delta` orders to a location's local day."""
        n = self._daily.get((row, day), 0) + delta
        self._daily[(row, day)] = n
        if day >= self._day[row]:
            self._day[row], self._cnt[row] = day, n

    def add(self, rows: list[int], ts: float) -> list[tuple[int, int]]:
        """Count one order at each row on its local day at `ts`; returns what was counted."""
        days = self._clock.local_days(ts)
        counted = [(row, int(days[row])) for row in rows]
        for row, day in counted:
            self.bump(row, day, +1)
        return counted


class ShipTimes:
    """Ship-by and delivery estimates: next opening, carrier cut-off, transit by zone."""

    def __init__(self, network: Network, settings: RoutingSettings, clock: LocalClock) -> None:
        locs = network.locations
        self._locs = locs
        self._hold_s = settings.release_hold_hours * 3600.0
        self._spans = [x.hours.days for x in locs]  # local opening span per weekday
        self._clock = clock
        self._settings = settings
        self._cutoff_s = [x.cutoff_hour * 3600.0 for x in locs]
        self._closed_days = [
            tuple(d is None or d[0] >= d[1] for d in x.hours.days) for x in locs
        ]  # fmt: skip
        self._bands = [float(b) for b in network.zone_bands_miles]
        self._transit = [int(t) for t in network.transit_table]
        self._next_open: dict[int, tuple[float, float]] = {}
        self._datetimes: dict[float, datetime] = {}  # for `as_datetime`

    def as_datetime(self, ts: float) -> datetime:
        """``datetime.fromtimestamp(ts, tz=UTC)``, kept for the last 1,024 times asked: the
        packages of a routing time share their ship-by and delivery times."""
        dt = self._datetimes.get(ts)
        if dt is None:
            if len(self._datetimes) >= 1024:
                self._datetimes.clear()
            dt = self._datetimes[ts] = datetime.fromtimestamp(ts, tz=UTC)
        return dt

    def start(self, row: int, ts: float, is_open: bool) -> float:
        """When work can start: `ts`, or the location's next opening if it is closed. [s]"""
        if is_open:
            return ts
        memo = self._next_open.get(row)
        if memo is not None and memo[0] <= ts < memo[1]:
            return memo[1]  # still in the same closed spell
        at = datetime.fromtimestamp(ts, tz=UTC)
        try:
            opens = self._locs[row].next_open(at).timestamp()
        except EngineError:  # never opens: no better estimate than now
            return ts
        self._next_open[row] = (ts, opens)
        return opens

    def _is_open(self, row: int, ts: float) -> bool:
        """Whether location `row` is open at `ts` by its local opening hours."""
        return self._open_local(row, ts + self._clock.offset(row, ts))

    def _open_local(self, row: int, local: float) -> bool:
        """Whether location `row` is open at local time `local` (`ts` plus its UTC offset)."""
        day = local // DAY_S
        span = self._spans[row][int(day + _EPOCH_WEEKDAY) % 7]
        return span is not None and span[0] <= (local - day * DAY_S) / 3600.0 < span[1]

    def estimate(
        self, row: int, ts: float, is_open: bool, method: DeliveryMethod, miles: float
    ) -> tuple[float, float]:
        """`(ship-by or ready time, estimated delivery)` of one package, as timestamps. [s]

        Ship: work starts now (or at the next opening), the carrier collects at the
        location's cut-off that day if work starts before it, else the next day the
        location is open; transit days follow the parcel zone of `miles`, and the promise
        is the end of that local delivery day. BOPIS: ready
        `bopis_pick_hours` after work starts, or that long after the next opening when
        the store would be closed by then. Same day: delivered `same_day_hours` after.
        Work starts no earlier than the release hold (`release_hold_hours`) after `ts`;
        `is_open` is whether the location is open at `ts`.
        """
        offset = self._clock.offset
        off = None  # UTC offset at `ts`, when looked up
        if self._hold_s:
            ts += self._hold_s
            off = offset(row, ts)
            is_open = self._open_local(row, ts + off)
        start = ts if is_open else self.start(row, ts, False)
        if method is _BOPIS:
            pick = self._settings.bopis_pick_hours * 3600.0
            ready = start + pick
            if not self._is_open(row, ready):
                ready = self.start(row, ready, False) + pick  # picked after it reopens
            return ready, ready
        if method is _SAME_DAY:
            return start, start + self._settings.same_day_hours * 3600.0
        if off is None or start != ts:
            off = offset(row, start)
        local = start + off
        day = int(local // DAY_S)
        cutoff = self._cutoff_s[row]
        if local - day * DAY_S >= cutoff:
            day += 1
        closed = self._closed_days[row]
        for _ in range(7):  # the carrier does not collect on days the location is closed
            if not closed[(day + _EPOCH_WEEKDAY) % 7]:
                break
            day += 1
        ship_local = day * DAY_S + cutoff
        ship = ship_local - off
        off2 = offset(row, ship)
        if off2 != off:  # a daylight-saving change in between
            ship = ship_local - off2
        transit = self._transit[bisect_left(self._bands, miles) + 1]
        # Customers are promised a date, not an hour: delivery by the end of the local day
        # (location's time zone) `transit` days after the carrier collects.
        return ship, (day + transit + 1) * DAY_S - off2
