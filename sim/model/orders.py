"""In-flight state of orders and packages (small slotted objects, dropped when done).

An `OrderState` is the simulation's view of one customer order (one row of the orders
table). The OMS may fulfil it through several engine orders: the customer's order itself
and, after a location rejects a pick, re-route orders for the rejected units; each engine
order is wrapped in an `EngineOrder` that counts its live packages. A `Package` is what one
location picks for one engine order (one row of the shipments table).
"""

from __future__ import annotations

import math

from engine import Order

__all__ = ["STAGE", "EngineOrder", "OrderState", "Package", "order_id"]

STAGE = {
    "created": 0,
    "routed": 1,
    "released": 2,
    "picked": 3,
    "shipped": 4,
    "ready_for_pickup": 5,
    "delivered": 6,
    "picked_up": 7,
    "partially_fulfilled": 8,
    "cancelled": 9,
}
"""Order status -> code (index into `sim.records.ORDER_STATUSES`)."""

_NAN = math.nan


def order_id(i: int) -> str:
    """Order id of order index `i`."""
    return f"O{i:07d}"


class OrderState:
    """Counters of one customer order while it is in flight.

    Attributes:
        idx: Order index (row of the orders table); -1 for exchange orders (not recorded).
        order: The customer's engine `Order`.
        method: Delivery method code (index into `METHODS`).
        created_h: Creation time. [h]
        units: Units demanded (after customer edits). [units]
        lost: Units not routable at placement (stockout). [units]
        oversold: Units found missing at pick time. [units]
        fulfilled: Units handed to a carrier or picked up. [units]
        live: Packages released and not yet finished.
        stage: Furthest status code reached while in flight (see `STAGE`).
        final: The order reached a terminal status.
        released: The order was released to locations (or cancelled before).
        cancelled: Cancelled by the customer.
        rejected_by: Location ids that rejected one of its picks.
        dispatched: Packages sent to locations so far (re-routed ones included); the next
            package's number.
    """

    __slots__ = (
        "idx", "order", "method", "created_h", "units", "lost", "oversold", "fulfilled",
        "packages", "shipping", "handling", "live", "stage", "final", "released",
        "cancelled", "promised_h", "delivered_h", "ready_h", "picked_up_h",
        "rejected_by", "line0", "line1", "dispatched",
    )  # fmt: skip

    def __init__(
        self,
        idx: int,
        order: Order,
        method: int,
        created_h: float,
        line0: int,
        line1: int,
        units: int,
    ) -> None:
        self.idx = idx
        self.order = order
        self.method = method
        self.created_h = created_h
        self.units = units  # the order's (`Order.units`, which its creator knows)
        self.lost = 0
        self.oversold = 0
        self.fulfilled = 0
        self.packages = 0
        self.shipping = 0.0
        self.handling = 0.0
        self.live = 0
        self.stage = 0
        self.final = False
        self.released = False
        self.cancelled = False
        self.promised_h = _NAN
        self.delivered_h = _NAN
        self.ready_h = _NAN
        self.picked_up_h = _NAN
        self.rejected_by: list[str] = []
        self.line0 = line0
        self.line1 = line1
        self.dispatched = 0

    def advance(self, stage: str) -> None:
        """Record that the order reached `stage` (keeps the furthest)."""
        code = STAGE[stage]
        if code > self.stage:
            self.stage = code


class EngineOrder:
    """An engine order (customer order or re-route order) with its live package count."""

    __slots__ = ("order", "live", "fulfilled")

    def __init__(self, order: Order) -> None:
        self.order = order
        self.live = 0
        self.fulfilled = 0


class Package:
    """One location's pick for one engine order, from release to its end.

    Attributes:
        lines: `(sku index, qty, line index)` triples. [units]
        picks: The engine's `(sku id, qty)` pick list of the package, as released (what
            the engine order records as fulfilled when it is handed over). [units]
        units: Units of `lines`. [units]
        row: Location row that picks it.
        draw_row: Order row whose own random draws (pick and transit time) this package
            takes: the order's row for its first package, which so draws alike under every
            policy (common random numbers); -1 for the others, which draw from the streams.
        dest_row: Pickup store row for BOPIS (-1 otherwise).
        status: released | picked | shipped | delivered | ready_for_pickup | picked_up |
            no_show | rejected | in_transfer.
    """

    __slots__ = (
        "st", "eo", "decision_id", "package", "row", "lines", "picks", "units", "method",
        "dest_row", "dest_lat", "dest_lon", "released_h", "picked_h", "shipped_h",
        "delivered_h", "miles", "zone", "shipping", "handling", "status", "wait_h", "draw_row",
    )  # fmt: skip

    def __init__(
        self,
        st: OrderState,
        eo: EngineOrder,
        decision_id: str,
        package: int,
        row: int,
        lines: list[tuple[int, int, int]],
        picks: tuple[tuple[str, int], ...],
        units: int,
        method: int,
        dest_row: int,
        dest_lat: float,
        dest_lon: float,
        released_h: float,
    ) -> None:
        self.st = st
        self.eo = eo
        self.decision_id = decision_id
        self.package = package
        self.draw_row = st.idx if package == 0 else -1
        self.row = row
        self.lines = lines
        self.picks = picks
        self.units = units
        self.method = method
        self.dest_row = dest_row
        self.dest_lat = dest_lat
        self.dest_lon = dest_lon
        self.released_h = released_h
        self.picked_h = _NAN
        self.shipped_h = _NAN
        self.delivered_h = _NAN
        self.miles = _NAN
        self.zone = 0
        self.shipping = 0.0
        self.handling = 0.0
        self.status = "released"
        self.wait_h = 0.0
