"""Walk-in (POS) sales per store: the counts add up to the physical books, ship-from-store
costs walk-in sales (a paired comparison on the same demand), and the chart reads them."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import figures, run

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
