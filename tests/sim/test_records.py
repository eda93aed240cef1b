"""The result tables store low-cardinality text as categoricals: same values, less memory."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.model.arrivals import CHANNELS, METHODS
from sim.records import (
    LOCATION_KINDS,
    ORDER_STATUSES,
    PACKAGE_STATUSES,
    Recorder,
    RunMeta,
    categorical,
    concat,
)
from sim.scenario.build import build_catalogue, build_network
from sim.scenario.sections import ONLINE_CHANNELS

#: The categorical columns of every table; the other text columns stay plain strings.
CATEGORICAL = {
    "orders": ["channel", "method", "requested_method", "region", "status"],
    "lines": ["sku"],
    "shipments": ["location", "location_kind", "method", "status"],
    "events": ["kind", "location", "sku"],
    "inventory": ["location", "kind"],
    "utilisation": ["location", "kind"],
}
PLAIN_TEXT = {"order_id", "detail"}
NAN = math.nan


def values(column: pd.Series) -> list:
    """The column's values as Python objects, None where missing."""
    return [None if pd.isna(v) else v for v in column]


def hand_made_tables(policy: str = "closest") -> dict[str, pd.DataFrame]:
    """Three orders, four lines, three packages and three events, by hand."""
    rec = Recorder(n_orders=3, n_lines=4)
    rec.o_status[:] = [ORDER_STATUSES.index(s) for s in ("delivered", "cancelled", "created")]
    rec.package(1, 0, 2, 1, "picked_up", 1, 0.0, 0, 0.0, 2.0, 5.0, 6.0, 7.0, 9.0, 10.0)
    rec.package(0, 0, 0, 0, "delivered", 2, 300.0, 4, 8.0, 1.0, 1.0, 2.0, 3.0, 30.0, 40.0)
    rec.package(0, 1, 1, 0, "rejected", 1, NAN, 0, 0.0, 0.0, 1.0, NAN, NAN, NAN, 40.0)
    rec.event(2.0, "stockout", order=1, sku=2, qty=1)
    rec.event(1.0, "outage_start", location=1)
    rec.event(3.0, "cancel", order=2, qty=1, detail="refund 1.00")
    demand = {
        "channel": categorical(np.array([0, 1, 0]), CHANNELS),
        "method": categorical(np.array([0, 1, 0]), METHODS),
        "requested_method": categorical(np.array([0, 1, 1]), METHODS),
        "region": categorical(np.array([1, 0, 1]), ("Austin, TX", "Boston, MA")),
        "created_h": np.array([0.5, 1.5, 2.5]),
        "units_ordered": np.array([3, 1, 1]),
        "in_warmup": np.array([False, False, True]),
    }
    lines = {
        "order": np.array([0, 0, 1, 2]),
        "line": np.array([0, 1, 0, 0]),
        "sku": np.array([2, 0, 1, 2]),
        "units_ordered": np.array([2, 1, 1, 1]),
    }
    kinds = categorical(
        [LOCATION_KINDS.index(k) for k in ("warehouse", "store", "store")], LOCATION_KINDS
    )
    return rec.frames(
        RunMeta("toy", policy, 0, 7),
        np.array(["O1", "O2", "O3"], dtype=object),
        demand,
        lines,
        ("DC-1", "S-1", "S-2"),
        kinds,
        ("SKU-A", "SKU-B", "SKU-C"),
        METHODS,
    )


def test_hand_made_tables_hold_the_expected_values_and_missing_stays_missing() -> None:
    t = hand_made_tables()
    orders, lines, shipments, events = t["orders"], t["lines"], t["shipments"], t["events"]
    assert values(orders["status"]) == ["delivered", "cancelled", "created"]
    assert values(orders["policy"]) == ["closest"] * 3
    assert values(orders["scenario"]) == ["toy"] * 3
    assert values(lines["sku"]) == ["SKU-C", "SKU-A", "SKU-B", "SKU-C"]
    # shipments are sorted by order id, release time and package
    assert values(shipments["order_id"]) == ["O1", "O1", "O2"]
    assert values(shipments["location"]) == ["DC-1", "S-1", "S-2"]
    assert values(shipments["location_kind"]) == ["warehouse", "store", "store"]
    assert values(shipments["method"]) == ["ship", "ship", "bopis"]
    assert values(shipments["status"]) == ["delivered", "rejected", "picked_up"]
    # events are sorted by time; an event without an order, location or SKU has none
    assert values(events["kind"]) == ["outage_start", "stockout", "cancel"]
    assert values(events["order_id"]) == [None, "O2", "O3"]
    assert values(events["location"]) == ["S-1", None, None]
    assert values(events["sku"]) == [None, "SKU-C", None]
    assert values(events["detail"]) == ["", "", "refund 1.00"]
    # category order: vocabularies in their documented order, event kinds alphabetically
    assert list(orders["status"].cat.categories) == list(ORDER_STATUSES)
    assert list(shipments["status"].cat.categories) == list(PACKAGE_STATUSES)
    assert list(shipments["method"].cat.categories) == list(METHODS)
    assert list(shipments["location"].cat.categories) == ["DC-1", "S-1", "S-2"]
    assert list(events["kind"].cat.categories) == ["cancel", "outage_start", "stockout"]
    assert orders["replication"].dtype == np.int64 and orders["seed"].dtype == np.int64


