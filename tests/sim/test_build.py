"""Scenario -> engine objects: network, catalogue, initial stock, rate card, settings."""

from __future__ import annotations

import numpy as np
import pytest

from engine.location import Capability, LocationKind
from sim import load_scenario
from sim.scenario.build import (
    basket_units,
    build_catalogue,
    build_network,
    build_rate_card,
    build_routing_settings,
    expected_daily_units,
    initial_stock,
    sites,
)
from sim.scenario.geography import city


@pytest.fixture(scope="module")
def default():
    return load_scenario("default")


def test_default_network_counts_and_kinds(default) -> None:
    net = build_network(default)
    kinds = [loc.kind for loc in net.locations]
    assert kinds.count(LocationKind.WAREHOUSE) == 3
    assert kinds.count(LocationKind.WHOLESALE_DC) == 1
    assert kinds.count(LocationKind.STORE) == 40
    assert [loc.id for loc in net.locations[:5]] == [
        "DC-EAST",
        "DC-CENTRAL",
        "DC-WEST",
        "DC-WHOLESALE",
        "STORE-01",
    ]
    assert net.locations[-1].id == "STORE-40"
    assert len(net.regions) == 300
    assert sum(r.weight for r in net.regions) == pytest.approx(1.0)
    assert net.regions[0].id == "New York, NY"


def test_store_fields_come_from_defaults(default) -> None:
    net = build_network(default)
    store = net.loc("STORE-01")
    nyc = city("New York, NY")
    assert (store.lat, store.lon, store.timezone) == (nyc.lat, nyc.lon, nyc.timezone)
    assert store.capabilities == {Capability.SHIP, Capability.PICKUP, Capability.RETURNS}
    assert store.daily_order_limit == 60
    assert store.online_threshold == 2
    assert store.handling_cost_per_order == 3.0
    assert store.region == "NY"
    assert store.cutoff_hour == default.carriers.cutoff_hour
    assert store.hours.days[0] == (9.0, 21.0)
    dc = net.loc("DC-WEST")
    assert dc.hours.is_always_open
    assert dc.daily_order_limit is None
    assert dc.capabilities == {Capability.SHIP, Capability.RETURNS}
    # the wholesale DC serves B2B orders only, and its stock is sized for them
    assert net.loc("DC-WHOLESALE").capabilities == {Capability.WHOLESALE}


def test_wholesale_is_refused_where_it_would_do_nothing() -> None:
    from sim.scenario import ScenarioError

    bad = [
        ({"warehouse_defaults": {"capabilities": ["ship", "wholesale"]}},
         "network.warehouse_defaults.capabilities"),
        ({"warehouses": [{"id": "W", "city": "Austin, TX", "capabilities": ["wholesale"]}]},
         "network.warehouses.0.capabilities"),
        ({"warehouses": [{"id": "W", "city": "Austin, TX", "online_threshold": 3}]},
         "network.warehouses.0.online_threshold"),
    ]  # fmt: skip
    for network, field in bad:
        with pytest.raises(ScenarioError, match=field.replace(".", r"\.")):
            load_scenario({"name": "bad", "network": network})


def test_explicit_locations_and_overrides() -> None:
    scn = load_scenario(
        {
            "name": "small",
            "network": {
                "warehouses": [
                    {"id": "W", "lat": 40.0, "lon": -100.0, "timezone": "America/Chicago"},
                    {"id": "DS", "kind": "dark_store", "city": "Austin, TX", "staff": 2},
                ],
                "stores": [
                    {
                        "id": "S1",
                        "city": "Boston, MA",
                        "daily_order_limit": 7,
                        "hours": {"open": 10, "close": 18, "closed_weekdays": [6]},
                    },
                ],
            },
            "catalogue": {"skus": [{"id": "A", "popularity": 3}, {"id": "B"}]},
            "inventory": {"overrides": [{"location": "S1", "sku": "B", "on_hand": 9}]},
        }
    )
    site_list = sites(scn)
    assert [s.location.kind for s in site_list] == [
        LocationKind.WAREHOUSE,
        LocationKind.DARK_STORE,
        LocationKind.STORE,
    ]
    assert site_list[1].staff == 2 and site_list[1].is_store
    net = build_network(scn)
    s1 = net.loc("S1")
    assert s1.daily_order_limit == 7
    assert s1.hours.days[6] is None and s1.hours.days[0] == (10.0, 18.0)
    cat = build_catalogue(scn)
    assert cat.skus == ("A", "B")
    np.testing.assert_allclose(cat.popularity, [0.75, 0.25])
    on_hand, safety = initial_stock(scn, net, cat)
    assert on_hand.shape == (3, 2)
    assert on_hand[net.index["S1"], 1] == 9 and safety[net.index["S1"], 1] == 0


