"""Key performance indicators of a run, computed from its tidy tables.

`compute_kpis` is a pure function of the orders, lines and shipments tables, so it can be
tested on a hand-made table and reused on tables read back from Parquet. Every KPI is
computed over online orders (web, app, marketplace, social) created after the warm-up:
POS sales are not orders, and wholesale (B2B) orders, routed only to wholesale DCs under
every policy, stay in the tables but not in the KPIs. A KPI whose denominator is empty
is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.scenario.sections import ONLINE_CHANNELS

__all__ = [
    "KPI_NAMES",
    "KPI_UNITS",
    "STORE_KINDS",
    "compute_kpis",
    "kpi_bounds",
    "online_mask",
]

KPI_UNITS: dict[str, str] = {
    "orders": "orders",
    "units_demanded": "units",
    "fill_rate": "share",
    "stockout_rate": "share",
    "oversell_rate": "share",
    "cost_per_order": "USD",
    "shipping_cost_per_order": "USD",
    "handling_cost_per_order": "USD",
    "packages_per_order": "packages",
    "split_rate": "share",
    "click_to_door_hours_mean": "h",
    "click_to_door_hours_p90": "h",
    "on_time_rate": "share",
    "bopis_ready_hours_p90": "h",
    "store_ship_share": "share",
    "returns_units": "units",
    "returns_restocked_units": "units",
}
"""The KPIs, in display order, with the unit tables and chart axes show."""

KPI_NAMES: tuple[str, ...] = tuple(KPI_UNITS)
"""The KPI names, in display order (same in code, CLI JSON, app and docs)."""

#: KPIs where a larger value is better / worse; the counts and shares without a better
#: direction are in neither.
HIGHER_IS_BETTER = {"fill_rate", "on_time_rate"}
NO_DIRECTION = {"orders", "units_demanded", "store_ship_share", "returns_units",
                "returns_restocked_units"}  # fmt: skip
LOWER_IS_BETTER = set(KPI_NAMES) - HIGHER_IS_BETTER - NO_DIRECTION


def kpi_bounds(kpi: str) -> tuple[float, float]:
    """The values a KPI can take: a share lies in [0, 1], the other KPIs are >= 0, and
    a name that is not a KPI is unbounded."""
    unit = KPI_UNITS.get(kpi)
    if unit is None:
        return -math.inf, math.inf
    return (0.0, 1.0) if unit == "share" else (0.0, math.inf)


STORE_KINDS = ("store", "dark_store")
SHIPPED_METHODS = ("ship", "same_day")
_NAN = math.nan


def online_mask(orders: pd.DataFrame) -> np.ndarray:
    """Per row, whether it is an online order (every row without a ``channel`` column)."""
    if "channel" not in orders.columns:
        return np.ones(len(orders), dtype=bool)
    return orders["channel"].isin(ONLINE_CHANNELS).to_numpy(dtype=bool)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else _NAN


def _p90(x: np.ndarray) -> float:
    return float(np.percentile(x, 90)) if x.size else _NAN


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else _NAN


class _Rows:
    """One table's rows of online orders created after the warm-up, read one column at a
    time (a table of a million orders is never copied whole).

    Args:
        df: The table, or None.
        other: Ids of the orders of other channels, left out by ``order_id``; None reads
            the table's own ``channel`` column instead.
    """

    def __init__(self, df: pd.DataFrame | None, other: pd.Series | None = None) -> None:
        self.df = df
        self.keep: np.ndarray | None = None
        if df is None or df.empty:
            return
        if "in_warmup" in df.columns:
            self.keep = ~df["in_warmup"].to_numpy(dtype=bool)
        if other is None and "channel" in df.columns:
            online = online_mask(df)
        elif other is not None and len(other) and "order_id" in df.columns:
            online = ~df["order_id"].isin(other).to_numpy(dtype=bool)
        else:
            return
        self.keep = online if self.keep is None else self.keep & online

    def others(self) -> pd.Series:
        """Order ids of the table's rows of channels other than online (all rows)."""
        if self.df is None or self.df.empty or "channel" not in self.df.columns:
            return pd.Series([], dtype=object)
        df = self.df
        return df["order_id"][~online_mask(df)]

    def __len__(self) -> int:
        if self.df is None:
            return 0
        return len(self.df) if self.keep is None else int(self.keep.sum())

    def _rows(self, values: np.ndarray) -> np.ndarray:
        return values if self.keep is None else values[self.keep]

    def __call__(self, name: str) -> np.ndarray:
        """Column `name` (numbers) of the kept rows."""
        assert self.df is not None
        return self._rows(self.df[name].to_numpy())

    def total(self, name: str, where: np.ndarray | None = None) -> float:
        """Sum of column `name` over the kept rows (or those of them `where` is True),
        missing values skipped (as `pandas.Series.sum`)."""
        values = self(name)
        return np.nansum(values if where is None else values[where])

    def isin(self, name: str, values: tuple[str, ...]) -> np.ndarray:
        """Whether column `name` holds one of `values`, per kept row (bool)."""
        assert self.df is not None
        return self._rows(self.df[name].isin(values).to_numpy(dtype=bool))