def test_concat_keeps_categoricals_with_the_union_of_categories() -> None:
    a, b = hand_made_tables("closest")["orders"], hand_made_tables("cost")["orders"]
    both = concat([a, b])
    assert isinstance(both["policy"].dtype, pd.CategoricalDtype)
    assert list(both["policy"].cat.categories) == ["closest", "cost"]
    assert values(both["policy"]) == ["closest"] * 3 + ["cost"] * 3
    plain = pd.concat([a.astype({"policy": str}), b.astype({"policy": str})], ignore_index=True)
    assert values(both["policy"]) == values(plain["policy"])
    assert list(both.index) == list(range(6))
    assert isinstance(both["status"].dtype, pd.CategoricalDtype)  # same categories: kept


@pytest.fixture(scope="module")
def small_run():
    scn = load_scenario("default")
    ch = scn.demand.channels
    over: dict[str, object] = {
        f"demand.channels.{c}.orders_per_day": getattr(ch, c).orders_per_day * 0.1
        for c in ONLINE_CHANNELS
    }
    over["disruptions.outages"] = [{"location": "STORE-03", "start_day": 1, "days": 1}]
    scn = load_scenario("default", overrides=over)
    return scn, run(scn, "closest", 11, days=3)


@pytest.mark.parametrize("name", list(CATEGORICAL))
def test_run_tables_store_low_cardinality_text_as_categoricals(small_run, name: str) -> None:
    scn, result = small_run
    table = getattr(result, name)
    assert len(table) > 0
    for column in table.columns:
        dtype = table[column].dtype
        if column in ("scenario", "policy", *CATEGORICAL[name]):
            assert isinstance(dtype, pd.CategoricalDtype), (column, dtype)
        elif column in PLAIN_TEXT:
            assert pd.api.types.is_string_dtype(dtype), (column, dtype)
            assert not isinstance(dtype, pd.CategoricalDtype), column
        else:
            assert pd.api.types.is_numeric_dtype(dtype), (column, dtype)  # numbers as before
    assert set(values(table["scenario"])) == {scn.name}
    assert set(values(table["policy"])) == {"closest"}
    # categories are the scenario's own vocabularies, independent of the run
    network = build_network(scn)
    kind_of = {x.id: str(x.kind.value) for x in network.locations}
    if "location" in table:
        assert list(table["location"].cat.categories) == [x.id for x in network.locations]
    if "location_kind" in table:
        expected = [kind_of[x] for x in table["location"].astype(str)]
        assert values(table["location_kind"]) == expected
    if name in ("inventory", "utilisation"):
        assert values(table["kind"]) == [kind_of[x] for x in table["location"].astype(str)]
    if "sku" in table:
        assert list(table["sku"].cat.categories) == list(build_catalogue(scn).skus)
    if name == "orders":
        assert list(table["channel"].cat.categories) == list(CHANNELS)
        assert set(values(table["method"])) <= set(METHODS)
        assert set(values(table["status"])) <= set(ORDER_STATUSES)
    if name == "events":
        kinds = list(table["kind"].cat.categories)
        assert kinds == sorted(kinds) and {"outage_start", "outage_end"} <= set(kinds)
        assert table["location"].isna().any() and table["location"].notna().any()


@pytest.mark.parametrize("name", ["orders", "lines", "shipments", "events"])
def test_categorical_tables_take_less_memory_than_plain_strings(small_run, name: str) -> None:
    table = getattr(small_run[1], name)
    plain = table.astype(dict.fromkeys(["scenario", "policy", *CATEGORICAL[name]], "str"))
    assert table.memory_usage(deep=True).sum() < plain.memory_usage(deep=True).sum()


def test_tables_round_trip_through_parquet(small_run, tmp_path) -> None:
    for name in CATEGORICAL:
        table = getattr(small_run[1], name)
        table.to_parquet(tmp_path / f"{name}.parquet", index=False)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{name}.parquet"), table)


