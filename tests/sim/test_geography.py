"""The committed US cities table (GeoNames, CC BY 4.0) and its lookups."""

from __future__ import annotations

import zoneinfo

import pytest

from sim.scenario import geography
from sim.scenario.geography import UnknownCityError, cities, city, largest_metros, miles_between


def test_table_size_and_order() -> None:
    table = cities()
    assert len(table) > 1_000
    populations = [c.population for c in table]
    assert populations == sorted(populations, reverse=True)
    assert min(populations) >= 15_000
    assert len({c.label for c in table}) == len(table)
    assert cities() is table  # read once per process


def test_new_york() -> None:
    ny = city("New York, NY")
    assert ny.population > 8_000_000
    assert ny.timezone == "America/New_York"
    assert ny.lat == pytest.approx(40.71, abs=0.05)
    assert ny.lon == pytest.approx(-74.01, abs=0.05)
    assert cities()[0] == ny


def test_all_timezones_are_valid_iana_names() -> None:
    zones = {c.timezone for c in cities()}
    assert zones <= zoneinfo.available_timezones()
    assert all(c.timezone.startswith(("America/", "Pacific/")) for c in cities())


def test_coordinates_are_in_the_us() -> None:
    for c in cities():
        assert 18 < c.lat < 72, c
        assert -180 < c.lon < -65, c
        assert len(c.state) == 2


def test_lookup_is_forgiving_about_case_and_spaces() -> None:
    assert city("  columbus ,  oh ") == city("Columbus, OH")
    assert city("Columbus, GA") != city("Columbus, OH")


@pytest.mark.parametrize(
    ("name", "match"),
    [("Columbus", "must be written 'Name, ST'"), ("Springfield, ZZ", "did you mean Springfield")],
)
def test_unknown_city_has_a_clear_error(name: str, match: str) -> None:
    with pytest.raises(UnknownCityError, match=match):
        city(name)


def test_largest_metros_are_largest_first_and_apart() -> None:
    metros = largest_metros(40)
    assert len(metros) == 40
    assert [m.label for m in metros[:4]] == [
        "New York, NY",
        "Los Angeles, CA",
        "Chicago, IL",
        "Houston, TX",
    ]
    assert [m.population for m in metros] == sorted((m.population for m in metros), reverse=True)
    for i, a in enumerate(metros):
        for b in metros[:i]:
            assert miles_between(a, b) >= 30
    # Jersey City is a big city, but part of the New York metro.
    assert "Jersey City, NJ" not in {m.label for m in metros}
    assert largest_metros(5) == metros[:5]
    assert largest_metros(0) == []


def test_largest_metros_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        largest_metros(-1)
    with pytest.raises(ValueError, match="only"):
        largest_metros(100, min_miles=2_000)


def test_miles_between_known_distance() -> None:
    # New York - Los Angeles great-circle distance is about 2,445 miles.
    assert miles_between(city("New York, NY"), city("Los Angeles, CA")) == pytest.approx(
        2445, rel=0.01
    )
    assert geography.EARTH_RADIUS_MILES == 3958.8
