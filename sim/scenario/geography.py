"""US cities table: the demand geography and the places where locations stand.

The table ``sim/data/us_cities.csv`` is derived from GeoNames (CC BY 4.0; see
``sim/data/ATTRIBUTION.md``) by ``scripts/make_us_cities.py``. It is read once per process.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from pathlib import Path

CITIES_CSV = Path(__file__).resolve().parents[1] / "data" / "us_cities.csv"
EARTH_RADIUS_MILES = 3958.8


@dataclass(frozen=True, slots=True)
class City:
    """One US city.

    Attributes:
        name: City name, e.g. ``"Columbus"``.
        state: Two-letter state code, e.g. ``"OH"``.
        lat: Latitude. [degrees]
        lon: Longitude. [degrees]
        timezone: IANA time zone, e.g. ``"America/New_York"``.
        population: Residents. [people]
    """

    name: str
    state: str
    lat: float
    lon: float
    timezone: str
    population: int

    @property
    def label(self) -> str:
        """``"Name, ST"``, the form scenarios use to name a city."""
        return f"{self.name}, {self.state}"


class UnknownCityError(KeyError):
    """A city name that is not in the table; the message says what was expected."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@functools.cache
def cities() -> tuple[City, ...]:
    """All cities, sorted by population descending (read once per process)."""
    with CITIES_CSV.open(newline="", encoding="utf-8") as fh:
        return tuple(
            City(
                name=row["name"],
                state=row["state"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                timezone=row["timezone"],
                population=int(row["population"]),
            )
            for row in csv.DictReader(fh)
        )


@functools.cache
def _by_label() -> dict[str, City]:
    index: dict[str, City] = {}
    for c in cities():
        index.setdefault(_key(c.label), c)
    return index


def _key(label: str) -> str:
    name, _, state = label.rpartition(",")
    return f"{' '.join(name.split()).casefold()},{state.strip().casefold()}"


def city(name_state: str) -> City:
    """Look up a city by ``"Name, ST"`` (case and spacing are ignored).

    Args:
        name_state: City and two-letter state code, e.g. ``"Columbus, OH"``.

    Raises:
        UnknownCityError: the name has no state part or is not in the table (cities of at
            least 15,000 people); the message suggests cities of the same name.
    """
    if "," not in name_state:
        raise UnknownCityError(
            f"city {name_state!r} must be written 'Name, ST' (e.g. 'Columbus, OH')"
        )
    found = _by_label().get(_key(name_state))
    if found is None:
        wanted = name_state.rpartition(",")[0].strip().casefold()
        similar = [c.label for c in cities() if c.name.casefold() == wanted][:5]
        hint = f"; did you mean {', '.join(similar)}?" if similar else ""
        raise UnknownCityError(
            f"unknown city {name_state!r} (not among US cities of 15,000+ people){hint}"
        )
    return found


def miles_between(a: City, b: City) -> float:
    """Great-circle distance between two cities. [miles]"""
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))


def largest_metros(n: int, min_miles: float = 30.0) -> list[City]:
    """The ``n`` largest metros, largest first, one city each.

    Cities are taken by population; a city within ``min_miles`` of one already taken is
    treated as part of that metro and skipped (so Jersey City does not count as a second
    New York).

    Args:
        n: Number of metros. [count]
        min_miles: Minimum distance between two chosen cities. [miles]

    Raises:
        ValueError: ``n`` is negative or larger than the number of metros in the table.
    """
    if n < 0:
        raise ValueError(f"largest_metros: n must be >= 0, got {n}")
    return list(_largest_metros(n, float(min_miles)))


@functools.lru_cache(maxsize=16)
def _largest_metros(n: int, min_miles: float) -> tuple[City, ...]:
    chosen: list[City] = []
    for c in cities():
        if len(chosen) == n:
            break
        if all(miles_between(c, k) >= min_miles for k in chosen):
            chosen.append(c)
    if len(chosen) < n:
        raise ValueError(f"largest_metros: only {len(chosen)} metros are {min_miles:g} miles apart")
    return tuple(chosen)


def top_cities(n: int) -> list[City]:
    """The ``n`` most populous cities (no metro merging), largest first."""
    if n < 1:
        raise ValueError(f"top_cities: n must be >= 1, got {n}")
    return list(cities()[:n])