def frames_args(order_ids: list[str]) -> tuple:
    """`Recorder.frames` arguments for orders with these ids, no lines, one DC, one SKU."""
    n, empty = len(order_ids), np.zeros(0, dtype=np.int64)
    zeros = np.zeros(n, np.int8)
    demand = {
        "channel": categorical(zeros, CHANNELS),
        "method": categorical(zeros, METHODS),
        "requested_method": categorical(zeros, METHODS),
        "region": categorical(zeros, ("Austin, TX",)),
        "created_h": np.zeros(n),
        "units_ordered": np.ones(n, np.int64),
        "in_warmup": np.zeros(n, bool),
    }
    lines = {"order": empty, "line": empty, "sku": empty, "units_ordered": empty}
    ids = np.array(order_ids, dtype=object)
    kinds = categorical([0], LOCATION_KINDS)
    return (
        RunMeta("toy", "closest", 0, 7),
        ids,
        demand,
        lines,
        ("DC-1",),
        kinds,
        ("SKU-A",),
        METHODS,
    )


def shipment_order(order_ids: list[str]) -> list[tuple[str, float, int]]:
    """(order_id, released_h, package) of the shipments table built from rows recorded out
    of order, with the given order ids."""
    rec = Recorder(n_orders=3, n_lines=0)
    for order, package, released in ((2, 0, 5.0), (0, 1, 1.0), (1, 0, 3.0), (0, 0, 1.0),
                                      (0, 0, 0.5), (2, 1, 4.0)):  # fmt: skip
        rec.package(order, package, 0, 0, "delivered", 1, 1.0, 1, 1.0, 1.0, released,
                    NAN, NAN, NAN, NAN)  # fmt: skip
    s = rec.frames(*frames_args(order_ids))["shipments"]
    return list(zip(s["order_id"], s["released_h"], s["package"], strict=True))


@pytest.mark.parametrize("ids", [["O1", "O2", "O3"], ["C", "A", "B"], ["B", "A", "B"]])
def test_shipments_are_sorted_by_order_id_release_and_package(ids):
    rows = shipment_order(ids)
    assert rows == sorted(rows)  # by id text, also when ids do not sort like indices
    assert len(rows) == 6 and {r[0] for r in rows} == set(ids)


def test_the_world_is_freed_before_the_tables_are_built(monkeypatch):
    """The big tables are built only once the world (ledger, audit log, engine) is gone,
    so a million-order run does not hold both at its peak."""
    import weakref

    from sim.model.world import World

    built, alive_at_frames = [], []
    build, frames = World.build, Recorder.frames

    def remember(*args, **kwargs):
        w = build(*args, **kwargs)
        built.append(weakref.ref(w))
        return w

    def check(self, *args, **kwargs):
        alive_at_frames.append(built[0]() is not None)
        return frames(self, *args, **kwargs)

    monkeypatch.setattr(World, "build", staticmethod(remember))
    monkeypatch.setattr(Recorder, "frames", check)
    result = run(load_scenario("default"), "closest", 1, days=1)
    assert alive_at_frames == [False]
    assert len(result.shipments) > 0


def test_frames_runs_once():
    rec = Recorder(n_orders=0, n_lines=0)
    args = frames_args([])
    tables = rec.frames(*args)
    assert all(len(t) == 0 for t in tables.values())
    text = tables["orders"]["status"].dtype.categories.dtype
    assert tables["events"]["kind"].dtype.categories.dtype == text  # like every other table
    with pytest.raises(RuntimeError, match="once"):
        rec.frames(*args)


def test_concat_of_tables_without_events_keeps_values():
    with_kind = pd.DataFrame({"kind": categorical([0], ["stockout"])})
    no_kind = pd.DataFrame({"kind": pd.Categorical([], categories=pd.Index([], dtype=object))})
    stacked = concat([with_kind, no_kind, with_kind])
    assert list(stacked["kind"].astype(str)) == ["stockout", "stockout"]


def test_every_numeric_shipment_column_and_the_run_identity_land_on_their_rows() -> None:
    t = hand_made_tables()
    s, orders = t["shipments"], t["orders"]
    expected = {
        "released_h": [1.0, 1.0, 5.0],
        "picked_h": [2.0, NAN, 6.0],
        "shipped_h": [3.0, NAN, 7.0],
        "delivered_h": [30.0, NAN, 9.0],
        "promised_h": [40.0, 40.0, 10.0],
        "shipping_cost": [8.0, 0.0, 0.0],
        "handling_cost": [1.0, 0.0, 2.0],
        "miles": [300.0, NAN, 0.0],
    }
    for column, want in expected.items():
        np.testing.assert_allclose(s[column].to_numpy(float), want, err_msg=column)
    assert (orders["replication"] == 0).all() and (orders["seed"] == 7).all()


def test_event_details_follow_their_events_when_sorted_by_time() -> None:
    rec = Recorder(n_orders=1, n_lines=0)
    rec.event(2.0, "b", detail="second")
    rec.event(1.0, "a", detail="first")
    events = rec.frames(*frames_args(["O1"]))["events"]
    assert list(events["kind"]) == ["a", "b"] and list(events["detail"]) == ["first", "second"]
