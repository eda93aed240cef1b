"""Tests for engine.rates: literature cost, zone x weight table, handling overrides."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from engine import Ledger, Order, OrderLine
from engine.location import Location, LocationKind
from engine.network import Network
from engine.rates import RateCard
from engine.routing import Router, RoutingSettings

TABLE = {z: [(1.0, 5.0 + z), (5.0, 8.0 + z), (20.0, 15.0 + z)] for z in range(1, 9)}


def test_literature_defaults():
    rc = RateCard()
    assert (rc.per_package, rc.per_item, rc.per_item_mile) == (8.759, 0.423, 0.000541)
    # 8.759 + 2 * (0.423 + 0.000541 * 1000) = 8.759 + 2 * 0.964 = 10.687
    assert rc.package_cost(1000.0, 2) == pytest.approx(10.687)
    assert rc.package_cost(0.0, 1) == pytest.approx(9.182)


def test_unit_costs_vectorised():
    rc = RateCard()
    miles = np.array([0.0, 100.0, 2445.0])
    np.testing.assert_allclose(rc.unit_costs(miles), [0.423, 0.4771, 0.423 + 0.000541 * 2445])
    # A one-item package = per-package + unit cost.
    assert rc.package_cost(100.0, 1) == pytest.approx(rc.per_package + rc.unit_costs(100.0))


def test_zone_weight_table():
    rc = RateCard(zone_weight_table=TABLE)
    assert rc.package_cost(50.0, 3, weight_lb=0.5) == 6.0  # zone 1, <= 1 lb
    assert rc.package_cost(50.5, 3, weight_lb=1.0) == 7.0  # zone 2, <= 1 lb
    assert rc.package_cost(2445.0, 1, weight_lb=4.0) == 16.0  # zone 8, <= 5 lb
    with pytest.raises(ValueError, match="exceeds zone 8"):
        rc.package_cost(2445.0, 1, weight_lb=30.0)
    np.testing.assert_array_equal(
        rc.unit_costs(np.array([10.0, 200.0, 3000.0]), unit_weight_lb=2.0), [9.0, 11.0, 16.0]
    )


def test_zone_weight_table_routing_estimate_is_the_linear_model():
    # The engine knows no SKU weights: without `weight_lb`, a table card prices every item
    # as a one-item parcel of `unit_weight_lb`, plus the package fee, as routing does.
    rc = RateCard(zone_weight_table=TABLE)
    assert rc.unit_weight_lb == 1.0
    np.testing.assert_array_equal(rc.unit_costs(np.array([10.0, 200.0])), [6.0, 8.0])
    assert rc.package_cost(10.0, 1) == pytest.approx(8.759 + 6.0)
    assert rc.package_cost(10.0, 40) == pytest.approx(8.759 + 40 * 6.0)
    heavy = RateCard(zone_weight_table=TABLE, unit_weight_lb=2.0, per_package=0.0)
    assert heavy.package_cost(200.0, 3) == pytest.approx(3 * 11.0)  # zone 3, <= 5 lb
    assert heavy.package_cost(200.0, 3, weight_lb=6.0) == 18.0  # the carrier's price
    assert RateCard().package_cost(10.0, 3, weight_lb=99.0) == RateCard().package_cost(10.0, 3)
    with pytest.raises(ValueError, match="unit_weight_lb 25.0 exceeds .* zone 1"):
        RateCard(zone_weight_table=TABLE, unit_weight_lb=25.0)
    with pytest.raises(ValueError, match="unit_weight_lb"):
        RateCard(unit_weight_lb=-1.0)


@pytest.mark.parametrize("units", [1, 40])
def test_table_card_decision_reports_what_the_cost_key_minimised(units):
    dc = Location("DC", LocationKind.WAREHOUSE, 39.96, -83.0, "America/New_York")
    network = Network([dc])
    ledger = Ledger(["DC"], ["S"])
    ledger.set_stock("DC", "S", 100)
    rc = RateCard(zone_weight_table={z: [(1.0, 5.0), (50.0, 20.0)] for z in range(1, 9)})
    router = Router(network, ledger, rc, policy="cost", settings=RoutingSettings(keep_reasons=True))
    at = datetime(2024, 3, 5, 18, 0, tzinfo=UTC)
    o = Order("O", "web", "c", 40.7, -74.0, [OrderLine("S", units)], created_at=at)
    d = router.route(o, at)
    assert d.est_shipping_cost == pytest.approx(8.759 + units * 5.0)
    assert d.est_cost == pytest.approx(d.reasons()[0]["score"])


def test_zone_weight_table_validation():
    with pytest.raises(ValueError, match="zone 8"):
        RateCard(zone_weight_table={z: [(1.0, 5.0)] for z in range(1, 8)})
    bad = dict(TABLE)
    bad[3] = [(5.0, 1.0), (1.0, 2.0)]
    with pytest.raises(ValueError, match="zone 3"):
        RateCard(zone_weight_table=bad)


def test_negative_rates_rejected():
    with pytest.raises(ValueError, match="per_item_mile"):
        RateCard(per_item_mile=-1e-3)
    with pytest.raises(ValueError, match="handling_by_kind"):
        RateCard(handling_by_kind={LocationKind.STORE: (-1.0, 0.0)})
    with pytest.raises(ValueError, match="handling_by_kind"):
        RateCard(handling_by_kind={"castle": (1.0, 0.0)})


def test_handling_override_by_kind():
    store = Location(
        "S",
        LocationKind.STORE,
        40.0,
        -74.0,
        "America/New_York",
        handling_cost_per_order=1.0,
        handling_cost_per_unit=0.1,
    )
    dc = Location(
        "W",
        LocationKind.WAREHOUSE,
        40.0,
        -75.0,
        "America/New_York",
        handling_cost_per_order=0.5,
        handling_cost_per_unit=0.2,
    )
    rc = RateCard(handling_by_kind={"store": (3.0, 0.75)})
    assert rc.handling(store) == (3.0, 0.75)
    assert rc.handling(dc) == (0.5, 0.2)
    assert rc.handling_cost(store, 4) == pytest.approx(6.0)
    assert RateCard().handling_cost(store, 4) == pytest.approx(1.4)
    per_order, per_unit = rc.handling_arrays(Network([store, dc]))
    np.testing.assert_array_equal(per_order, [3.0, 0.5])
    np.testing.assert_array_equal(per_unit, [0.75, 0.2])


_TABLE = {z: [(1.0, 5.0 + z), (5.0, 8.0 + z), (20.0, 15.0 + z)] for z in range(1, 9)}


def test_a_zone_with_two_rows_for_the_same_weight_is_rejected():
    with pytest.raises(ValueError):
        RateCard(zone_weight_table={**_TABLE, 2: [(1.0, 5.0), (1.0, 6.0)]})


def test_negative_per_unit_handling_is_rejected():
    with pytest.raises(ValueError):
        RateCard(handling_by_kind={LocationKind.STORE: (1.0, -0.5)})


@pytest.mark.parametrize("field", ["per_item", "per_package"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_rates_that_are_not_finite_are_rejected(field, value):
    with pytest.raises(ValueError):
        RateCard(**{field: value})


def test_custom_zone_bands_price_by_their_own_zones():
    three = {1: [(10.0, 1.0)], 2: [(10.0, 2.0)], 3: [(10.0, 3.0)]}
    rc = RateCard(zone_weight_table=three, zone_bands_miles=(100.0, 500.0), per_package=0.0)
    assert rc.package_cost(200.0, 1, weight_lb=1.0) == 2.0
    assert rc.unit_costs(np.array([50.0, 200.0, 900.0])).tolist() == [1.0, 2.0, 3.0]


def test_a_free_row_in_the_weight_table_is_allowed():
    free = {z: [(1.0, 0.0), (5.0, 4.0)] for z in range(1, 9)}
    assert RateCard(zone_weight_table=free).package_cost(10.0, 1, weight_lb=0.5) == 0.0
