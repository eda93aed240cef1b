"""Tests of `sim.figures` with small hand-made tables: trace types, counts, empty data."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from sim import figures
from sim.compare import SUMMARY_COLUMNS


def compare_table() -> pd.DataFrame:
    rows = []
    for policy, cost, p90 in [("closest", 10.0, 60.0), ("cost", 9.0, 70.0)]:
        for kpi, mean in [("cost_per_order", cost), ("click_to_door_hours_p90", p90)]:
            rows.append(
                {
                    "scenario": "toy",
                    "policy": policy,
                    "kpi": kpi,
                    "n": 3,
                    "mean": mean,
                    "ci_low": mean - 1,
                    "ci_high": mean + 2,
                    "baseline": "closest",
                    "diff": 0.0,
                    "diff_low": 0.0,
                    "diff_high": 0.0,
                }
            )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def orders_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "policy": ["closest"] * 4 + ["cost"] * 3,
            "replication": 0,
            "order_id": ["o1", "o2", "o3", "o4", "o1", "o2", "o3"],
            "method": ["ship", "ship", "bopis", "same_day", "ship", "ship", "ship"],
            "region": ["Boston, MA", "Austin, TX", "Austin, TX", "Boston, MA"] + ["Austin, TX"] * 3,
            "created_h": [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0],
            "delivered_h": [30.0, 50.0, math.nan, 10.0, 40.0, math.nan, 90.0],
            "packages": [1, 2, 1, 1, 1, 0, 1],
            "shipping_cost": [9.5, 20.0, 0.0, 9.2, 9.9, 0.0, 10.1],
            "handling_cost": [1.5, 3.0, 3.5, 3.5, 1.5, 0.0, 1.5],
            "in_warmup": [False, False, False, False, False, False, True],
        }
    )


def shipments_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "policy": "closest",
            "replication": 0,
            "order_id": ["o1", "o2", "o2", "o4"],
            "package": [0, 0, 1, 0],
            "location": ["DC-EAST", "DC-EAST", "S-1", "S-1"],
            "location_kind": ["warehouse", "warehouse", "store", "store"],
            "units": [1, 2, 1, 3],
            "picked_h": [5.0, 6.0, 7.0, 30.0],
        }
    )


def locations_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["DC-EAST", "S-1", "S-2"],
            "kind": ["warehouse", "store", "store"],
            "lat": [40.0, 42.36, 30.27],
            "lon": [-83.0, -71.06, -97.74],
        }
    )


def regions_table() -> pd.DataFrame:
    return pd.DataFrame(
        {"id": ["Boston, MA", "Austin, TX"], "lat": [42.36, 30.27], "lon": [-71.06, -97.74]}
    )


@dataclass
class FakeResult:
    policy: str = "closest"
    orders: pd.DataFrame = field(default_factory=orders_table)
    shipments: pd.DataFrame = field(default_factory=shipments_table)
    inventory: pd.DataFrame = field(default_factory=pd.DataFrame)


def types(fig: go.Figure) -> list[str]:
    return [t.type for t in fig.data]


def test_kpi_bars_has_error_bars():
    fig = figures.kpi_bars(compare_table(), "cost_per_order")
    assert types(fig) == ["bar"]
    bar = fig.data[0]
    assert list(bar.x) == ["closest", "cost"]
    assert list(bar.y) == [10.0, 9.0]
    assert list(bar.error_y.array) == [2.0, 2.0]
    assert list(bar.error_y.arrayminus) == [1.0, 1.0]
    assert fig.layout.yaxis.title.text == "cost_per_order (USD)"  # the KPI's unit


def test_kpi_bars_of_paired_differences_leave_out_the_baseline():
    table = compare_table()
    cost = (table["policy"] == "cost") & (table["kpi"] == "cost_per_order")
    table.loc[cost, ["diff", "diff_low", "diff_high"]] = [-1.0, -1.2, -0.7]
    fig = figures.kpi_bars(table, "cost_per_order", difference=True)
    bar = fig.data[0]
    assert list(bar.x) == ["cost"] and list(bar.y) == [-1.0]
    assert list(bar.error_y.array) == pytest.approx([0.3])
    assert list(bar.error_y.arrayminus) == pytest.approx([0.2])
    assert bar.marker.color == (figures.policy_colours(["closest", "cost"])["cost"],)
    assert "policy − closest" in fig.layout.title.text
    assert fig.layout.yaxis.title.text == "difference in cost_per_order (USD)"


def test_kpi_bars_of_an_undefined_kpi_say_so():
    table = compare_table()
    table["mean"] = float("nan")
    fig = figures.kpi_bars(table, "cost_per_order")
    assert len(fig.data) == 0 and "no value" in fig.layout.annotations[0].text


def test_ecdf_one_line_per_policy_excludes_bopis_and_warmup():
    fig = figures.click_to_door_ecdf(orders_table())
    assert types(fig) == ["scatter", "scatter"]
    closest, cost = fig.data
    assert list(closest.x) == [6.0, 29.0, 48.0]  # bopis order and undelivered dropped
    assert list(closest.y) == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert list(cost.x) == [39.0]  # warm-up order dropped


def test_ecdf_accepts_results_and_thins_big_samples():
    big = pd.DataFrame({"created_h": 0.0, "delivered_h": np.arange(5000.0), "method": "ship"})
    fig = figures.click_to_door_ecdf(big)
    assert len(fig.data) == 1 and len(fig.data[0].x) == figures.ECDF_POINTS
    fig = figures.click_to_door_ecdf([FakeResult(), FakeResult()])
    assert [t.name for t in fig.data] == ["closest", "cost"]  # tables concatenated
    assert len(fig.data[0].x) == 6


def test_cost_breakdown_per_order_with_packages():
    fig = figures.cost_breakdown(orders_table())
    assert types(fig) == ["bar", "bar"]
    shipping, handling = fig.data
    assert (shipping.name, handling.name) == ("shipping", "handling")
    # closest: orders o1, o2, o3 (bopis, 1 package), o4 -> 4 orders
    assert shipping.y[0] == pytest.approx((9.5 + 20.0 + 0.0 + 9.2) / 4)
    assert handling.y[0] == pytest.approx((1.5 + 3.0 + 3.5 + 3.5) / 4)
    # cost: o2 has no package, o3 is in warm-up -> only o1
    assert shipping.y[1] == pytest.approx(9.9)


def test_cost_and_speed_charts_leave_wholesale_out_as_the_kpis_do():
    """A B2B order changes neither chart (the KPIs cover online orders only)."""
    online = orders_table().assign(channel="web")
    b2b = online.iloc[[0]].assign(order_id="w1", channel="wholesale", shipping_cost=500.0,
                                  delivered_h=900.0)  # fmt: skip
    both = pd.concat([online, b2b], ignore_index=True)
    for build in (figures.cost_breakdown, figures.click_to_door_ecdf):
        with_b2b, without = build(both), build(online)
        assert [list(t.y) for t in with_b2b.data] == [list(t.y) for t in without.data]
    assert figures.cost_breakdown(both.drop(columns="channel")).data[0].y[0] > 100


def test_network_map_flows_and_kinds():
    fig = figures.network_map(FakeResult(), locations_table(), regions=regions_table())
    assert types(fig) == ["scattergeo"] * 3
    flows, warehouses, stores = fig.data
    assert flows.mode == "lines" and flows.name == "flows"
    # three location -> region flows: DC->Boston, DC->Austin, S-1->(Austin, Boston)
    assert sum(v is None for v in flows.lat) == 4
    assert warehouses.name == "warehouse" and stores.name == "store"
    assert len(stores.lat) == 2
    assert stores.marker.size[0] > stores.marker.size[1]  # S-1 shipped, S-2 did not


def test_network_map_draws_what_the_kpis_count():
    """Wholesale and warm-up orders, and packages rejected at pick, are not drawn."""
    orders = orders_table().iloc[:4].assign(channel=["web", "wholesale", "web", "web"],
                                            in_warmup=[False, False, False, True])  # fmt: skip
    shipments = shipments_table().assign(status=["delivered", "delivered", "delivered", "rejected"])
    result = FakeResult(orders=orders, shipments=shipments)
    fig = figures.network_map(result, locations_table(), regions=regions_table())
    flows, warehouses, stores = fig.data
    assert sum(v is None for v in flows.lat) == 1  # o1: DC-EAST -> Boston only
    assert warehouses.marker.size[0] > stores.marker.size[0] == stores.marker.size[1]


def test_network_map_draws_no_flow_lines_to_the_alaska_and_hawaii_insets():
    # the same flows, with the "Austin, TX" region placed at Honolulu
    hawaii = regions_table().assign(lat=[42.36, 21.31], lon=[-71.06, -157.86])
    fig = figures.network_map(FakeResult(), locations_table(), regions=hawaii)
    flows = fig.data[0]
    assert flows.name == "flows (none drawn to Alaska, Hawaii)"
    assert sum(v is None for v in flows.lat) == 2  # DC->Boston and S-1->Boston only
    assert 21.31 not in flows.lat and 42.36 in flows.lat


def test_network_map_accepts_engine_network():
    from engine.location import Location, LocationKind
    from engine.network import Network, Region

    network = Network(
        [
            Location("DC-EAST", LocationKind.WAREHOUSE, 40.0, -83.0, "America/New_York"),
            Location("S-1", LocationKind.STORE, 42.36, -71.06, "America/New_York"),
        ],
        regions=[Region("Boston, MA", 42.36, -71.06), Region("Austin, TX", 30.27, -97.74)],
    )
    fig = figures.network_map(FakeResult(), network)
    assert types(fig) == ["scattergeo"] * 3


def test_store_workload_counts_store_orders_per_day():
    fig = figures.store_workload(shipments_table())
    assert types(fig) == ["heatmap"]
    heat = fig.data[0]
    assert list(heat.y) == ["S-1"]
    assert list(heat.x) == [0, 1]
    assert heat.z.tolist() == [[1, 1]]
    assert fig.layout.xaxis.dtick == 1 and fig.layout.yaxis.dtick == 1  # whole days, all stores


def two_replications(frame: pd.DataFrame, rep1: pd.DataFrame | None = None) -> pd.DataFrame:
    """`frame` as replication 0 and `rep1` (default: `frame` again) as replication 1."""
    other = frame if rep1 is None else rep1
    return pd.concat([frame, other.assign(replication=1)], ignore_index=True)


def test_per_run_charts_of_several_runs_show_the_mean_run():
    """Order ids repeat in every run: several runs must neither merge nor pile up."""
    heat = figures.store_workload(two_replications(shipments_table()))
    assert heat.data[0].z.tolist() == [[1, 1]]  # the same run twice: the one run's counts
    assert heat.layout.title.text.endswith(", mean of 2 runs")
    fewer = shipments_table().iloc[:3]  # replication 1 picks nothing at S-1 on day 1
    assert figures.store_workload(two_replications(shipments_table(), fewer)).data[
        0
    ].z.tolist() == [[1.0, 0.5]]
    one = figures.network_map(FakeResult(), locations_table(), regions=regions_table())
    both = FakeResult(
        orders=two_replications(orders_table()), shipments=two_replications(shipments_table())
    )
    two = figures.network_map(both, locations_table(), regions=regions_table())
    assert two.layout.title.text == "Network and flows, mean of 2 runs"
    for a, b in zip(one.data[1:], two.data[1:], strict=True):  # the same marker sizes
        assert list(a.marker.size) == list(b.marker.size) and list(a.text) == list(b.text)
    assert list(one.data[0].lat) == list(two.data[0].lat)  # and the same flows


def test_store_workload_is_tall_enough_to_name_forty_stores():
    many = pd.DataFrame(
        {
            "location": [f"S-{i:02d}" for i in range(40)],
            "location_kind": "store",
            "order_id": [f"o{i}" for i in range(40)],
            "picked_h": 5.0,
        }
    )
    fig = figures.store_workload(many)
    assert len(fig.data[0].y) == 40 and fig.layout.height >= 18 * 40


def inventory_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "policy": "closest",
            "location": ["DC-EAST", "S-1", "S-2", "DC-EAST", "S-1", "S-2", "S-1"],
            "kind": ["warehouse", "store", "store", "warehouse", "store", "store", "store"],
            "day": [0, 0, 0, 1, 1, 1, None],  # the last row is a summary row, not a day
            "ats": [100, 5, 7, 90, 4, 6, 999],
        }
    )


def test_ats_over_time_by_kind():
    fig = figures.ats_over_time(inventory_table())
    assert types(fig) == ["scatter", "scatter"]
    warehouse, store = fig.data
    assert list(store.y) == [12, 10]
    assert list(warehouse.y) == [100, 90]
    assert not fig.layout.shapes  # no horizon given: no marker


def test_ats_over_time_colours_lines_by_policy_as_every_chart_does():
    two = pd.concat([inventory_table(), inventory_table().assign(policy="cost")])
    fig = figures.ats_over_time(two)
    colours = figures.policy_colours(["closest", "cost"])
    assert [(t.name, t.line.color, t.line.dash) for t in fig.data] == [
        ("closest / warehouse", colours["closest"], "solid"),
        ("closest / store", colours["closest"], "dash"),
        ("cost / warehouse", colours["cost"], "solid"),
        ("cost / store", colours["cost"], "dash"),
    ]


def test_ats_over_time_shows_only_the_days_with_demand():
    days = sorted(inventory_table()["day"].dropna().unique())  # two daily rows: 0 and 1
    clipped = figures.ats_over_time(inventory_table(), horizon_days=1)
    assert [list(t.x) for t in clipped.data] == [[0], [0]]  # day 1 only finishes orders
    assert [t.mode for t in clipped.data] == ["markers", "markers"]  # one day: a point
    assert "1 later day(s) finishing orders not shown" in clipped.layout.title.text
    whole = figures.ats_over_time(inventory_table(), horizon_days=len(days))
    assert [list(t.x) for t in whole.data] == [[0, 1], [0, 1]]
    assert whole.layout.title.text == "Stock over time"  # nothing left out, nothing said


def test_cost_speed_tradeoff_one_point_per_policy():
    fig = figures.cost_speed_tradeoff(compare_table())
    assert types(fig) == ["scatter", "scatter"]
    assert [t.name for t in fig.data] == ["closest", "cost"]
    assert list(fig.data[1].x) == [9.0] and list(fig.data[1].y) == [70.0]
    assert list(fig.data[0].error_x.array) == [2.0]
    assert fig.layout.xaxis.title.text == "cost_per_order (USD)"
    assert fig.layout.yaxis.title.text == "click_to_door_hours_p90 (h)"


@pytest.mark.parametrize(
    "build",
    [
        lambda d: figures.kpi_bars(d, "cost_per_order"),
        figures.click_to_door_ecdf,
        figures.cost_breakdown,
        lambda d: figures.network_map(d, d),
        figures.store_workload,
        figures.ats_over_time,
        figures.cost_speed_tradeoff,
    ],
)
@pytest.mark.parametrize("data", [pd.DataFrame(), None])
def test_builders_survive_empty_data(build, data):
    fig = build(data)
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 0
    assert fig.layout.annotations[0].text.startswith("no ")


def test_builders_survive_empty_tables_with_columns():
    assert len(figures.kpi_bars(compare_table().iloc[:0], "cost_per_order").data) == 0
    assert len(figures.click_to_door_ecdf(orders_table().iloc[:0]).data) == 0
    assert len(figures.store_workload(shipments_table().iloc[:0]).data) == 0
    empty_run = FakeResult(orders=orders_table().iloc[:0], shipments=shipments_table().iloc[:0])
    fig = figures.network_map(empty_run, locations_table(), regions=regions_table())
    assert types(fig) == ["scattergeo", "scattergeo"]  # locations only, no flows


def test_policy_colours_are_stable():
    colours = figures.policy_colours(["b", "a", "b"])
    assert list(colours) == ["b", "a"] and colours["b"] != colours["a"]


def categorical(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with its text columns (but ``order_id``) as categoricals, as a run's tables have
    them, each with a category that never occurs."""
    text = [c for c in df.columns if c != "order_id" and pd.api.types.is_string_dtype(df[c])]
    return df.astype({c: pd.CategoricalDtype([*df[c].dropna().unique(), "never"]) for c in text})


def two_runs(convert) -> list[FakeResult]:
    """Two runs' tables (policies "closest" and "cost"), each passed through `convert`."""
    return [
        FakeResult(
            orders=convert(orders_table().assign(policy=policy)),
            shipments=convert(shipments_table().assign(policy=policy)),
            inventory=convert(inventory_table().assign(policy=policy)),
        )
        for policy in ("closest", "cost")
    ]


@pytest.mark.parametrize(
    "build",
    [
        figures.click_to_door_ecdf,
        figures.cost_breakdown,
        lambda runs: figures.network_map(runs[0], locations_table(), regions=regions_table()),
        figures.store_workload,
        figures.ats_over_time,
    ],
)
def test_builders_draw_the_same_figure_from_categorical_tables(build):
    assert build(two_runs(categorical)).to_json() == build(two_runs(lambda df: df)).to_json()