def test_catalogue_arrays(default) -> None:
    cat = build_catalogue(default)
    assert len(cat) == 2000 and cat.skus[0] == "SKU-00001"
    for arr in (cat.popularity, cat.weight_lb, cat.price, cat.return_rate):
        assert arr.shape == (2000,)
    assert cat.popularity.sum() == pytest.approx(1.0)
    assert np.all(np.diff(cat.popularity) < 0)  # zipf: rank 1 most popular
    assert cat.popularity[0] / cat.popularity[1] == pytest.approx(2**1.1)
    # lognormal means within sampling error (cv 0.8 / 0.6, n = 2000: se ~ 2%)
    assert cat.weight_lb.mean() == pytest.approx(2.0, rel=0.08)
    assert cat.price.mean() == pytest.approx(40.0, rel=0.06)
    # the share of sold units returned is the popularity-weighted mean (before: the plain
    # mean was 0.12 and popular SKUs with low draws made it about 0.104)
    assert cat.popularity @ cat.return_rate == pytest.approx(0.12, rel=1e-9)
    assert cat.return_rate.std() > 0.02  # rates still vary by SKU
    assert np.all((cat.return_rate >= 0) & (cat.return_rate <= 1))


def test_a_high_return_rate_is_met_with_rates_at_most_one(default) -> None:
    cat = build_catalogue(load_scenario("default", overrides={"catalogue.return_rate": 0.9}))
    assert cat.popularity @ cat.return_rate == pytest.approx(0.9, rel=1e-6)
    assert cat.return_rate.max() <= 1.0


def test_initial_stock_shapes_and_cover(default) -> None:
    net = build_network(default)
    cat = build_catalogue(default)
    on_hand, safety = initial_stock(default, net, cat)
    assert on_hand.shape == safety.shape == (44, 2000)
    assert on_hand.dtype == np.int64 and on_hand.min() >= 0 and safety.min() >= 0
    # Stock across the network covers roughly the configured days of network demand.
    daily = expected_daily_units(default, cat).sum()
    days = on_hand.sum() / daily
    assert 14 <= days <= 30
    # DCs hold every popular SKU; stores carry the head of the range.
    assert np.all(on_hand[:3, :100] > 0)
    assert np.all(on_hand[4:, 0] > 0)  # stores
    # the wholesale DC holds its DC cover of wholesale demand (and only that)
    ws = default.demand.channels.wholesale
    b2b = ws.orders_per_day * basket_units(ws.basket) * default.inventory.initial_days_of_cover.dc
    assert on_hand[3].sum() == pytest.approx(b2b, rel=0.02)


def test_build_is_deterministic_for_a_seed(default) -> None:
    a_cat, b_cat = build_catalogue(default), build_catalogue(load_scenario("default"))
    np.testing.assert_array_equal(a_cat.price, b_cat.price)
    net = build_network(default)
    a = initial_stock(default, net, a_cat)
    b = initial_stock(default, net, b_cat)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    other = load_scenario("default", {"seed": 7})
    c_cat = build_catalogue(other)
    assert not np.array_equal(a_cat.price, c_cat.price)
    assert not np.array_equal(a[0], initial_stock(other, net, c_cat)[0])


def test_store_network_scenario() -> None:
    scn = load_scenario("store_network")
    net = build_network(scn)
    kinds = [loc.kind for loc in net.locations]
    assert kinds.count(LocationKind.WAREHOUSE) == 1
    assert kinds.count(LocationKind.STORE) == 80
    stores = [loc for loc in net.locations if loc.kind is LocationKind.STORE]
    assert len({(loc.lat, loc.lon) for loc in stores}) == 80  # one store per metro


def test_rate_card_and_routing_settings(default) -> None:
    card = build_rate_card(default)
    assert (card.per_package, card.per_item, card.per_item_mile) == (8.759, 0.423, 0.000541)
    settings = build_routing_settings(default)
    assert settings.closed_location == "wait"
    assert settings.same_day_max_miles == 50
    assert settings.bopis_pick_hours == pytest.approx(2.0)
