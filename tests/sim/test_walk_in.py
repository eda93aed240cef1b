"""Walk-in (POS) sales per store: the counts add up to the physical books, ship-from-store
costs walk-in sales (a paired comparison on the same demand), and the chart reads them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import figures, load_scenario, run
from sim.model.world import World
from sim.scenario.build import basket_units

STORE_KINDS = ("store", "dark_store")


@pytest.fixture(scope="module")
def paired() -> dict[str, object]:
    """The default scenario's first 7 days under two policies, same seed (same demand)."""
    return {p: run("default", p, seed=7, days=7) for p in ("store_first", "dc_first")}


def test_walk_in_counts_match_the_physical_books(paired) -> None:
    for result in paired.values():
        util = result.utilisation
        away = ~util["kind"].astype(str).isin(STORE_KINDS)
        assert (util.loc[away, ["walk_in_units", "walk_in_lost_units"]] == 0).all().all()
        asked, lost = int(util["walk_in_units"].sum()), int(util["walk_in_lost_units"].sum())
        assert lost == result.conservation["pos_lost_units"]
        assert asked - lost == result.conservation["sold"]  # only walk-in customers buy
        assert (util["walk_in_lost_units"] <= util["walk_in_units"]).all()
        lost_events = result.events.loc[
            result.events["kind"].astype(str) == "pos_lost", "qty"
        ].sum()
        assert lost_events == lost


def test_ship_from_store_costs_walk_in_sales_on_the_same_demand(paired) -> None:
    stores_first, dcs_first = paired["store_first"].utilisation, paired["dc_first"].utilisation
    # the same customers walk in under both policies
    assert stores_first["walk_in_units"].tolist() == dcs_first["walk_in_units"].tolist()
    assert (
        paired["store_first"].kpis["store_ship_share"] > paired["dc_first"].kpis["store_ship_share"]
    )
    lost_sf = stores_first["walk_in_lost_units"].sum()
    lost_dc = dcs_first["walk_in_lost_units"].sum()
    assert lost_sf > 1.5 * lost_dc  # seen: 3,660 against 1,363 units


def test_walk_in_chart_shows_the_lost_share_per_policy(paired) -> None:
    fig = figures.walk_in_lost(list(paired.values()))
    (bar,) = fig.data
    assert list(bar.x) == ["store_first", "dc_first"]
    for name, share in zip(bar.x, bar.y, strict=True):
        util = paired[name].utilisation
        assert share == pytest.approx(
            util["walk_in_lost_units"].sum() / util["walk_in_units"].sum()
        )
    empty = figures.walk_in_lost(pd.DataFrame({"walk_in_units": [0], "walk_in_lost_units": [0]}))
    assert not empty.data and "no walk-in sales" in empty.layout.annotations[0].text
    assert not figures.walk_in_lost(None).data


def _world(overrides: dict, days: int = 3) -> World:
    return World.build(load_scenario("default", overrides=overrides), "closest", seed=4, days=days)


def test_a_stock_override_changes_the_stock_not_what_walk_in_customers_ask_for() -> None:
    base = _world({})
    row = base.loc_ids.index("STORE-01")
    asked = base.pos_demand.sku[base.pos_demand.store == row]
    top = int(np.bincount(asked).argmax())
    cell = {"location": "STORE-01", "sku": base.sku_ids[top], "on_hand": 0, "safety_stock": 0}
    emptied = _world({"inventory.overrides": [cell]})
    assert emptied.initial[row, top] == 0 < base.initial[row, top]
    assert np.array_equal(emptied.ranged, base.ranged)
    for name in ("time_h", "store", "sku", "qty"):
        assert np.array_equal(getattr(emptied.pos_demand, name), getattr(base.pos_demand, name))


def test_store_stock_is_sized_on_the_walk_in_split_over_the_range() -> None:
    # online orders only shipped: a store's stock is for its walk-in customers alone
    ship_only = {f"demand.channels.{c}.methods": {"ship": 1.0}
                 for c in ("web", "app", "marketplace", "social")}  # fmt: skip
    w = _world(ship_only, days=1)
    scn = w.scn
    cover = scn.inventory.initial_days_of_cover.store
    walk_in = scn.demand.channels.pos.sales_per_store_per_day * basket_units(
        scn.demand.channels.pos.basket
    )
    pop = w.catalogue.popularity
    for row in np.flatnonzero(w.is_store).tolist():
        mass = pop[w.ranged[row]].sum()
        assert 0.5 < mass < 1.0
        expected = cover * walk_in * pop / mass  # units for the SKUs it carries
        carried = np.flatnonzero(w.ranged[row])
        assert np.all(np.abs(w.initial[row, carried] - expected[carried]) <= 1.0)
        assert np.all(w.initial[row, ~w.ranged[row]] == 0)


def test_safety_stock_alone_puts_a_sku_in_the_range() -> None:
    w = _world({"inventory.initial_days_of_cover.store": 0, "inventory.safety_stock_days": 3})
    stores = np.flatnonzero(w.is_store)
    assert not w.initial[stores].any()
    assert w.ranged[stores].any()
    assert np.array_equal(w.ranged[stores], w.ledger.safety_stock[stores] > 0)
    pos = w.pos_demand
    assert w.ranged[pos.store, pos.sku].all()


def test_a_store_that_carries_nothing_is_asked_for_the_whole_catalogue() -> None:
    bare = {"inventory.initial_days_of_cover.store": 0, "inventory.safety_stock_days": 0}
    w = _world(bare, days=2)
    stores = np.flatnonzero(w.is_store)
    assert not w.ranged[stores].any()
    pos = w.pos_demand
    assert len(pos) > 1_000 and np.unique(pos.sku).size > 300
    w.run()
    assert w.pos.lost_by_row.sum() == w.pos.units_by_row.sum() > 0  # nothing on the shelves
