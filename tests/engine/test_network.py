"""Tests for engine.network: distances, zones, arrays, open masks, regions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from engine.errors import EngineError
from engine.location import Capability, Location, LocationKind, OpeningHours
from engine.network import (
    DEFAULT_TRANSIT_DAYS,
    Network,
    Region,
    UnknownLocationError,
    haversine_miles,
    zone_for_miles,
)

NYC = (40.7128, -74.0060)
LA = (34.0522, -118.2437)
CHI = (41.8781, -87.6298)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_network() -> Network:
    locs = [
        Location("DC-NJ", LocationKind.WAREHOUSE, 40.73, -74.17, "America/New_York", region="NY"),
        Location(
            "ST-LA",
            LocationKind.STORE,
            *LA,
            "America/Los_Angeles",
            hours=OpeningHours.daily(9, 21),
            capabilities=frozenset({Capability.SHIP, Capability.PICKUP, Capability.RETURNS}),
            daily_order_limit=20,
            handling_cost_per_order=2.5,
            handling_cost_per_unit=0.4,
            online_threshold=3,
            cutoff_hour=15.0,
            region="LA",
        ),
        Location(
            "WS-CHI",
            LocationKind.WHOLESALE_DC,
            *CHI,
            "America/Chicago",
            capabilities=frozenset({Capability.WHOLESALE}),
        ),
    ]
    regions = [Region("NY", *NYC, 0.5), Region("LA", *LA, 0.3), Region("CHI", *CHI, 0.2)]
    return Network(locs, regions)


def test_haversine_ny_la():
    d = haversine_miles(*NYC, *LA)
    assert isinstance(d, float)
    assert d == pytest.approx(2445, abs=5)
    assert haversine_miles(*NYC, *NYC) == 0.0


def test_haversine_vectorised_and_symmetric():
    lats = np.array([LA[0], CHI[0]])
    lons = np.array([LA[1], CHI[1]])
    d = haversine_miles(NYC[0], NYC[1], lats, lons)
    assert d.shape == (2,)
    assert d[1] == pytest.approx(711, abs=5)  # NYC-Chicago ~ 711 mi
    np.testing.assert_allclose(d, haversine_miles(lats, lons, *NYC))


def test_haversine_antipodes_no_nan():
    d = haversine_miles(0.0, 0.0, 0.0, 180.0)
    assert d == pytest.approx(np.pi * 3958.8)


@pytest.mark.parametrize(
    ("miles", "zone"),
    [
        (0.0, 1),
        (50.0, 1),
        (50.5, 2),
        (51.0, 2),
        (150.0, 2),
        (150.01, 3),
        (300.0, 3),
        (301.0, 4),
        (600.0, 4),
        (601.0, 5),
        (1000.0, 5),
        (1001.0, 6),
        (1400.0, 6),
        (1401.0, 7),
        (1800.0, 7),
        (1801.0, 8),
        (5000.0, 8),
    ],
)
def test_zone_bands(miles, zone):
    z = zone_for_miles(miles)
    assert z == zone
    assert isinstance(z, int)


def test_zone_vectorised():
    np.testing.assert_array_equal(zone_for_miles(np.array([10, 50, 51, 2445])), [1, 1, 2, 8])


def test_arrays():
    net = make_network()
    assert len(net) == 3
    assert net.index == {"DC-NJ": 0, "ST-LA": 1, "WS-CHI": 2}
    np.testing.assert_array_equal(net.kind_codes, [0, 1, 4])
    assert net.kind_codes.dtype == np.int8
    assert list(LocationKind)[net.kind_codes[2]] is LocationKind.WHOLESALE_DC
    np.testing.assert_array_equal(net.can[Capability.SHIP], [True, True, False])
    np.testing.assert_array_equal(net.can[Capability.PICKUP], [False, True, False])
    np.testing.assert_array_equal(net.can[Capability.WHOLESALE], [False, False, True])
    np.testing.assert_array_equal(net.daily_limit, [-1, 20, -1])
    assert net.daily_limit.dtype == np.int64
    np.testing.assert_array_equal(net.online_threshold, [0, 3, 0])
    np.testing.assert_array_equal(net.handling_per_order, [0, 2.5, 0])
    np.testing.assert_array_equal(net.handling_per_unit, [0, 0.4, 0])
    np.testing.assert_array_equal(net.cutoff_hour, [16, 15, 16])
    assert net.region_names == ("NY", "LA", "CHI")
    np.testing.assert_array_equal(net.region_codes, [0, 1, -1])
    assert net.region_code("LA") == 1
    assert net.region_code("nowhere") == -1


def test_loc_and_unknown():
    net = make_network()
    assert net.loc("ST-LA").kind is LocationKind.STORE
    with pytest.raises(UnknownLocationError, match="nope") as info:
        net.loc("nope")
    assert isinstance(info.value, EngineError)
    assert isinstance(info.value, KeyError)
    assert str(info.value) == "unknown location 'nope'"


def test_duplicate_ids_rejected():
    loc = Location("X", LocationKind.WAREHOUSE, 0, 0, "UTC")
    with pytest.raises(ValueError, match="duplicate location id 'X'"):
        Network([loc, loc])


def test_distances_match_haversine():
    net = make_network()
    d = net.distances_from(*NYC)
    assert d.shape == (3,)
    np.testing.assert_allclose(d, haversine_miles(*NYC, net.lat, net.lon), rtol=1e-12)
    assert d[1] == pytest.approx(2445, abs=5)


def test_zones_and_transit():
    net = make_network()
    np.testing.assert_array_equal(net.zones_from(*NYC), [1, 8, 5])
    assert net.transit_days_for_zone(1) == 1
    assert net.transit_days_for_zone(8) == 5
    assert net.transit_days_for_zone(5) == DEFAULT_TRANSIT_DAYS[5]
    with pytest.raises(EngineError, match="zone 9"):
        net.transit_days_for_zone(9)


def test_custom_transit_days_and_bands():
    locs = [Location("A", LocationKind.WAREHOUSE, 0, 0, "UTC")]
    net = Network(locs, transit_days={1: 0, 2: 1, 3: 2}, zone_bands_miles=(100, 500))
    assert net.transit_days_for_zone(3) == 2
    np.testing.assert_array_equal(net.zones_from(0, 0), [1])
    with pytest.raises(ValueError, match="zone"):
        Network(locs, transit_days={1: 1})


def test_open_mask_and_cache():
    net = make_network()
    # 2024-03-05 18:00 UTC = 10:00 PST -> LA store open; warehouses always open.
    m = net.open_mask(utc(2024, 3, 5, 18, 10))
    np.testing.assert_array_equal(m, [True, True, True])
    assert not m.flags.writeable
    # Same UTC hour -> same cached object.
    assert net.open_mask(utc(2024, 3, 5, 18, 59)) is m
    # 2024-03-05 06:00 UTC = 22:00 PST (Mon) -> closed.
    np.testing.assert_array_equal(net.open_mask(utc(2024, 3, 5, 6)), [True, False, True])
    assert net.open_mask(utc(2024, 3, 5, 18)) is m  # still cached after another key


def test_open_mask_matches_location_is_open_across_a_year():
    net = make_network()
    t = utc(2024, 1, 1)
    for _ in range(0, 24 * 366, 7):
        expected = [loc.is_open(t) for loc in net.locations]
        np.testing.assert_array_equal(net.open_mask(t), expected)
        t += timedelta(hours=7)


def test_open_mask_cache_is_bounded():
    net = make_network()
    t = utc(2024, 1, 1)
    for h in range(500):
        net.open_mask(t + timedelta(hours=h))
    assert len(net._mask_cache) <= 64


def test_open_mask_half_hour_boundaries_are_exact():
    locs = [
        Location("IN", LocationKind.STORE, 19.07, 72.88, "Asia/Kolkata", OpeningHours.daily(9, 21)),
        Location("NY", LocationKind.STORE, *NYC, "America/New_York", OpeningHours.daily(9.5, 17)),
    ]
    net = Network(locs)
    t = utc(2024, 1, 9, 3)  # 08:30 IST, 22:00 EST
    for _ in range(48 * 4):
        expected = [loc.is_open(t) for loc in locs]
        np.testing.assert_array_equal(net.open_mask(t), expected, err_msg=str(t))
        t += timedelta(minutes=15)


def test_nearest_region_and_region_distances():
    net = make_network()
    assert net.nearest_region(40.0, -75.0).id == "NY"
    assert net.nearest_region(34.5, -117.0).id == "LA"
    rd = net.region_distances()
    assert rd.shape == (3, 3)
    np.testing.assert_allclose(rd[0], net.distances_from(*NYC), rtol=1e-12)
    assert net.region_distances() is rd
    with pytest.raises(EngineError, match="no demand regions"):
        Network(net.locations).nearest_region(0, 0)


def test_region_validation():
    with pytest.raises(ValueError, match="'R'"):
        Region("R", 100.0, 0.0)
    with pytest.raises(ValueError, match="weight"):
        Region("R", 0.0, 0.0, weight=-1)