def compute_kpis(tables: Mapping[str, pd.DataFrame]) -> dict[str, float]:
    """Compute every KPI from a run's tables.

    Definitions (orders created after the warm-up; ``n_pkg`` = orders with >= 1 package):

    - ``orders``, ``units_demanded``: count of online orders and their units (after
      customer edits, cancellations and BOPIS no-shows; wholesale orders are left out of
      every KPI).
    - ``fill_rate`` = units fulfilled (handed to a carrier or picked up) / units demanded.
    - ``stockout_rate`` = units lost / units demanded: units with no ATS at any eligible
      location at routing, or, after a location rejected their package, at re-routing
      (or every unit of the package when ``operations.oversell_action`` is ``cancel``).
      A finished order's units are fulfilled or lost, so the two rates add up to 1 less
      the share still in flight.
    - ``oversell_rate`` = units accepted but found missing at pick time (rejected by a
      location; a unit once, however often its package is re-routed) / units demanded.
    - ``shipping_cost_per_order``, ``handling_cost_per_order`` = total cost / ``n_pkg``
      [USD]; ``cost_per_order`` is their sum.
    - ``packages_per_order`` = packages / ``n_pkg``; ``split_rate`` = share of those orders
      with more than one package.
    - ``click_to_door_hours_mean`` / ``_p90`` = ``delivered_h - created_h`` over ship and
      same-day orders with a delivery (last package). [h]
    - ``on_time_rate`` = share of those delivered orders with ``delivered_h <= promised_h``
      (the router's estimate at the first placement, so a slower policy also promises
      later: it measures promises kept, not speed).
    - ``bopis_ready_hours_p90`` = ``ready_h - created_h`` over BOPIS orders made ready. [h]
    - ``store_ship_share`` = share of shipped packages (ship and same-day, handed to a
      carrier) that left a store or dark store.
    - ``returns_units``, ``returns_restocked_units``: units of these orders returned and
      restocked within the horizon (so they grow when deliveries come sooner). [units]

    Args:
        tables: Mapping with ``orders`` (columns as in `sim.records.ORDER_COLUMNS`) and
            optionally ``lines`` and ``shipments`` (`LINE_COLUMNS`, `SHIPMENT_COLUMNS`).

    Returns:
        KPI name -> float, exactly the names of `KPI_NAMES`, in that order.
    """
    orders = _Rows(tables["orders"])
    other = orders.others()
    lines = _Rows(tables.get("lines"), other)
    shipments = _Rows(tables.get("shipments"), other)
    units = float(orders.total("units")) if len(orders) else 0.0
    out: dict[str, float] = {
        "orders": float(len(orders)),
        "units_demanded": units,
        "fill_rate": _ratio(orders.total("units_fulfilled"), units),
        "stockout_rate": _ratio(orders.total("units_lost"), units),
        "oversell_rate": _ratio(orders.total("units_oversold"), units),
    }
    packages = orders("packages")
    with_pkg = packages >= 1
    n_pkg = int(with_pkg.sum())
    shipping = _ratio(orders.total("shipping_cost", with_pkg), n_pkg)
    handling = _ratio(orders.total("handling_cost", with_pkg), n_pkg)
    out["cost_per_order"] = shipping + handling
    out["shipping_cost_per_order"] = shipping
    out["handling_cost_per_order"] = handling
    out["packages_per_order"] = _ratio(packages[with_pkg].sum(), n_pkg)
    out["split_rate"] = _ratio((packages > 1).sum(), n_pkg)

    created, delivered = orders("created_h").astype(float), orders("delivered_h").astype(float)
    shipped = orders.isin("method", SHIPPED_METHODS) & ~np.isnan(delivered)
    c2d = delivered[shipped] - created[shipped]
    out["click_to_door_hours_mean"] = _mean(c2d)
    out["click_to_door_hours_p90"] = _p90(c2d)
    on_time = delivered[shipped] <= orders("promised_h").astype(float)[shipped]
    out["on_time_rate"] = _mean(on_time.astype(float))
    ready = orders("ready_h").astype(float)
    bopis = orders.isin("method", ("bopis",)) & ~np.isnan(ready)
    out["bopis_ready_hours_p90"] = _p90(ready[bopis] - created[bopis])

    if len(shipments):
        sent = shipments.isin("method", SHIPPED_METHODS) & ~np.isnan(
            shipments("shipped_h").astype(float)
        )
        from_store = shipments.isin("location_kind", STORE_KINDS)[sent]
        out["store_ship_share"] = _mean(from_store.astype(float))
    else:
        out["store_ship_share"] = _NAN
    if len(lines):
        out["returns_units"] = float(lines.total("units_returned"))
        out["returns_restocked_units"] = float(lines.total("units_restocked"))
    else:
        out["returns_units"] = 0.0
        out["returns_restocked_units"] = 0.0
    return {name: float(out[name]) for name in KPI_NAMES}
