"""Customer returns: buy anywhere, return anywhere.

Whether and when a delivered unit comes back is drawn up front per order line (units
returned, lag, mail or store, condition, exchange), so returns are the same for every
policy. The customer sends or brings it back ``lag`` after delivery (or pickup): by mail
to the DC nearest their region, arriving after the carrier's ground transit time of the
zone between them (``carriers.transit_days``, the mean: no variability or carrier delays);
at a store desk, the nearest store with a returns desk, arriving at once. A region without
such a store returns by mail; one without such a DC mails to its desk store. After
``returns.inspection_hours``
the engine's `ReturnsPolicy` decides: restock where received, transfer to a DC (arriving
after ``store_lead_days``) or dispose; refunds are recorded on the order and exchanges are
shipped as new (unrecorded) orders. Only returns that reach a location within the horizon
happen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.returns import Condition, ReturnAction, ReturnItem, ReturnsPolicy
from sim.model.arrivals import CONDITIONS
from sim.model.orders import order_id
from sim.model.timers import Timer, call_later

if TYPE_CHECKING:
    from sim.model.orders import Package
    from sim.model.world import World

__all__ = ["Returns"]

_CONDITION = tuple(Condition(c) for c in CONDITIONS)


class Returns:
    """Schedules returns after delivery and processes them at the receiving location.

    Args:
        w: The world.
    """

    def __init__(self, w: World) -> None:
        self.w = w
        self.env = w.env
        self.policy = ReturnsPolicy()
        d = w.demand
        # numpy columns (read only for delivered lines): compact for a million orders
        self._left = d.ret_qty.copy()  # units still to come back per line
        self._lag = d.ret_lag_h
        self._mail = d.ret_mail
        self._condition = d.ret_condition
        self._exchange = d.ret_exchange
        self._region = d.region
        # per region: (receiving row, carrier transit hours) by mail and at a desk
        self._by_mail = [_route(w, r, dc, store) for r, (dc, store) in _rows(w)]
        self._at_desk = [_route(w, r, store, dc, walk=True) for r, (dc, store) in _rows(w)]
        self.inspection_h = w.scn.returns.inspection_hours
        self.transfer_h = w.scn.inventory.replenishment.store_lead_days * 24.0
        self.horizon_h = w.horizon_h

    def schedule(self, pkg: Package, t: float) -> None:
        """`pkg` reached the customer: schedule the units of it that will come back."""
        st = pkg.st
        if st.idx < 0:
            return
        # the pending return holds the order index (and the engine order only when an
        # exchange will need its customer): delivered orders are not kept for weeks
        left, lag = self._left, self._lag
        for s, q, j in pkg.lines:
            r = min(left.item(j), q)  # most lines return nothing
            if r <= 0:
                continue
            left[j] -= r
            region = self._region.item(st.idx)
            row, transit_h = (self._by_mail if self._mail[j] else self._at_desk)[region]
            delay = float(lag[j]) + transit_h
            if row < 0 or t + delay > self.horizon_h:
                continue
            # an exchange needs the order that delivered the units (a re-routed package's
            # own order, with the parent's customer and address) to check the return against
            original = pkg.eo.order if self._exchange[j] else None
            call_later(self.env, delay, self._arrive, (st.idx, original, s, r, j, row))

    def _arrive(self, ev: Timer) -> None:
        idx, _, s, r, j, row = ev.value
        w, t = self.w, self.env.now
        w.stock.flows.returned += r
        w.stock.flows.inspection += r
        w.rec.l_returned[j] += r
        w.rec.event(t, "return", idx, row, s, r, "mail" if self._mail[j] else "store")
        call_later(self.env, self.inspection_h, self._inspect, ev.value)

    def _inspect(self, ev: Timer) -> None:
        idx, original, s, r, j, row = ev.value
        w, t = self.w, self.env.now
        at = w.clock.dt(t)
        item = ReturnItem(
            order_id(idx) if original is None else original.id,
            w.sku_ids[s],
            r,
            w.loc_ids[row],
            _CONDITION[int(self._condition[j])],
            bool(self._exchange[j]),
        )
        decision = self.policy.decide(
            item, w.network, w.ledger, at, w.oms.price[s], original=original
        )
        self.policy.apply(decision, w.ledger, at)
        flows = w.stock.flows
        flows.inspection -= r
        where = w.ledger.loc_index[decision.location]
        action = decision.action
        if action is ReturnAction.RESTOCK:
            w.stock.put(where, s, r, t)
            if t <= self.horizon_h:
                w.rec.l_restocked[j] += r
        elif action is ReturnAction.DISPOSE:
            flows.disposed += r
        else:
            flows.transfer += r  # none to make when the units are at that DC already
            delay = 0.0 if where == row else self.transfer_h
            call_later(self.env, delay, self._transferred, (idx, None, s, r, j, where))
        if decision.refund_amount > 0:
            w.oms.refund(idx, decision.refund_amount)
        w.rec.event(t, f"return_{action.value}", idx, where, s, r, decision.reason)
        if decision.exchange_order is not None:
            w.oms.place_exchange(decision.exchange_order, t)

    def _transferred(self, ev: Timer) -> None:
        idx, _, s, r, j, row = ev.value
        w, t = self.w, self.env.now
        w.stock.flows.transfer -= r
        w.stock.put(row, s, r, t)
        w.ledger.return_to_stock(row, s, r, w.clock.dt(t), "return_transfer", order_id(idx))
        if t <= self.horizon_h:
            w.rec.l_restocked[j] += r


def _rows(w: World) -> enumerate[tuple[int, int]]:
    """Per region: its returns DC row and its returns store row (-1: none)."""
    return enumerate(zip(w.return_dc, w.return_store, strict=True))


def _route(w: World, region: int, first: int, other: int, walk: bool = False) -> tuple[int, float]:
    """Where a return of `region` goes (`first`, else `other`; -1: nowhere) and its
    carrier transit time [h]: none for a customer walking into a store (`walk`)."""
    row = first if first >= 0 else other
    if row < 0 or (walk and row == first):
        return row, 0.0
    zone = w.zone_of(float(w.region_miles[region, row]))
    return row, 24.0 * float(w.network.transit_table[zone])
