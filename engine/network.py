"""The fulfilment network as numpy arrays: distances, parcel zones, transit days, open masks.

`Network` turns a sequence of `Location`s into column arrays (one row per location) so that
routing one order over hundreds of locations is a handful of vectorised numpy operations.
Distances are great-circle (haversine) miles; zones follow US ground parcel distance bands.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

import numpy as np

from engine.errors import EngineError
from engine.location import STORE_KINDS, Capability, Location, LocationKind
from engine.location import zone as _tz

__all__ = [
    "DEFAULT_TRANSIT_DAYS",
    "DEFAULT_ZONE_BANDS_MILES",
    "EARTH_RADIUS_MILES",
    "KIND_CODES",
    "Network",
    "Region",
    "UnknownLocationError",
    "haversine_miles",
    "zone_for_miles",
]

EARTH_RADIUS_MILES = 3958.8
DEFAULT_ZONE_BANDS_MILES: tuple[float, ...] = (50, 150, 300, 600, 1000, 1400, 1800)
"""Upper bounds (inclusive) of parcel zones 1..7 in miles; zone 8 is above the last."""
DEFAULT_TRANSIT_DAYS: dict[int, int] = {1: 1, 2: 2, 3: 3, 4: 3, 5: 4, 6: 5, 7: 5, 8: 5}
"""Ground transit days by zone (business days simplified to calendar days)."""
KIND_CODES: dict[LocationKind, int] = {kind: i for i, kind in enumerate(LocationKind)}
"""`LocationKind` -> int8 code used in `Network.kind_codes` (index into `list(LocationKind)`)."""

_OPEN_MASK_CACHE_SIZE = 64


class UnknownLocationError(EngineError, KeyError):
    """A location id is not part of the network."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def haversine_miles(lat1, lon1, lat2, lon2) -> float | np.ndarray:
    """Great-circle distance on a sphere of radius 3958.8 miles. Vectorised (broadcasts).

    Args:
        lat1: Latitude of the first point(s). [deg]
        lon1: Longitude of the first point(s). [deg]
        lat2: Latitude of the second point(s). [deg]
        lon2: Longitude of the second point(s). [deg]

    Returns:
        Distance in miles; a float when all inputs are scalars, else an array.
    """
    p1, l1, p2, l2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((p2 - p1) / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2.0) ** 2
    miles = 2.0 * EARTH_RADIUS_MILES * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return float(miles) if miles.ndim == 0 else miles


def zone_for_miles(
    miles, bands_miles: Sequence[float] = DEFAULT_ZONE_BANDS_MILES
) -> int | np.ndarray:
    """Parcel zone (1-based) for a distance; bands are right-closed (50 -> zone 1, 50.5 -> 2).

    Args:
        miles: Distance(s). [mi]
        bands_miles: Ascending upper bounds of zones 1..n; zone n+1 lies above the last.

    Returns:
        The zone as int for a scalar input, else an int64 array of the same shape.
    """
    zones = np.searchsorted(np.asarray(bands_miles, dtype=np.float64), miles, side="left") + 1
    return int(zones) if np.ndim(zones) == 0 else zones


@dataclass(frozen=True)
class Region:
    """A demand region (city or metro).

    Attributes:
        id: Region id.
        lat: Latitude. [deg]
        lon: Longitude. [deg]
        weight: Share of demand, e.g. population share. [-]
    """

    id: str
    lat: float
    lon: float
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0) or not (-180.0 <= self.lon <= 180.0):
            raise ValueError(f"region {self.id!r}: bad coordinates ({self.lat}, {self.lon})")
        if not math.isfinite(self.weight) or self.weight < 0:
            raise ValueError(f"region {self.id!r}: weight must be >= 0, got {self.weight}")


def _minutes(hours: float) -> int:
    return round(hours * 60)


