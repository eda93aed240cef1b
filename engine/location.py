"""Fulfilment locations: warehouses, stores, dark stores, 3PLs and wholesale DCs.

A `Location` is immutable configuration: where it is, its time zone and opening hours, what
it can do (`Capability`) and what it costs to hand it an order. All engine times are
timezone-aware UTC `datetime`s; opening hours are local wall-clock hours, converted with
`zoneinfo`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import EngineError

__all__ = ["STORE_KINDS", "Capability", "Location", "LocationKind", "OpeningHours"]


class LocationKind(StrEnum):
    """What sort of site a location is."""

    WAREHOUSE = "warehouse"
    STORE = "store"
    DARK_STORE = "dark_store"
    THREE_PL = "3pl"
    WHOLESALE_DC = "wholesale_dc"


STORE_KINDS = (LocationKind.STORE, LocationKind.DARK_STORE)
"""Kinds whose stock counts online only at or above the location's `online_threshold`."""


class Capability(StrEnum):
    """What a location is allowed to do."""

    SHIP = "ship"
    PICKUP = "pickup"
    RETURNS = "returns"
    WHOLESALE = "wholesale"


@lru_cache(maxsize=512)
def zone(key: str) -> ZoneInfo:
    """Return the `ZoneInfo` for an IANA key, raising ValueError if it is unknown."""
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone {key!r}") from exc


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware UTC datetime, got naive {at.isoformat()}")


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Local opening hours per weekday.

    Attributes:
        days: Seven entries, Monday=0 .. Sunday=6. Each is `(open_hour, close_hour)` in local
            wall-clock hours with `0 <= open_hour <= close_hour <= 24` (the location is open on
            the half-open interval `[open_hour, close_hour)`), or None when closed all day.
    """

    days: tuple[tuple[float, float] | None, ...]

    def __post_init__(self) -> None:
        days = tuple(None if d is None else (float(d[0]), float(d[1])) for d in self.days)
        if len(days) != 7:
            raise ValueError(f"opening hours need 7 weekdays (Mon..Sun), got {len(days)}")
        for weekday, span in enumerate(days):
            if span is None:
                continue
            open_hour, close_hour = span
            if not (0.0 <= open_hour <= close_hour <= 24.0):
                raise ValueError(
                    f"opening hours for weekday {weekday}: need 0 <= open <= close <= 24, "
                    f"got ({open_hour}, {close_hour})"
                )
        object.__setattr__(self, "days", days)

    @classmethod
    def always_open(cls) -> OpeningHours:
        """Open 24 hours a day, 7 days a week (warehouses, DCs)."""
        return cls(((0.0, 24.0),) * 7)

    @classmethod
    def daily(cls, open_hour: float, close_hour: float) -> OpeningHours:
        """The same local hours every day, e.g. `daily(9, 21)` for 09:00-21:00."""
        return cls(((open_hour, close_hour),) * 7)

    @property
    def is_always_open(self) -> bool:
        """True when open around the clock on every weekday."""
        return all(d == (0.0, 24.0) for d in self.days)

    def is_open_local(self, weekday: int, hour: float) -> bool:
        """Whether the location is open at a local weekday and hour.

        Args:
            weekday: Local weekday, Monday=0 .. Sunday=6.
            hour: Local wall-clock hour of the day in [0, 24). [h]
        """
        span = self.days[weekday]
        return span is not None and span[0] <= hour < span[1]


def _hour_of_day(local: datetime) -> float:
    return local.hour + local.minute / 60.0 + (local.second + local.microsecond * 1e-6) / 3600.0


@dataclass(frozen=True, slots=True)
class Location:
    """A site that can hold stock and fulfil orders.

    Attributes:
        id: Unique location id.
        kind: Site type.
        lat: Latitude in degrees, [-90, 90].
        lon: Longitude in degrees, [-180, 180].
        timezone: IANA time zone name, e.g. "America/New_York".
        hours: Local opening hours.
        capabilities: What the location may do.
        daily_order_limit: Max orders assigned per local day (ship-from-store cap); None means
            unlimited. [orders/day]
        handling_cost_per_order: Handling cost per order assigned here. [USD/order]
        handling_cost_per_unit: Handling cost per unit picked here. [USD/unit]
        online_threshold: A store's (or dark store's) stock of a SKU is offered online only
            if its ATS >= this; other kinds ignore it. [units]
        cutoff_hour: Local hour of the carrier pick-up / cut-off, in [0, 24]. [h]
        region: Demand region or state code, used to keep orders "in region".
    """

    id: str
    kind: LocationKind
    lat: float
    lon: float
    timezone: str
    hours: OpeningHours = field(default_factory=OpeningHours.always_open)
    capabilities: frozenset[Capability] = frozenset({Capability.SHIP})
    daily_order_limit: int | None = None
    handling_cost_per_order: float = 0.0
    handling_cost_per_unit: float = 0.0
    online_threshold: int = 0
    cutoff_hour: float = 16.0
    region: str = ""

    def __post_init__(self) -> None:
        def bad(field_name: str, reason: str) -> ValueError:
            return ValueError(f"location {self.id!r}: {field_name}: {reason}")

        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"location id must be a non-empty string, got {self.id!r}")
        try:
            object.__setattr__(self, "kind", LocationKind(self.kind))
        except ValueError:
            raise bad("kind", f"unknown kind {self.kind!r}") from None
        try:
            caps = frozenset(Capability(c) for c in self.capabilities)
        except (ValueError, TypeError):
            raise bad("capabilities", f"unknown capability in {self.capabilities!r}") from None
        object.__setattr__(self, "capabilities", caps)
        for name, lo, hi in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0)):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not (lo <= value <= hi):
                raise bad(name, f"must be a number in [{lo:g}, {hi:g}], got {value!r}")
        try:
            zone(self.timezone)
        except ValueError:
            raise bad("timezone", f"unknown IANA time zone {self.timezone!r}") from None
        if not isinstance(self.hours, OpeningHours):
            try:
                object.__setattr__(self, "hours", OpeningHours(tuple(self.hours)))
            except (ValueError, TypeError) as exc:
                raise bad("hours", str(exc)) from None
        limit = self.daily_order_limit
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise bad("daily_order_limit", f"must be an integer or None, got {limit!r}")
        if limit is not None and limit < 0:
            raise bad("daily_order_limit", f"must be >= 0, got {limit}")
        for name in ("handling_cost_per_order", "handling_cost_per_unit"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise bad(name, f"must be a finite number >= 0, got {value!r}")
        if isinstance(self.online_threshold, bool) or not isinstance(self.online_threshold, int):
            raise bad("online_threshold", f"must be an integer, got {self.online_threshold!r}")
        if self.online_threshold < 0:
            raise bad("online_threshold", f"must be >= 0, got {self.online_threshold}")
        if not isinstance(self.cutoff_hour, int | float) or not (0.0 <= self.cutoff_hour <= 24.0):
            raise bad("cutoff_hour", f"must be in [0, 24], got {self.cutoff_hour!r}")

    @property
    def tz(self) -> ZoneInfo:
        """The location's `ZoneInfo`."""
        return zone(self.timezone)

    def local_time(self, at: datetime) -> datetime:
        """Convert an aware UTC time to the location's local wall-clock time."""
        _require_aware(at)
        return at.astimezone(zone(self.timezone))

    def is_open(self, at: datetime) -> bool:
        """Whether the location is open at `at` (aware UTC), judged in local time."""
        local = self.local_time(at)
        return self.hours.is_open_local(local.weekday(), _hour_of_day(local))

    def next_open(self, at: datetime) -> datetime:
        """The first moment at or after `at` when the location is open.

        Args:
            at: Aware UTC time.

        Returns:
            `at` itself if open, else the next local opening time, as aware UTC.

        Raises:
            EngineError: If the location is closed on every weekday.
        """
        if self.is_open(at):
            return at
        tz = zone(self.timezone)
        local = at.astimezone(tz)
        start: date = local.date()
        for offset in range(8):
            day = start + timedelta(days=offset)
            span = self.hours.days[day.weekday()]
            if span is None or span[0] >= span[1]:
                continue
            # Aware + timedelta is wall-clock arithmetic, so this is the local opening hour.
            opening = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(hours=span[0])
            opening_utc = opening.astimezone(at.tzinfo)
            if opening_utc > at:
                return opening_utc
        raise EngineError(f"location {self.id!r} is closed on every weekday; it never opens")
