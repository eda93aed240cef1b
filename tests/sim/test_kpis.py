"""KPIs on a hand-made table, checked against numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.kpis import KPI_NAMES, compute_kpis

NAN = math.nan


def _orders() -> pd.DataFrame:
    # o1: warm-up (ignored). o2: ship, 2 packages, delivered late. o3: ship, 1 package,
    # on time. o4: BOPIS ready after 3 h, picked up. o5: stockout, nothing shipped.
    # o6: same-day, 1 package, oversold 1 unit then re-routed and delivered.
    rows = [
        # id, method, created, promised, units, fulfilled, lost, oversold, pkgs, ship$, hand$,
        # delivered, ready, warm-up
        ("o1", "ship", 1.0, 50.0, 9, 9, 0, 0, 1, 99.0, 99.0, 40.0, NAN, True),
        ("o2", "ship", 100.0, 148.0, 3, 3, 0, 0, 2, 20.0, 4.0, 160.0, NAN, False),
        ("o3", "ship", 110.0, 160.0, 1, 1, 0, 0, 1, 10.0, 2.0, 150.0, NAN, False),
        ("o4", "bopis", 120.0, 122.0, 2, 2, 0, 0, 1, 0.0, 3.0, NAN, 123.0, False),
        ("o5", "ship", 130.0, NAN, 2, 0, 2, 0, 0, 0.0, 0.0, NAN, NAN, False),
        ("o6", "same_day", 140.0, 144.0, 2, 2, 0, 1, 1, 6.0, 3.0, 144.0, NAN, False),
    ]
    cols = [
        "order_id", "method", "created_h", "promised_h", "units", "units_fulfilled",
        "units_lost", "units_oversold", "packages", "shipping_cost", "handling_cost",
        "delivered_h", "ready_h", "in_warmup",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _shipments() -> pd.DataFrame:
    rows = [
        ("o1", "ship", "warehouse", 1.0, True),
        ("o2", "ship", "warehouse", 101.0, False),
        ("o2", "ship", "store", 102.0, False),
        ("o3", "ship", "dark_store", 111.0, False),
        ("o4", "bopis", "store", NAN, False),
        ("o6", "same_day", "store", NAN, False),  # rejected: never shipped
        ("o6", "same_day", "warehouse", 141.0, False),
    ]
    return pd.DataFrame(rows, columns=["order_id", "method", "location_kind", "shipped_h",
                                       "in_warmup"])  # fmt: skip


def _lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "units_returned": [5, 2, 1, 0],
            "units_restocked": [5, 1, 0, 0],
            "in_warmup": [True, False, False, False],
        }
    )


def test_kpis_on_a_hand_made_table() -> None:
    k = compute_kpis({"orders": _orders(), "lines": _lines(), "shipments": _shipments()})
    assert list(k) == list(KPI_NAMES)
    assert k["orders"] == 5
    assert k["units_demanded"] == 10
    assert k["fill_rate"] == pytest.approx(8 / 10)
    assert k["stockout_rate"] == pytest.approx(2 / 10)
    assert k["oversell_rate"] == pytest.approx(1 / 10)
    # four orders have packages: shipping 20+10+0+6, handling 4+2+3+3
    assert k["shipping_cost_per_order"] == pytest.approx(36 / 4)
    assert k["handling_cost_per_order"] == pytest.approx(12 / 4)
    assert k["cost_per_order"] == pytest.approx(48 / 4)
    assert k["packages_per_order"] == pytest.approx(5 / 4)
    assert k["split_rate"] == pytest.approx(1 / 4)
    c2d = np.array([60.0, 40.0, 4.0])  # o2, o3, o6
    assert k["click_to_door_hours_mean"] == pytest.approx(c2d.mean())
    assert k["click_to_door_hours_p90"] == pytest.approx(np.percentile(c2d, 90))
    assert k["on_time_rate"] == pytest.approx(2 / 3)  # o2 is 12 h late
    assert k["bopis_ready_hours_p90"] == pytest.approx(3.0)
    # shipped packages after warm-up: warehouse, store, dark_store, warehouse
    assert k["store_ship_share"] == pytest.approx(2 / 4)
    assert k["returns_units"] == 3
    assert k["returns_restocked_units"] == 1


def test_empty_denominators_give_nan() -> None:
    orders = _orders().iloc[:1]  # only a warm-up order
    k = compute_kpis({"orders": orders})
    assert k["orders"] == 0 and k["units_demanded"] == 0
    for name in ("fill_rate", "cost_per_order", "split_rate", "click_to_door_hours_p90",
                 "on_time_rate", "bopis_ready_hours_p90", "store_ship_share"):  # fmt: skip
        assert math.isnan(k[name]), name
    assert k["returns_units"] == 0


def test_kpi_directions_name_real_kpis_and_do_not_overlap() -> None:
    from sim.kpis import HIGHER_IS_BETTER, KPI_NAMES, LOWER_IS_BETTER, NO_DIRECTION

    assert set(KPI_NAMES) >= HIGHER_IS_BETTER | NO_DIRECTION
    assert not HIGHER_IS_BETTER & LOWER_IS_BETTER and not HIGHER_IS_BETTER & NO_DIRECTION
    # every rate, cost and time KPI has a better direction; a new KPI lands in one of them
    assert {
        "stockout_rate", "oversell_rate", "cost_per_order", "shipping_cost_per_order",
        "handling_cost_per_order", "packages_per_order", "split_rate",
        "click_to_door_hours_mean", "click_to_door_hours_p90", "bopis_ready_hours_p90",
    } == LOWER_IS_BETTER  # fmt: skip


def test_missing_values_are_skipped_in_sums_as_pandas_does() -> None:
    """A table read back with gaps (NaN or NA) counts what is there, like Series.sum."""
    orders, lines = _orders(), _lines()
    orders["units"] = orders["units"].astype(float)
    orders.loc[orders.order_id == "o5", ["units", "units_lost"]] = NAN
    lines["units_returned"] = pd.array([5, 2, None, 0], dtype="Int64")
    k = compute_kpis({"orders": orders, "lines": lines})
    assert k["units_demanded"] == 8  # o5's 2 units are missing
    assert k["stockout_rate"] == 0  # and so are its lost units
    assert k["fill_rate"] == pytest.approx(8 / 8)
    assert k["returns_units"] == 2  # o3's line is missing


def test_wholesale_orders_are_left_out_of_every_kpi() -> None:
    """A B2B order (its lines and packages too) changes no KPI; without a channel column
    every order counts, as before."""
    tables = {"orders": _orders(), "lines": _lines(), "shipments": _shipments()}
    base = compute_kpis(tables)
    orders = pd.concat([tables["orders"], tables["orders"].iloc[[2]].assign(order_id="w1")])
    orders["channel"] = ["web"] * 6 + ["wholesale"]  # w1: a copy of o3, B2B
    orders.loc[orders.order_id == "w1", ["units_lost", "units_oversold"]] = [3, 1]
    lines = pd.concat([tables["lines"], pd.DataFrame(
        {"order_id": ["w1"], "units_returned": [7], "units_restocked": [7], "in_warmup": [False]}
    )])  # fmt: skip
    shipments = pd.concat([tables["shipments"], pd.DataFrame(
        {"order_id": ["w1", "w1"], "method": ["ship", "ship"], "location_kind": ["store"] * 2,
         "shipped_h": [101.0, 102.0], "in_warmup": [False, False]}
    )])  # fmt: skip
    with_b2b = compute_kpis({"orders": orders, "lines": lines, "shipments": shipments})
    assert with_b2b == pytest.approx(base, nan_ok=True)
    counted = compute_kpis({"orders": orders.drop(columns="channel"), "lines": lines,
                            "shipments": shipments})  # fmt: skip
    assert counted["orders"] == base["orders"] + 1
    assert counted["returns_units"] == base["returns_units"] + 7
