"""How packages and orders end: hand-over to a carrier, delivery, pickup, closing.

`Closing` is a part of the `Oms` (a mixin): it books fulfilled units, moves the engine
orders through their last statuses (shipped, delivered, picked up, cancelled, partially
fulfilled) and writes the rows of the shipments and orders tables when a package or an
order is done.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from engine import OrderStatus
from sim.model.arrivals import METHODS
from sim.model.orders import STAGE, EngineOrder, OrderState, Package

if TYPE_CHECKING:
    from sim.model.world import World
    from sim.records import Recorder

__all__ = ["Closing"]

BOPIS = METHODS.index("bopis")
_S = OrderStatus


class Closing:
    """End-of-life handling of packages and orders (mixed into `sim.model.oms.Oms`)."""

    w: World
    rec: Recorder
    sku_ids: tuple[str, ...]
    price: list[float]  # catalogue price per SKU index [USD]
    live: dict[int, OrderState]
    live_packages: dict[int, Package]

    # ------------------------------------------------------------------ hand-over

    def handed_over(self, pkg: Package, t: float) -> None:
        """A carrier or courier took `pkg` (for ship and same-day: the units are fulfilled)."""
        pkg.shipped_h = t
        st, eo = pkg.st, pkg.eo
        if pkg.method == BOPIS:
            pkg.status = "in_transfer"
            return
        pkg.status = "shipped"
        self._fulfilled(pkg, t)
        st.advance("shipped")
        o = eo.order
        if o.status is _S.PICKED:
            o.transition(_S.SHIPPED, self.w.clock.dt(t), "carrier")

    def _fulfilled(self, pkg: Package, t: float) -> None:
        st, eo, rec = pkg.st, pkg.eo, self.rec
        eo.order.record_fulfilled_many(pkg.picks)
        if st.idx >= 0:
            for _, q, j in pkg.lines:
                rec.l_fulfilled[j] += q
        st.fulfilled += pkg.units
        eo.fulfilled += pkg.units

    def delivered(self, pkg: Package, t: float) -> None:
        """The carrier delivered `pkg` to the customer (or to the BOPIS pickup store)."""
        pkg.delivered_h = t
        if pkg.method == BOPIS:
            self.w.stock.flows.awaiting_pickup += pkg.units
            self.w.bopis.ready(pkg, t)
            return
        pkg.status = "delivered"
        st = pkg.st
        if math.isnan(st.delivered_h) or t > st.delivered_h:
            st.delivered_h = t
        self.w.returns.schedule(pkg, t)
        self.finish_package(pkg, t)

    def picked_up(self, pkg: Package, t: float) -> None:
        """The BOPIS customer collected `pkg`."""
        pkg.status = "picked_up"
        self._fulfilled(pkg, t)
        st = pkg.st
        if math.isnan(st.picked_up_h) or t > st.picked_up_h:
            st.picked_up_h = t
        self.w.returns.schedule(pkg, t)
        self.finish_package(pkg, t)

    # ------------------------------------------------------------------ closing

    def refund(self, idx: int, amount: float) -> None:
        """Book a refund on order `idx`'s row (exchange orders, idx -1, are not recorded).
        [USD]"""
        if idx >= 0:
            self.rec.o_refund[idx] += amount

    def finish_package(self, pkg: Package, t: float) -> None:
        """`pkg` reached its end (delivered, picked up, no-show or rejected)."""
        st, eo = pkg.st, pkg.eo
        self.record_package(pkg)
        del self.live_packages[id(pkg)]
        eo.live -= 1
        st.live -= 1
        if eo.live == 0:
            self._close_engine_order(eo, t)
        if st.live == 0 and st.released:
            self.finish_order(st, t)

    def record_package(self, pkg: Package) -> None:
        """Write the shipments row of `pkg` (exchange orders are not recorded)."""
        if pkg.st.idx < 0:
            return
        self.rec.package(
            pkg.st.idx, pkg.package, pkg.row, pkg.method, pkg.status, pkg.units,
            pkg.miles, pkg.zone, pkg.shipping, pkg.handling, pkg.released_h, pkg.picked_h,
            pkg.shipped_h, pkg.delivered_h, pkg.st.promised_h,
        )  # fmt: skip

    def _close_engine_order(self, eo: EngineOrder, t: float) -> None:
        o = eo.order
        at = self.w.clock.dt(t)
        s = o.status
        if s is _S.SHIPPED:
            o.transition(_S.DELIVERED, at, "delivered")
            o.close(at)
        elif s is _S.READY_FOR_PICKUP:
            if eo.fulfilled:
                o.transition(_S.PICKED_UP, at, "picked up")
                o.close(at)
            else:
                o.transition(_S.CANCELLED, at, "no-show")
        elif s is _S.RELEASED:
            o.transition(_S.REJECTED, at, "rejected at pick")
            o.transition(_S.CANCELLED, at, "rejected at pick")

    def finish_order(self, st: OrderState, t: float) -> None:
        """Give the order its final status and write its row."""
        if st.final:
            return
        st.final = True
        self.live.pop(st.idx, None)
        if st.cancelled:
            stage = "cancelled"
        elif st.units > 0 and st.fulfilled >= st.units:
            stage = "picked_up" if st.method == BOPIS else "delivered"
        elif st.fulfilled > 0:
            stage = "partially_fulfilled"
        else:
            stage = "cancelled"
        st.stage = STAGE[stage]
        if st.lost and st.idx >= 0:  # units never supplied: the customer paid for them
            self.refund(st.idx, self._lost_value(st))
        self.record_order(st)

    def _lost_value(self, st: OrderState) -> float:
        """Catalogue value of the order's lost units (`units_lost` of its lines). [USD]"""
        lost, sku, price = self.rec.l_lost, self.w.demand.line_sku, self.price
        return float(sum(price[sku[j]] * int(lost[j]) for j in range(st.line0, st.line1)))

    def record_order(self, st: OrderState) -> None:
        """Write the orders row of `st` (final or, at the end of a run, in flight)."""
        i = st.idx
        if i < 0:
            return
        r = self.rec
        r.o_status[i] = st.stage
        r.o_units[i] = st.units
        r.o_fulfilled[i] = st.fulfilled
        r.o_lost[i] = st.lost
        r.o_oversold[i] = min(st.oversold, st.units)
        r.o_packages[i] = st.packages
        r.o_shipping[i] = st.shipping
        r.o_handling[i] = st.handling
        r.o_promised[i] = st.promised_h
        r.o_delivered[i] = st.delivered_h
        r.o_ready[i] = st.ready_h
        r.o_picked_up[i] = st.picked_up_h