class Network:
    """Locations and demand regions as column arrays, one row per location.

    Attributes:
        locations: The locations, in row order.
        index: Location id -> row.
        regions: Demand regions.
        lat, lon: Coordinates, float64 (L,). [deg]
        kind_codes: int8 (L,), index into `list(LocationKind)` (see `KIND_CODES`).
        can: `Capability` -> bool mask (L,).
        daily_limit: int64 (L,) max orders per local day, -1 = unlimited. [orders/day]
        online_threshold: int64 (L,). [units]
        is_store: bool (L,), kind in `STORE_KINDS` (the online threshold applies).
        handling_per_order: float64 (L,). [USD/order]
        handling_per_unit: float64 (L,). [USD/unit]
        cutoff_hour: float64 (L,) local carrier cut-off hour. [h]
        region_names: Region vocabulary: `regions` ids first, then other location regions.
        region_codes: int32 (L,) index into `region_names`, -1 when a location has no region.
        zone_bands_miles: Upper bounds of zones 1..n. [mi]
        transit_table: int64 array, zone -> transit days (index 0 unused). [days]
    """

    def __init__(
        self,
        locations: Sequence[Location],
        regions: Sequence[Region] = (),
        transit_days: Mapping[int, int] | None = None,
        zone_bands_miles: Sequence[float] = DEFAULT_ZONE_BANDS_MILES,
    ) -> None:
        self.locations: tuple[Location, ...] = tuple(locations)
        self.index: dict[str, int] = {}
        for row, location in enumerate(self.locations):
            if location.id in self.index:
                raise ValueError(f"duplicate location id {location.id!r} in network")
            self.index[location.id] = row
        self.regions: tuple[Region, ...] = tuple(regions)
        region_ids = [r.id for r in self.regions]
        if len(set(region_ids)) != len(region_ids):
            raise ValueError("duplicate region id in network")

        bands = np.asarray(zone_bands_miles, dtype=np.float64)
        if bands.ndim != 1 or bands.size == 0 or np.any(np.diff(bands) <= 0) or bands[0] < 0:
            raise ValueError(f"zone_bands_miles must be ascending and >= 0, got {zone_bands_miles}")
        self.zone_bands_miles = bands
        n_zones = bands.size + 1
        days = dict(DEFAULT_TRANSIT_DAYS if transit_days is None else transit_days)
        missing = [z for z in range(1, n_zones + 1) if z not in days]
        if missing:
            raise ValueError(f"transit_days has no entry for zone(s) {missing}")
        if any(days[z] < 0 for z in range(1, n_zones + 1)):
            raise ValueError(f"transit_days must be >= 0, got {days}")
        self.transit_table = np.array([0] + [days[z] for z in range(1, n_zones + 1)], np.int64)

        locs = self.locations
        self.lat = np.array([x.lat for x in locs], dtype=np.float64)
        self.lon = np.array([x.lon for x in locs], dtype=np.float64)
        self._lat_rad = np.radians(self.lat)
        self._lon_rad = np.radians(self.lon)
        self._cos_lat = np.cos(self._lat_rad)
        self.kind_codes = np.array([KIND_CODES[x.kind] for x in locs], dtype=np.int8)
        self.can: dict[Capability, np.ndarray] = {
            cap: np.array([cap in x.capabilities for x in locs], dtype=bool) for cap in Capability
        }
        self.daily_limit = np.array(
            [-1 if x.daily_order_limit is None else x.daily_order_limit for x in locs], np.int64
        )
        self.online_threshold = np.array([x.online_threshold for x in locs], dtype=np.int64)
        self.is_store = np.array([x.kind in STORE_KINDS for x in locs], dtype=bool)
        self.handling_per_order = np.array([x.handling_cost_per_order for x in locs], np.float64)
        self.handling_per_unit = np.array([x.handling_cost_per_unit for x in locs], np.float64)
        self.cutoff_hour = np.array([x.cutoff_hour for x in locs], dtype=np.float64)
        extra = sorted({x.region for x in locs if x.region} - set(region_ids))
        self.region_names: tuple[str, ...] = tuple(region_ids) + tuple(extra)
        self._region_code = {name: i for i, name in enumerate(self.region_names)}
        self.region_codes = np.array(
            [self._region_code[x.region] if x.region else -1 for x in locs], dtype=np.int32
        )
        self._region_lat = np.array([r.lat for r in self.regions], dtype=np.float64)
        self._region_lon = np.array([r.lon for r in self.regions], dtype=np.float64)
        self._region_distances: np.ndarray | None = None

        # Open masks: locations sharing (time zone, hours) are evaluated together.
        groups: dict[tuple[str, object], list[int]] = {}
        for row, x in enumerate(locs):
            groups.setdefault((x.timezone, x.hours), []).append(row)
        self._open_groups = [(tz, hours, np.array(rows)) for (tz, hours), rows in groups.items()]
        self._mask_period_s = 60 * self._mask_period_minutes()
        self._mask_cache: dict[int, np.ndarray] = {}
        self._last_mask_key: int | None = None
        self._last_mask: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.locations)

    def __repr__(self) -> str:
        return f"Network({len(self.locations)} locations, {len(self.regions)} regions)"

    def loc(self, id: str) -> Location:
        """Return the location with this id.

        Raises:
            UnknownLocationError: (an `EngineError` and `KeyError`) if the id is unknown.
        """
        try:
            return self.locations[self.index[id]]
        except KeyError:
            raise UnknownLocationError(f"unknown location {id!r}") from None

    def row(self, id: str) -> int:
        """Row index of a location id; raises `UnknownLocationError` if unknown."""
        try:
            return self.index[id]
        except KeyError:
            raise UnknownLocationError(f"unknown location {id!r}") from None

    def distances_from(self, lat: float, lon: float) -> np.ndarray:
        """Haversine miles from one point to every location, float64 (L,). [mi]"""
        p = math.radians(lat)
        a = (
            np.sin((self._lat_rad - p) * 0.5) ** 2
            + (math.cos(p) * self._cos_lat) * np.sin((self._lon_rad - math.radians(lon)) * 0.5) ** 2
        )
        return (2.0 * EARTH_RADIUS_MILES) * np.arcsin(np.sqrt(np.minimum(a, 1.0)))

    def zones_from(self, lat: float, lon: float) -> np.ndarray:
        """Parcel zone from every location to one point, int64 (L,)."""
        return np.searchsorted(self.zone_bands_miles, self.distances_from(lat, lon)) + 1

    def transit_days_for_zone(self, zone: int) -> int:
        """Ground transit days for a parcel zone. [days]"""
        if not 1 <= zone < self.transit_table.size:
            raise EngineError(
                f"unknown parcel zone {zone}; zones are 1..{self.transit_table.size - 1}"
            )
        return int(self.transit_table[zone])

    def region_code(self, name: str) -> int:
        """Code of a region name in `region_names`, -1 if unknown or empty."""
        return self._region_code.get(name, -1)

    # --- opening hours -----------------------------------------------------------------

    def _mask_period_minutes(self) -> int:
        """Cache period for open masks: one hour unless some boundary is off the hour.

        Opening/closing hours and UTC offsets that are not whole hours (09:30, India +05:30)
        would make an hourly mask wrong for part of the hour, so the period shrinks to the
        greatest common divisor of all boundaries in minutes.
        """
        minutes = [60]
        probes = (datetime(2024, 1, 15), datetime(2024, 7, 15))
        for tz, hours, _ in self._open_groups:
            for probe in probes:
                offset = _tz(tz).utcoffset(probe)
                minutes.append(round(offset.total_seconds() / 60) if offset else 0)
            for span in hours.days:
                if span is not None:
                    minutes += [_minutes(span[0]), _minutes(span[1])]
        return max(1, reduce(math.gcd, minutes))

    def _compute_open_mask(self, at: datetime) -> np.ndarray:
        mask = np.zeros(len(self.locations), dtype=bool)
        for tz, hours, rows in self._open_groups:
            local = at.astimezone(_tz(tz))
            hour = local.hour + local.minute / 60.0 + local.second / 3600.0
            mask[rows] = hours.is_open_local(local.weekday(), hour)
        mask.flags.writeable = False
        return mask

    def open_mask(self, at: datetime) -> np.ndarray:
        """Which locations are open at `at` (aware UTC), bool (L,), read-only.

        Cached per UTC hour (`int(at.timestamp() // 3600)`) in a small LRU dict; the mask is
        evaluated at the start of the hour. If some opening hour or time-zone offset is not a
        whole hour, the cache period shrinks accordingly (e.g. 30 minutes) so masks stay exact.
        """
        if at.tzinfo is None:  # (a naive time's timestamp would be the machine's local time)
            raise ValueError(f"expected a timezone-aware UTC datetime, got {at.isoformat()}")
        key = int(at.timestamp() // self._mask_period_s)
        if key == self._last_mask_key:
            return self._last_mask  # type: ignore[return-value]
        cache = self._mask_cache
        mask = cache.pop(key, None)
        if mask is None:
            start = datetime.fromtimestamp(key * self._mask_period_s, tz=at.tzinfo)
            mask = self._compute_open_mask(start)
            if len(cache) >= _OPEN_MASK_CACHE_SIZE:
                del cache[next(iter(cache))]  # least recently used
        cache[key] = mask
        self._last_mask_key, self._last_mask = key, mask
        return mask

    # --- demand regions ----------------------------------------------------------------

    def nearest_region(self, lat: float, lon: float) -> Region:
        """The demand region closest to a point.

        Raises:
            EngineError: If the network has no regions.
        """
        if not self.regions:
            raise EngineError("network has no demand regions")
        miles = haversine_miles(lat, lon, self._region_lat, self._region_lon)
        return self.regions[int(np.argmin(miles))]

    def region_distances(self) -> np.ndarray:
        """Miles from every region to every location, float64 (R, L), computed once. [mi]"""
        if self._region_distances is None:
            d = haversine_miles(
                self._region_lat[:, None], self._region_lon[:, None], self.lat[None], self.lon[None]
            )
            self._region_distances = np.asarray(d, dtype=np.float64).reshape(
                len(self.regions), len(self.locations)
            )
            self._region_distances.flags.writeable = False
        return self._region_distances
