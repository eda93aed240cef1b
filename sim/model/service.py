"""Customer service: edits and cancellations before an order is released.

Which orders are edited or cancelled, and when, is drawn up front (``customer_service``).
A request that comes after the order was released is refused (recorded as
``cs_too_late``), as a real OMS would. An edit removes the last line if the order has
several, else takes one unit off a multi-unit line, else changes the address to another
city; it is refunded and the order is routed again. A cancellation gives back the stock
and leaves the order with no units demanded (its lines keep `units_ordered`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import OrderStatus
from sim.model.arrivals import CS_CANCEL

if TYPE_CHECKING:
    from sim.model.orders import OrderState
    from sim.model.timers import Timer
    from sim.model.world import World

__all__ = ["CustomerService"]


class CustomerService:
    """Applies the pre-drawn customer-service requests.

    Args:
        w: The world.
    """

    def __init__(self, w: World) -> None:
        self.w = w
        self._kind = w.demand.cs_kind.tolist()
        self._region = w.demand.cs_region.tolist()

    def on_event(self, ev: Timer) -> None:
        """SimPy callback: the customer contacts service about order `ev.value`."""
        st: OrderState = ev.value
        w = self.w
        t = w.env.now
        o = st.order
        if st.final or st.released or not o.is_editable:
            w.rec.event(t, "cs_too_late", st.idx, detail=o.status.value)
            return
        at = w.clock.dt(t)
        price = w.oms.price
        if self._kind[st.idx] == CS_CANCEL:
            value = sum(price[w.ledger.sku_index[ln.sku]] * ln.quantity for ln in o.lines)
            if o.status is OrderStatus.CREATED:
                o.cancel(at, "customer")
            else:
                w.router.cancel(o, at, "customer")
            st.cancelled = True
            w.oms.refund(st.idx, value)
            w.rec.event(t, "cancel", st.idx, qty=st.units, detail=f"refund {value:.2f}")
            st.units = st.lost = 0  # no longer demanded (units_ordered keeps the order)
            w.rec.l_units[st.line0 : st.line1] = 0
            w.rec.l_lost[st.line0 : st.line1] = 0
            w.oms.finish_order(st, t)
            return
        rec = w.rec
        if len(o.lines) > 1:
            line = o.lines[-1]
            j, units = st.line0 + line.line_id, line.quantity
            o.remove_line(line.line_id, at)
            rec.l_units[j] = 0
            rec.l_lost[j] = 0
            what = f"removed line {line.line_id}"
        elif o.lines[0].quantity > 1:
            line = o.lines[0]
            j, units = st.line0 + line.line_id, 1
            o.edit_quantity(line.line_id, line.quantity - 1, at)
            rec.l_units[j] -= 1
            what = f"line {line.line_id} quantity -1"
        else:
            r = self._region[st.idx]
            o.change_address(float(w.regions.lat[r]), float(w.regions.lon[r]), at)
            w.demand.region[st.idx] = r  # the orders table and returns follow the address
            units, line = 0, None
            what = f"address -> {w.region_ids[r]}"
        if units:
            value = price[w.ledger.sku_index[line.sku]] * units
            removed = line not in o.lines
            o.add_refund(value, at, "edit", None if removed else line.sku, units)
            w.oms.refund(st.idx, value)
        st.units = o.units
        rec.event(t, "edit", st.idx, qty=units, detail=what)
        if o.status is not OrderStatus.CREATED:  # batch mode: not routed yet
            w.oms.reroute(st, t)
