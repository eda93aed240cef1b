"""Buy online, pick up in store (BOPIS): ready, customer pickup and no-shows.

When a BOPIS package is ready at its store (picked there, or delivered there from a DC)
the customer is notified. They come after their pre-drawn pickup delay (at the next time
the store is open), unless they are a no-show or would come after ``no_show_days``: then
the store cancels the package after ``no_show_days`` and puts the units back on the shelf
(and back into the ledger: reported as a return to stock). Like a customer's cancellation,
a no-show's units no longer count as demand (the order's and lines' ``units``; the lines
keep ``units_ordered``), so the fill rate measures what the network failed to supply.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from engine import OrderStatus
from sim.model.timers import Timer, call_later

if TYPE_CHECKING:
    from sim.model.orders import Package
    from sim.model.world import World

__all__ = ["Bopis"]


class Bopis:
    """Ready-for-pickup shelf of every store.

    Args:
        w: The world.
    """

    def __init__(self, w: World) -> None:
        self.w = w
        self.env = w.env
        self.no_show_h = w.scn.operations.no_show_days * 24.0
        self._no_show = w.demand.no_show
        self._delay = w.demand.pickup_delay_h

    def store_of(self, pkg: Package) -> int:
        """Store row where the customer collects `pkg`."""
        return pkg.row if self.w.is_store[pkg.row] else pkg.dest_row

    def ready(self, pkg: Package, t: float) -> None:
        """`pkg` is on the pickup shelf (its units are in `awaiting_pickup`)."""
        w = self.w
        pkg.status = "ready_for_pickup"
        st = pkg.st
        st.advance("ready_for_pickup")
        if math.isnan(st.ready_h) or t > st.ready_h:
            st.ready_h = t
        o = pkg.eo.order
        if o.status is OrderStatus.PICKED:
            o.transition(OrderStatus.READY_FOR_PICKUP, w.clock.dt(t), "ready")
        i = st.idx
        delay = float(self._delay[i]) if i >= 0 else 0.0
        no_show = bool(self._no_show[i]) if i >= 0 else False
        come = w.calendar.next_available(self.store_of(pkg), t + delay)
        if no_show or come - t > self.no_show_h:
            call_later(self.env, self.no_show_h, self._no_show_cb, pkg)
        else:
            call_later(self.env, come - t, self._pickup_cb, pkg)

    def _pickup_cb(self, ev: Timer) -> None:
        pkg: Package = ev.value
        flows = self.w.stock.flows
        flows.awaiting_pickup -= pkg.units
        flows.picked_up += pkg.units
        self.w.oms.picked_up(pkg, self.env.now)

    def _no_show_cb(self, ev: Timer) -> None:
        pkg: Package = ev.value
        w, t = self.w, self.env.now
        at = w.clock.dt(t)
        row = self.store_of(pkg)
        w.stock.flows.awaiting_pickup -= pkg.units
        refund = 0.0
        for s, q, _ in pkg.lines:
            w.stock.put(row, s, q, t)
            w.ledger.return_to_stock(row, s, q, at, "no_show", pkg.eo.order.id)
            refund += w.oms.price[s] * q
        pkg.status = "no_show"
        st = pkg.st  # the customer gave these units up: no longer demanded, as a cancel
        st.units -= pkg.units
        if st.idx >= 0:
            for _, q, j in pkg.lines:
                w.rec.l_units[j] -= q
        w.oms.refund(pkg.st.idx, refund)
        w.rec.event(t, "no_show", pkg.st.idx, row, -1, pkg.units, f"refund {refund:.2f}")
        w.oms.finish_package(pkg, t)
