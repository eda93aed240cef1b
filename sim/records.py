"""Columnar records of a run, turned into tidy pandas tables at the end.

The hot path only appends to typed arrays (`array.array`) or writes into preallocated numpy
columns; pandas is touched once, in `Recorder.frames`. Every table gets the ``scenario``,
``policy``, ``replication`` and ``seed`` columns. docs/tables.md describes every column of
every table (type, unit, meaning) and every event kind.

Text columns with few distinct values (``scenario``, ``policy``, ``channel``, ``method``,
``requested_method``, ``region``, ``status``, ``location``, ``location_kind``, ``sku``,
``kind``) are pandas categoricals: one small integer code per row instead of a string, built
straight from the codes the simulation already keeps (`categorical`). Their values are the
same strings; a missing value (an event without a location or SKU) stays missing. Sorting
such a column follows its category order, not the alphabet: order and package statuses in
lifecycle order (`ORDER_STATUSES`, `PACKAGE_STATUSES`), methods and channels as in
`sim.model.arrivals`, locations in network order, regions largest city first, SKUs in
catalogue order, location kinds as `engine.location.LocationKind`, event kinds
alphabetically. ``order_id`` and the events' free-text ``detail`` stay plain strings. Use
`concat` to stack the tables of several runs: it keeps these columns categorical.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from engine.location import LocationKind

__all__ = [
    "EVENT_COLUMNS",
    "LINE_COLUMNS",
    "LOCATION_KINDS",
    "ORDER_COLUMNS",
    "ORDER_STATUSES",
    "PACKAGE_STATUSES",
    "SHIPMENT_COLUMNS",
    "RunMeta",
    "Recorder",
    "categorical",
    "concat",
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
PACKAGE_STATUSES = (
    "released",
    "picked",
    "shipped",
    "in_transfer",
    "ready_for_pickup",
    "delivered",
    "picked_up",
    "no_show",
    "rejected",
)
"""Package status vocabulary of the shipments table, in lifecycle order (`Package.status`)."""
LOCATION_KINDS = tuple(k.value for k in LocationKind)
"""Location kind vocabulary (engine `LocationKind`, in its declared order)."""

ORDER_COLUMNS = (
    "order_id", "channel", "method", "requested_method", "region", "created_h", "promised_h",
    "status", "units", "units_fulfilled", "units_lost", "units_oversold", "packages",
    "shipping_cost", "handling_cost", "delivered_h", "ready_h", "picked_up_h", "in_warmup",
    "units_ordered", "refund",
)  # fmt: skip
"""Columns of the orders table, one row per order (key ``order_id``), in table order after
the identity columns (`RunMeta`). Times ``*_h`` are hours since the scenario's start (00:00
UTC of its start date). Every column's type, unit and meaning: docs/tables.md."""
LINE_COLUMNS = (
    "order_id", "line", "sku", "units_ordered", "units", "units_fulfilled", "units_lost",
    "units_oversold", "units_returned", "units_restocked", "in_warmup",
)  # fmt: skip
"""Columns of the lines table, one row per order line (key ``(order_id, line)``), in table
order after the identity columns. Every column: docs/tables.md."""
SHIPMENT_COLUMNS = (
    "order_id", "package", "location", "location_kind", "method", "status", "units", "miles",
    "zone", "shipping_cost", "handling_cost", "released_h", "picked_h", "shipped_h",
    "delivered_h", "promised_h", "in_warmup",
)  # fmt: skip
"""Columns of the shipments table, one row per package, in table order after the identity
columns. `(order_id, package)` is a key: packages are numbered from 0 per order as they are
released, a re-routed one (after a rejection at pick) with the order's next number. `zone`
is the carrier zone (1-8 with the default bands) of the package's leg, 0 when it has none
(rejected at pick, or picked at its own pickup store). Every column: docs/tables.md."""
EVENT_COLUMNS = ("time_h", "kind", "order_id", "location", "sku", "qty", "detail")
"""Columns of the events table, one row per event in time order, after the identity
columns. What ``order_id``, ``location``, ``sku``, ``qty`` and ``detail`` hold for each
``kind``: docs/tables.md."""

_NAN = float("nan")


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """A table on the given column arrays as they are (no second copy of the recorder's)."""
    return pd.DataFrame(columns, copy=False)


def categorical(codes: Any, categories: Sequence[str]) -> pd.Categorical:
    """A text column stored as integer codes into its categories.

    Args:
        codes: Index into `categories` per row; -1 = missing. Integer array-like.
        categories: The distinct values, unique, in the order sorting follows.

    Returns:
        A `pandas.Categorical` (codes of the smallest integer type that fits).
    """
    return pd.Categorical.from_codes(codes, pd.Index(list(categories), dtype=str))


