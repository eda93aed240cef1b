"""Columnar records of a run, turned into tidy pandas tables at the end.

The hot path only appends to typed arrays (`array.array`) or writes into preallocated numpy
columns; pandas is touched once, in `Recorder.frames`. Every table gets the ``scenario``,
``policy``, ``replication`` and ``seed`` columns.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "EVENT_COLUMNS",
    "LINE_COLUMNS",
    "ORDER_COLUMNS",
    "ORDER_STATUSES",
    "SHIPMENT_COLUMNS",
    "RunMeta",
    "Recorder",
]

ORDER_STATUSES = (
    "created",
    "routed",
    "released",
    "picked",
    "shipped",
    "ready_for_pickup",
    "delivered",
    "picked_up",
    "partially_fulfilled",
    "cancelled",
)
"""Order status vocabulary of the orders table (engine `OrderStatus` values)."""
TERMINAL_STATUSES = frozenset({"delivered", "picked_up", "partially_fulfilled", "cancelled"})

ORDER_COLUMNS = (
    "order_id", "channel", "method", "region", "created_h", "promised_h", "status", "units",
    "units_fulfilled", "units_lost", "units_oversold", "packages", "shipping_cost",
    "handling_cost", "delivered_h", "ready_h", "picked_up_h", "in_warmup",
)  # fmt: skip
LINE_COLUMNS = (
    "order_id", "line", "sku", "units_ordered", "units", "units_fulfilled", "units_lost",
    "units_oversold", "units_returned", "units_restocked", "in_warmup",
)  # fmt: skip
SHIPMENT_COLUMNS = (
    "order_id", "package", "location", "location_kind", "method", "status", "units", "miles",
    "zone", "shipping_cost", "handling_cost", "released_h", "picked_h", "shipped_h",
    "delivered_h", "promised_h",
)  # fmt: skip
EVENT_COLUMNS = ("time_h", "kind", "order_id", "location", "sku", "qty", "detail")

_NAN = float("nan")


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """A table on the given column arrays as they are (no second copy of the recorder's)."""
    return pd.DataFrame(columns, copy=False)


@dataclass(frozen=True)
class RunMeta:
    """Identity of a run, stamped on every table."""

    scenario: str
    policy: str
    replication: int
    seed: int

    def stamp(self, df: pd.DataFrame) -> pd.DataFrame:
        """Insert the identity columns first, in place, and return the frame."""
        for i, (name, value) in enumerate(
            (
                ("scenario", self.scenario),
                ("policy", self.policy),
                ("replication", self.replication),
                ("seed", self.seed),
            )
        ):
            df.insert(i, name, value)
        return df


class Recorder:
    """Collects the rows of a run.

    Orders and lines are known in advance (demand is generated up front), so their columns
    are preallocated numpy arrays written when an order reaches its final state. Packages
    and events are appended as they happen.

    Args:
        n_orders: Number of orders N.
        n_lines: Number of order lines M.
    """

    def __init__(self, n_orders: int, n_lines: int) -> None:
        n, m = n_orders, n_lines
        self.o_status = np.zeros(n, dtype=np.int8)
        self.o_units = np.zeros(n, dtype=np.int64)
        self.o_fulfilled = np.zeros(n, dtype=np.int64)
        self.o_lost = np.zeros(n, dtype=np.int64)
        self.o_oversold = np.zeros(n, dtype=np.int64)
        self.o_packages = np.zeros(n, dtype=np.int64)
        self.o_shipping = np.zeros(n)
        self.o_handling = np.zeros(n)
        self.o_promised = np.full(n, np.nan)
        self.o_delivered = np.full(n, np.nan)
        self.o_ready = np.full(n, np.nan)
        self.o_picked_up = np.full(n, np.nan)
        self.o_refund = np.zeros(n)
        self.l_units = np.zeros(m, dtype=np.int64)
        self.l_fulfilled = np.zeros(m, dtype=np.int64)
        self.l_lost = np.zeros(m, dtype=np.int64)
        self.l_oversold = np.zeros(m, dtype=np.int64)
        self.l_returned = np.zeros(m, dtype=np.int64)
        self.l_restocked = np.zeros(m, dtype=np.int64)
        # packages (one row each), appended when a package is finished or at the end
        self.s_order = array("q")
        self.s_package = array("q")
        self.s_location = array("q")
        self.s_method = array("b")
        self.s_status = []  # type: list[str]
        self.s_units = array("q")
        self.s_miles = array("d")
        self.s_zone = array("q")
        self.s_shipping = array("d")
        self.s_handling = array("d")
        self.s_released = array("d")
        self.s_picked = array("d")
        self.s_shipped = array("d")
        self.s_delivered = array("d")
        self.s_promised = array("d")
        # events
        self.e_time = array("d")
        self.e_kind: list[str] = []
        self.e_order = array("q")  # order index, -1 = none
        self.e_location = array("q")  # location row, -1 = none
        self.e_sku = array("q")  # sku index, -1 = none
        self.e_qty = array("q")
        self.e_detail: list[str] = []

    def event(
        self,
        t: float,
        kind: str,
        order: int = -1,
        location: int = -1,
        sku: int = -1,
        qty: int = 0,
        detail: str = "",
    ) -> None:
        """Append one event row. Indices are resolved to ids in `frames`."""
        self.e_time.append(t)
        self.e_kind.append(kind)
        self.e_order.append(order)
        self.e_location.append(location)
        self.e_sku.append(sku)
        self.e_qty.append(qty)
        self.e_detail.append(detail)

    def package(
        self,
        order: int,
        package: int,
        location: int,
        method: int,
        status: str,
        units: int,
        miles: float,
        zone: int,
        shipping: float,
        handling: float,
        released: float,
        picked: float,
        shipped: float,
        delivered: float,
        promised: float,
    ) -> None:
        """Append one package row."""
        self.s_order.append(order)
        self.s_package.append(package)
        self.s_location.append(location)
        self.s_method.append(method)
        self.s_status.append(status)
        self.s_units.append(units)
        self.s_miles.append(miles)
        self.s_zone.append(zone)
        self.s_shipping.append(shipping)
        self.s_handling.append(handling)
        self.s_released.append(released)
        self.s_picked.append(picked)
        self.s_shipped.append(shipped)
        self.s_delivered.append(delivered)
        self.s_promised.append(promised)

    # ------------------------------------------------------------------ tables

    def frames(
        self,
        meta: RunMeta,
        order_ids: np.ndarray,
        demand_cols: dict[str, np.ndarray],
        line_cols: dict[str, np.ndarray],
        location_ids: np.ndarray,
        location_kinds: np.ndarray,
        sku_ids: np.ndarray,
        methods: tuple[str, ...],
    ) -> dict[str, pd.DataFrame]:
        """Build the orders, lines, shipments and events tables.

        Args:
            meta: Run identity.
            order_ids: Order id per order index (N,).
            demand_cols: Order columns known from demand: channel, method, region,
                created_h, units_ordered (N,) and in_warmup.
            line_cols: Line columns known from demand: order (index), line, sku (index),
                units_ordered (M,).
            location_ids: Location id per row (L,).
            location_kinds: Location kind per row (L,).
            sku_ids: SKU id per index (S,).
            methods: Method names by code.
        """
        status = np.asarray(ORDER_STATUSES, dtype=object)[self.o_status]
        orders = _frame(
            {
                "order_id": order_ids,
                "channel": demand_cols["channel"],
                "method": demand_cols["method"],
                "requested_method": demand_cols["requested_method"],
                "region": demand_cols["region"],
                "created_h": demand_cols["created_h"],
                "promised_h": self.o_promised,
                "status": status,
                "units": self.o_units,
                "units_fulfilled": self.o_fulfilled,
                "units_lost": self.o_lost,
                "units_oversold": self.o_oversold,
                "packages": self.o_packages,
                "shipping_cost": self.o_shipping,
                "handling_cost": self.o_handling,
                "delivered_h": self.o_delivered,
                "ready_h": self.o_ready,
                "picked_up_h": self.o_picked_up,
                "in_warmup": demand_cols["in_warmup"],
                "units_ordered": demand_cols["units_ordered"],
                "refund": self.o_refund,
            }
        )
        l_order = line_cols["order"]
        lines = _frame(
            {
                "order_id": order_ids[l_order],
                "line": line_cols["line"],
                "sku": sku_ids[line_cols["sku"]],
                "units_ordered": line_cols["units_ordered"],
                "units": self.l_units,
                "units_fulfilled": self.l_fulfilled,
                "units_lost": self.l_lost,
                "units_oversold": self.l_oversold,
                "units_returned": self.l_returned,
                "units_restocked": self.l_restocked,
                "in_warmup": demand_cols["in_warmup"][l_order],
            }
        )
        s_order = np.frombuffer(self.s_order, dtype=np.int64)
        s_loc = np.frombuffer(self.s_location, dtype=np.int64)
        shipments = _frame(
            {
                "order_id": order_ids[s_order],
                "package": np.frombuffer(self.s_package, dtype=np.int64),
                "location": location_ids[s_loc],
                "location_kind": location_kinds[s_loc],
                "method": np.asarray(methods, dtype=object)[
                    np.frombuffer(self.s_method, dtype=np.int8)
                ],
                "status": np.asarray(self.s_status, dtype=object),
                "units": np.frombuffer(self.s_units, dtype=np.int64),
                "miles": np.frombuffer(self.s_miles, dtype=np.float64),
                "zone": np.frombuffer(self.s_zone, dtype=np.int64),
                "shipping_cost": np.frombuffer(self.s_shipping, dtype=np.float64),
                "handling_cost": np.frombuffer(self.s_handling, dtype=np.float64),
                "released_h": np.frombuffer(self.s_released, dtype=np.float64),
                "picked_h": np.frombuffer(self.s_picked, dtype=np.float64),
                "shipped_h": np.frombuffer(self.s_shipped, dtype=np.float64),
                "delivered_h": np.frombuffer(self.s_delivered, dtype=np.float64),
                "promised_h": np.frombuffer(self.s_promised, dtype=np.float64),
                "in_warmup": demand_cols["in_warmup"][s_order],
            }
        )
        shipments = shipments.sort_values(["order_id", "released_h", "package"], kind="stable")
        shipments = shipments.reset_index(drop=True)
        e_order = np.frombuffer(self.e_order, dtype=np.int64)
        e_loc = np.frombuffer(self.e_location, dtype=np.int64)
        e_sku = np.frombuffer(self.e_sku, dtype=np.int64)
        none = np.asarray([None], dtype=object)
        events = _frame(
            {
                "time_h": np.frombuffer(self.e_time, dtype=np.float64),
                "kind": np.asarray(self.e_kind, dtype=object),
                "order_id": np.where(
                    e_order >= 0,
                    order_ids[np.maximum(e_order, 0)] if order_ids.size else none,
                    None,
                ),
                "location": np.where(e_loc >= 0, location_ids[np.maximum(e_loc, 0)], None),
                "sku": np.where(e_sku >= 0, sku_ids[np.maximum(e_sku, 0)], None),
                "qty": np.frombuffer(self.e_qty, dtype=np.int64),
                "detail": np.asarray(self.e_detail, dtype=object),
            }
        )
        events = events.sort_values("time_h", kind="stable").reset_index(drop=True)
        return {
            "orders": meta.stamp(orders),
            "lines": meta.stamp(lines),
            "shipments": meta.stamp(shipments),
            "events": meta.stamp(events),
        }