def concat(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack tables of several runs (a new 0..n-1 index).

    A column that is categorical in every table stays categorical, with the union of the
    categories (first table's order, then new values as they come); `pandas.concat` alone
    would turn it into plain strings whenever the categories differ (``policy`` always does).
    """
    frames = list(frames)
    for name in frames[0].columns if frames else ():
        dtypes = [f[name].dtype for f in frames if name in f.columns]
        if len(dtypes) < len(frames) or not all(isinstance(d, pd.CategoricalDtype) for d in dtypes):
            continue
        if all(d.categories.equals(dtypes[0].categories) for d in dtypes):
            continue
        if len({d.categories.dtype for d in dtypes}) > 1:
            continue  # e.g. str and object categories: pandas.concat makes plain values
        empty = [pd.Categorical([], dtype=d) for d in dtypes]
        union = pd.CategoricalDtype(union_categoricals(empty, ignore_order=True).categories)
        frames = [f.astype({name: union}) for f in frames]
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class RunMeta:
    """Identity of a run, stamped on every table."""

    scenario: str
    policy: str
    replication: int
    seed: int

    def stamp(self, df: pd.DataFrame) -> pd.DataFrame:
        """Insert the identity columns first, in place, and return the frame.

        ``scenario`` and ``policy`` are categoricals of one category each.
        """
        one = np.zeros(len(df), dtype=np.int8)
        for i, (name, value) in enumerate(
            (
                ("scenario", categorical(one, [self.scenario])),
                ("policy", categorical(one, [self.policy])),
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
    and events are appended as they happen. Unit counts, package counts and indices are
    32-bit integers (half the memory of a million-order run's int64 columns).

    Args:
        n_orders: Number of orders N.
        n_lines: Number of order lines M.
    """

    def __init__(self, n_orders: int, n_lines: int) -> None:
        n, m = n_orders, n_lines
        self.o_status = np.zeros(n, dtype=np.int8)
        self.o_units = np.zeros(n, dtype=np.int32)
        self.o_fulfilled = np.zeros(n, dtype=np.int32)
        self.o_lost = np.zeros(n, dtype=np.int32)
        self.o_oversold = np.zeros(n, dtype=np.int32)
        self.o_packages = np.zeros(n, dtype=np.int32)
        self.o_shipping = np.zeros(n)
        self.o_handling = np.zeros(n)
        self.o_promised = np.full(n, np.nan)
        self.o_delivered = np.full(n, np.nan)
        self.o_ready = np.full(n, np.nan)
        self.o_picked_up = np.full(n, np.nan)
        self.o_refund = np.zeros(n)
        self.l_units = np.zeros(m, dtype=np.int32)
        self.l_fulfilled = np.zeros(m, dtype=np.int32)
        self.l_lost = np.zeros(m, dtype=np.int32)
        self.l_oversold = np.zeros(m, dtype=np.int32)
        self.l_returned = np.zeros(m, dtype=np.int32)
        self.l_restocked = np.zeros(m, dtype=np.int32)
        # packages (one row each), appended when a package is finished or at the end
        self.s_order = array("i")
        self.s_package = array("i")
        self.s_location = array("i")
        self.s_method = array("b")
        self.s_status = array("b")  # code into `status_codes`
        self.status_codes = {s: i for i, s in enumerate(PACKAGE_STATUSES)}
        self.handed_over = False  # `frames` has built the tables
        self.s_units = array("i")
        self.s_miles = array("d")
        self.s_zone = array("i")
        self.s_shipping = array("d")
        self.s_handling = array("d")
        self.s_released = array("d")
        self.s_picked = array("d")
        self.s_shipped = array("d")
        self.s_delivered = array("d")
        self.s_promised = array("d")
        # events
        self.e_time = array("d")
        self.e_kind = array("h")  # code into `kind_codes`
        self.kind_codes: dict[str, int] = {}  # event kind -> code, in first-seen order
        self.e_order = array("i")  # order index, -1 = none
        self.e_location = array("i")  # location row, -1 = none
        self.e_sku = array("i")  # sku index, -1 = none
        self.e_qty = array("i")
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
        self.e_kind.append(self.kind_codes.setdefault(kind, len(self.kind_codes)))
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
        self.s_status.append(self.status_codes.setdefault(status, len(self.status_codes)))
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

    def _view(self, name: str) -> np.ndarray:
        """The recorded column `name` as a numpy view (its type from the array's typecode)."""
        buffer = getattr(self, name)
        return np.frombuffer(buffer, dtype=buffer.typecode)

    def _taken(self, name: str, perm: np.ndarray) -> np.ndarray:
        """The recorded column `name` in the row order `perm`; its buffer is released."""
        column = self._view(name)[perm]
        setattr(self, name, array(getattr(self, name).typecode))
        return column

    def frames(
        self,
        meta: RunMeta,
        order_ids: np.ndarray,
        demand_cols: dict[str, np.ndarray],
        line_cols: dict[str, np.ndarray],
        location_ids: Sequence[str],
        location_kinds: pd.Categorical,
        sku_ids: Sequence[str],
        methods: Sequence[str],
    ) -> dict[str, pd.DataFrame]:
        """Build the orders, lines, shipments and events tables.

        The recorded package and event rows are handed over to the tables (their buffers
        are emptied as the columns are built), so this is called once, at the end of a run.

        Raises:
            RuntimeError: When called a second time.

        Args:
            meta: Run identity.
            order_ids: Order id per order index (N,).
            demand_cols: Order columns known from demand: channel, method,
                requested_method, region (categoricals, see `categorical`), created_h,
                units_ordered (N,) and in_warmup.
            line_cols: Line columns known from demand: order (index), line, sku (index),
                units_ordered (M,).
            location_ids: Location id per row (L,).
            location_kinds: Location kind per row, a categorical (L,).
            sku_ids: SKU id per index (S,).
            methods: Method names by code.
        """
        if self.handed_over:
            raise RuntimeError("the recorder's tables were already built (frames runs once)")
        self.handed_over = True
        orders = _frame(
            {
                "order_id": order_ids,
                "channel": demand_cols["channel"],
                "method": demand_cols["method"],
                "requested_method": demand_cols["requested_method"],
                "region": demand_cols["region"],
                "created_h": demand_cols["created_h"],
                "promised_h": self.o_promised,
                "status": categorical(self.o_status, ORDER_STATUSES),
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
                "sku": categorical(line_cols["sku"], sku_ids),
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
        # Shipments sorted by order id, release time and package; events by time. Each
        # column is taken in that order straight from its recorded buffer, which is then
        # released: no second copy of the whole table.
        s_order = self._view("s_order")
        if bool(np.all(order_ids[:-1] < order_ids[1:])):  # ids sort like their indices
            order_rank = s_order
        else:  # equal ids share a rank
            order_rank = np.unique(order_ids, return_inverse=True)[1][s_order]
        perm = np.lexsort((self._view("s_package"), self._view("s_released"), order_rank))
        del order_rank
        s_order = self._taken("s_order", perm)
        released = self._taken("s_released", perm)
        package = self._taken("s_package", perm)
        s_loc = self._taken("s_location", perm)
        shipments = _frame(
            {
                "order_id": order_ids[s_order],
                "package": package,
                "location": categorical(s_loc, location_ids),
                "location_kind": categorical(
                    location_kinds.codes[s_loc], location_kinds.categories
                ),
                "method": categorical(self._taken("s_method", perm), methods),
                "status": categorical(self._taken("s_status", perm), tuple(self.status_codes)),
                "units": self._taken("s_units", perm),
                "miles": self._taken("s_miles", perm),
                "zone": self._taken("s_zone", perm),
                "shipping_cost": self._taken("s_shipping", perm),
                "handling_cost": self._taken("s_handling", perm),
                "released_h": released,
                "picked_h": self._taken("s_picked", perm),
                "shipped_h": self._taken("s_shipped", perm),
                "delivered_h": self._taken("s_delivered", perm),
                "promised_h": self._taken("s_promised", perm),
                "in_warmup": demand_cols["in_warmup"][s_order],
            }
        )
        perm = np.argsort(self._view("e_time"), kind="stable")
        e_time = self._taken("e_time", perm)
        e_order = self._taken("e_order", perm)
        e_loc = self._taken("e_location", perm)
        e_sku = self._taken("e_sku", perm)
        kinds = sorted(self.kind_codes)  # alphabetical, as documented
        recode = np.array([kinds.index(k) for k in self.kind_codes], dtype=np.int16)
        kind = categorical(recode[self._taken("e_kind", perm)], kinds)
        detail = np.asarray(self.e_detail, dtype=object)[perm]
        self.e_detail = []
        none = np.asarray([None], dtype=object)
        events = _frame(
            {
                "time_h": e_time,
                "kind": kind,
                "order_id": np.where(
                    e_order >= 0,
                    order_ids[np.maximum(e_order, 0)] if order_ids.size else none,
                    None,
                ),
                "location": categorical(e_loc, location_ids),
                "sku": categorical(e_sku, sku_ids),
                "qty": self._taken("e_qty", perm),
                "detail": detail,
            }
        )
        return {
            "orders": meta.stamp(orders),
            "lines": meta.stamp(lines),
            "shipments": meta.stamp(shipments),
            "events": meta.stamp(events),
        }
