"""The order management system (OMS): drives `engine.Router` and `engine.Ledger`.

It behaves like a real storefront/OMS/WMS integration: an order is placed (routed and
reserved) when it arrives, or in periodic batches; it is held for a short while so that
customer service can still edit or cancel it; then it is released and each package's pick
list goes to its location. Units that no location can supply are lost sales (stockouts).
When a location finds the shelf short at pick time it rejects the pick, reports a cycle
count, and the OMS re-routes the rejected units (or cancels them, per
``operations.oversell_action``).

Event flow of one order (few SimPy events): arrival (1 timeout) -> place -> release
(1 timeout) -> pick (store: staff Resource; DC: a wave) -> carrier pickup (shared per
location and day) -> delivery (1 timeout) -> optional return.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import TYPE_CHECKING

import numpy as np

from engine import Channel, DeliveryMethod, Order, OrderLine, OrderStatus
from sim.model.arrivals import CHANNELS, METHODS, OnlineDemand
from sim.model.closing import Closing
from sim.model.orders import EngineOrder, OrderState, Package, order_id
from sim.model.timers import Timer, call_later

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    import simpy

    from engine.routing.decision import Decision, FulfilmentRequest
    from sim.model.world import World

__all__ = ["Oms", "order_id"]

SHIP, BOPIS, SAME_DAY = (METHODS.index(m) for m in ("ship", "bopis", "same_day"))
_CHANNEL = tuple(Channel(c) for c in CHANNELS)
_METHOD = tuple(DeliveryMethod(m) for m in METHODS)
_S = OrderStatus
_EARTH_MILES = 3958.8


def miles_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, R = 3958.8 mi). [mi]"""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_MILES * math.asin(math.sqrt(min(a, 1.0)))


class Oms(Closing):
    """Places, holds, releases, re-routes and closes orders.

    Args:
        w: The world it belongs to.
    """

    def __init__(self, w: World) -> None:
        self.w = w
        self.env = w.env
        self.router = w.router
        self.ledger = w.ledger
        self.rec = w.rec
        d = w.demand
        self._time = d.time_h.tolist()
        self._chan = d.channel.tolist()
        self._region = d.region.tolist()
        self._method = d.method.tolist()
        self.requested_method = d.requested_method  # the customer's choice, before fallbacks
        self._pickup = d.pickup_store.tolist()
        # per-order columns read once per order stay numpy (memory: 1M orders); small ones
        # read often are Python lists (fast scalar access)
        self._start = d.line_start
        self._sku = d.line_sku
        self._qty = d.line_qty
        self._cs_kind = d.cs_kind.tolist()
        self._cs_delay = d.cs_delay_h
        self._rlat = w.regions.lat.tolist()
        self._rlon = w.regions.lon.tolist()
        self._region_ids = w.region_ids
        self.sku_ids = w.sku_ids
        self.loc_ids = w.loc_ids
        self.sku_index = self.ledger.sku_index
        self.loc_index = self.ledger.loc_index
        self._loc_lat = w.network.lat.tolist()
        self._loc_lon = w.network.lon.tolist()
        self._is_store = w.is_store.tolist()
        self._hpo = w.network.handling_per_order.tolist()
        self._hpu = w.network.handling_per_unit.tolist()
        self._weight = w.catalogue.weight_lb.tolist()
        self.price = w.catalogue.price.tolist()
        self.rates = w.rates
        ops = w.scn.operations
        self.hold_h = w.release_hold_h
        self.batch = ops.routing_mode == "batch"
        self.batch_h = ops.batch_minutes / 60.0
        self.tick_h = ops.routing_tick_seconds / 3600.0
        self.arrived = False  # every order has been created
        self.reroute_on_reject = ops.oversell_action == "reroute"
        self.pending: list[OrderState] = []
        self.live: dict[int, OrderState] = {}  # order index -> state, until final
        self.live_packages: dict[int, Package] = {}  # id(package) -> package, until finished
        self._record_region_fallbacks(d)

    def _record_region_fallbacks(self, d: OnlineDemand) -> None:
        """A `method_fallback` event, at its creation time, for each order whose region has
        no pickup store or same-day location: it was drawn shipping (`requested_method`
        keeps the wish). Events are ordered by time when the tables are built."""
        fell = np.flatnonzero(d.requested_method != d.method)
        units = np.concatenate(([0], np.cumsum(d.line_qty, dtype=np.int64)))
        start = d.line_start
        for k in fell.tolist():
            qty = int(units[start[k + 1]] - units[start[k]])
            self.rec.event(self._time[k], "method_fallback", k, -1, -1, qty, METHODS[d.method[k]])

    # ------------------------------------------------------------------ arrivals

    def arrivals(self) -> simpy.events.ProcessGenerator:
        """SimPy process: create every pre-generated order at its time.

        With a routing tick (``operations.routing_tick_seconds`` > 0, on-arrival routing)
        the orders that arrive within one tick are placed together at its end.
        """
        env, times = self.env, self._time
        tick = self.tick_h
        if self.batch or tick <= 0:
            for i, t in enumerate(times):
                if t > env.now:
                    yield env.timeout(t - env.now)
                self.arrive(i)
            self.arrived = True
            return
        i, n = 0, len(times)
        while i < n:
            end = max((math.floor(times[i] / tick) + 1) * tick, times[i])
            j = bisect_right(times, end, i)  # an arrival at `end` itself is placed now
            yield env.timeout(end - env.now)
            self.arrive_tick(i, j)
            i = j
        self.arrived = True

    def arrive(self, i: int) -> OrderState:
        """Create order `i` now: build the engine order, place it (or queue it for a batch)."""
        t = self.env.now
        st = self._create(i, t)
        if self.batch:
            self.pending.append(st)
        else:
            self.place(st, t)
            if not st.final:
                self._schedule_release(st, self.hold_h)
        return st

    def arrive_tick(self, i: int, j: int) -> None:
        """Create orders `i` to `j - 1` (arrived during the tick that ends now) and place
        them in arrival order; runs of shipped orders go to the engine as one batch."""
        now = self.env.now
        states = self._create_range(i, j, self._time[i:j])
        self.place_together(states, now)
        for st in states:
            if not st.final:
                self._schedule_release(st, max(0.0, st.created_h + self.hold_h - now))

    def _create(self, i: int, t: float) -> OrderState:
        """Build order `i` created at `t` and schedule its customer-service event."""
        return self._create_range(i, i + 1, [t])[0]

    def _create_range(self, i: int, j: int, times: list[float]) -> list[OrderState]:
        """Build orders `i` to `j - 1`, created at `times`, and schedule their customer-service
        events (the line arrays are read once for the whole range)."""
        starts = self._start[i : j + 1].tolist()
        base = starts[0]
        line_skus = self._sku[base : starts[-1]].tolist()
        line_qtys = self._qty[base : starts[-1]].tolist()
        sku_ids, clock, now = self.sku_ids, self.w.clock, self.env.now
        states = []
        for k, t in zip(range(i, j), times, strict=True):
            s0, s1 = starts[k - i], starts[k - i + 1]
            lines = [
                OrderLine(sku_ids[line_skus[n - base]], line_qtys[n - base], n - s0)
                for n in range(s0, s1)
            ]
            r, m = self._region[k], self._method[k]
            order = Order(
                order_id(k),
                _CHANNEL[self._chan[k]],
                self._region_ids[r],
                self._rlat[r],
                self._rlon[r],
                lines,
                _METHOD[m],
                self.loc_ids[self._pickup[k]] if m == BOPIS else None,
                created_at=clock.dt(t),
            )
            st = OrderState(k, order, m, t, s0, s1, sum(line_qtys[s0 - base : s1 - base]))
            self.live[k] = st
            if self._cs_kind[k]:
                delay = float(self._cs_delay[k]) + t - now
                call_later(self.env, max(0.0, delay), self.w.service.on_event, st)
            states.append(st)
        return states

    def batches(self) -> simpy.events.ProcessGenerator:
        """SimPy process (batch mode): place the queued orders every `batch_minutes`."""
        env, horizon = self.env, self.w.horizon_h
        while True:
            yield env.timeout(self.batch_h)
            queued, self.pending = self.pending, []
            now = env.now
            waiting = [st for st in queued if not st.final]
            self.place_together(waiting, now)
            placed = [st for st in waiting if not st.final]
            self._reoptimise(placed, now)
            for st in placed:
                if not st.final:
                    self._schedule_release(st, max(0.0, st.created_h + self.hold_h - now))
            if now >= horizon and not self.pending:
                return

    def brokering(self, every_h: float) -> simpy.events.ProcessGenerator:
        """SimPy process (on-arrival routing under a batch policy): every `every_h` hours
        until the horizon, re-assign together the placed orders not yet released, as an
        OMS's scheduled brokering run does (`_reoptimise`)."""
        env, horizon = self.env, self.w.horizon_h
        while env.now < horizon:
            yield env.timeout(every_h)
            held = [
                st
                for st in self.live.values()
                if not (st.final or st.released) and st.order.status is _S.ROUTED
            ]
            self._reoptimise(held, env.now)

    def _reoptimise(self, placed: list[OrderState], now: float) -> None:
        """Let a batch policy (`engine.routing.lp.BatchPolicy`) re-assign the batch together.

        Policies with a `reoptimise(router, orders, at, exclude)` method re-route the just
        placed orders jointly (a MIP over packages and cost) before they are released.
        """
        reoptimise = getattr(self.router.policy, "reoptimise", None)
        if reoptimise is None or not placed:
            return
        at = self.w.clock.dt(now)
        down = self.w.disruptions.down_ids(now)
        outcome = reoptimise(self.router, [st.order for st in placed], at, down)
        decided = {d.order_id: d for d in outcome.decisions}
        for st in placed:
            d = decided.get(st.order.id)
            if d is not None:
                self.apply_decision(st, d, now)

    def _schedule_release(self, st: OrderState, delay: float) -> None:
        call_later(self.env, delay, self._on_release, st)

    # ------------------------------------------------------------------ routing

    def place(self, st: OrderState, t: float) -> None:
        """Route and reserve an order (first placement).

        A storefront offers pickup or same-day only where stock allows it: when the chosen
        pickup store (or the same-day radius) cannot fill the order, the customer checks
        out with home delivery instead. The switch is recorded as a `method_fallback` event
        and in the order's `method` column (`requested_method` keeps the customer's wish).
        """
        at = self.w.clock.dt(t)
        decision = self._decide(st, at, self.w.disruptions.down_ids(t), t)
        self.apply_decision(st, decision, t)

    def place_together(self, states: list[OrderState], now: float) -> None:
        """Place orders in sequence at `now` as one engine batch (`Router.place_many`):
        the outcome of `place` one after the other."""
        if not states:
            return
        by_order = {st.order.id: st for st in states}
        at = self.w.clock.dt(now)
        down = self.w.disruptions.down_ids(now)

        def place_one(order: Order) -> Decision:
            return self._decide(by_order[order.id], at, down, now)

        decisions = self.router.place_many([st.order for st in states], at, down, place_one)
        for st, d in zip(states, decisions, strict=True):
            self.apply_decision(st, d, now)

    def _decide(self, st: OrderState, at: datetime, down: Collection[str], t: float) -> Decision:
        """Route and commit an order at `at` (sim time `t`), offering home delivery when
        pickup or same day is short."""
        order = st.order
        if st.method == BOPIS and self._pickup_short(order):
            decision = None  # the pickup store cannot fill it whole: routing would say so
        else:
            decision = self.router.route(order, at, down)
        if decision is None or (decision.unfulfillable and st.method != SHIP):
            order.method, order.pickup_store = DeliveryMethod.SHIP, None
            st.method = SHIP
            if st.idx >= 0:
                self.w.demand.method[st.idx] = SHIP
            self.rec.event(t, "method_fallback", st.idx, -1, -1, order.units, METHODS[SHIP])
            decision = self.router.route(order, at, down)
        self.router.commit(order, decision, at)
        return decision

    def _pickup_short(self, order: Order) -> bool:
        """A pickup order (no substitution) its store's ATS cannot fill whole."""
        if order.allow_store_substitution:
            return False
        ledger, store = self.ledger, order.pickup_store
        known = ledger.sku_index
        return any(
            s not in known or ledger.ats_for(store, s, order.channel) < q  # type: ignore[arg-type]
            for s, q in order.units_by_sku().items()
        )

    def reroute(self, st: OrderState, t: float) -> None:
        """Route an edited order again (before release)."""
        at = self.w.clock.dt(t)
        decision = self.router.reroute(st.order, at, avoid=self.w.disruptions.down_ids(t))
        self.apply_decision(st, decision, t)

    def _line(self, st: OrderState, order: Order, sku: str) -> int:
        for line in order.lines:
            if line.sku == sku:
                return st.line0 + line.line_id
        raise KeyError(f"order {order.id}: no line for {sku}")

    def apply_decision(self, st: OrderState, d: Decision, t: float) -> None:
        """Book a (re)routing decision: lost units, the promise, or a cancel if empty."""
        rec, order = self.rec, st.order
        recorded = st.idx >= 0
        if recorded and st.lost:  # the lines hold the last decision's lost units (else 0)
            rec.l_lost[st.line0 : st.line1] = 0
        lost = 0
        for sku, q in d.unfulfillable:
            lost += q
            if recorded:
                rec.l_lost[self._line(st, order, sku)] = q
                rec.event(t, "stockout", st.idx, -1, self.sku_index.get(sku, -1), q)
        st.lost = lost
        if d.est_delivery is not None and math.isnan(st.promised_h):
            st.promised_h = self.w.clock.hours(d.est_delivery)
        if not d.allocations:
            if order.can_transition(_S.CANCELLED):
                self.router.cancel(order, self.w.clock.dt(t), "no stock")
            self.finish_order(st, t)
        else:
            st.advance("routed")

    def place_exchange(self, order: Order, t: float) -> None:
        """Ship an exchange order at once (not part of the orders table or the KPIs)."""
        st = OrderState(-1, order, SHIP, t, 0, len(order.lines), order.units)
        at = self.w.clock.dt(t)
        d = self.router.route(order, at, self.w.disruptions.down_ids(t))
        self.router.commit(order, d, at)
        self.rec.event(t, "exchange", -1, -1, -1, order.units, f"{order.id} {d.units} routed")
        if not d.allocations:
            if order.can_transition(_S.CANCELLED):
                self.router.cancel(order, at, "no stock")
            return
        st.released = True
        self._dispatch_requests(st, EngineOrder(order), self.router.release(order, at), t)

    # ------------------------------------------------------------------ release

    def _on_release(self, ev: Timer) -> None:
        st: OrderState = ev.value
        if st.final or st.released:
            return
        t = self.env.now
        order = st.order
        if order.status is not _S.ROUTED:
            raise RuntimeError(f"order {order.id}: cannot release in status {order.status}")
        requests = self.router.release(order, self.w.clock.dt(t))
        st.released = True
        st.advance("released")
        self._dispatch_requests(st, EngineOrder(order), requests, t)

    def _dispatch_requests(
        self, st: OrderState, eo: EngineOrder, requests: list[FulfilmentRequest], t: float
    ) -> None:
        order = eo.order
        line_of = {line.sku: st.line0 + line.line_id for line in order.lines}
        sku_index, loc_index = self.sku_index, self.loc_index
        if st.method == BOPIS:
            dest_row = loc_index[order.pickup_store]
            lat, lon = self._loc_lat[dest_row], self._loc_lon[dest_row]
        else:
            dest_row, lat, lon = -1, order.dest_lat, order.dest_lon
        sites = self.w.sites
        for req in requests:
            row = loc_index[req.location]
            lines, units = [], 0  # (sku index, qty, line row) and their units
            for sku, q in req.lines:
                lines.append((sku_index[sku], q, line_of[sku]))
                units += q
            number = st.dispatched  # a re-routed package gets the order's next number
            st.dispatched += 1
            pkg = Package(
                st, eo, req.decision_id, number, row, lines, req.lines, units, st.method,
                dest_row, lat, lon, t,
            )  # fmt: skip
            eo.live += 1
            st.live += 1
            self.live_packages[id(pkg)] = pkg
            sites[row].submit(pkg)

    # ------------------------------------------------------------------ picking

    def picked(self, pkg: Package) -> None:
        """A location finished picking `pkg`: take it off the shelf, or reject it if short."""
        t = self.env.now
        row = pkg.row
        w = self.w
        short = w.stock.pick_lines(row, pkg.lines, t)
        if short:
            self._reject(pkg, short, t)
            return
        at = w.clock.dt(t)
        ledger_on_hand, outflow, sku_weight = self.ledger.on_hand, w.outflow, self._weight
        weight = 0  # of the package (summed as `sum` would) [lb]
        for s, q, _ in pkg.lines:
            outflow[row, s] += q
            weight += sku_weight[s] * q
            if ledger_on_hand.item(row, s) < q:  # the shelf proves the record wrong (never seen
                have = int(ledger_on_hand[row, s])  # with overstatement)
                self.ledger.adjust(row, s, q - have, at, "pick_found")
        self.ledger.fulfil(pkg.decision_id, row, at, "pick")
        pkg.picked_h = t
        pkg.status = "picked"
        st = pkg.st
        st.advance("picked")
        o = pkg.eo.order
        if o.status is _S.RELEASED:
            o.transition(_S.PICKED, at, self.loc_ids[row])
        # costs of the package
        units = pkg.units
        pkg.handling = self._hpo[row] + self._hpu[row] * units
        to_customer_store = pkg.method == BOPIS and self._is_store[row]
        if not to_customer_store:
            pkg.miles = miles_between(
                self._loc_lat[row], self._loc_lon[row], pkg.dest_lat, pkg.dest_lon
            )
            pkg.shipping = self.rates.package_cost(pkg.miles, units, weight)
            pkg.zone = w.zone_of(pkg.miles)
        else:
            pkg.miles = 0.0
        st.packages += 1
        st.shipping += pkg.shipping
        st.handling += pkg.handling
        if to_customer_store:
            w.stock.flows.awaiting_pickup += units
            w.bopis.ready(pkg, t)
        elif pkg.method == SAME_DAY:
            w.carriers.courier(pkg, t)
        else:
            w.carriers.enqueue(pkg, t)

    def _reject(self, pkg: Package, short: list[tuple[int, int, int]], t: float) -> None:
        w, st, row = self.w, pkg.st, pkg.row
        at = w.clock.dt(t)
        rerouted = None
        if self.reroute_on_reject:  # the engine gives the package back and routes it again
            rerouted = self.router.reject(
                pkg.eo.order, self.loc_ids[row], at, "reject", st.rejected_by,
                substitute=True, avoid=w.disruptions.down_ids(t),
            )  # fmt: skip
        else:
            self.ledger.release(pkg.decision_id, at, row, "reject")
        rec = self.rec
        for s, q, j in short:
            missing = q - int(w.stock.on_hand[row, s])  # the units the shelf lacks
            counted = int(w.stock.on_hand[row, s]) + int(w.pending_pos[row, s])
            self.ledger.count(row, s, counted, at, pkg.decision_id)
            if st.idx >= 0:  # a unit of the line is oversold once, however often re-routed
                missing = min(missing, int(rec.l_units[j] - rec.l_oversold[j]))
                rec.l_oversold[j] += missing
            st.oversold += missing
            rec.event(t, "reject", st.idx, row, s, missing, f"counted {counted}")
        w.sites[row].rejected += 1
        pkg.status = "rejected"
        st.rejected_by.append(self.loc_ids[row])
        if rerouted is not None:
            self._send_rerouted(pkg, *rerouted, at, t)
        else:  # the package's units are not delivered: lost, like units with no stock
            self._lose(st, [(q, j) for _, q, j in pkg.lines])
        self.finish_package(pkg, t)

    def _lose(self, st: OrderState, lost: list[tuple[int, int]]) -> None:
        """Count ``(units, line row)`` pairs of a released order as lost (not delivered for
        want of stock, after a rejection)."""
        for q, j in lost:
            st.lost += q
            if st.idx >= 0:
                self.rec.l_lost[j] += q

    def _send_rerouted(
        self, pkg: Package, child: Order, d: Decision, at: datetime, t: float
    ) -> None:
        """Release the re-route order `Router.reject` made of a rejected package (`child`,
        routed by `d`) at `t` (`at`), or cancel it when nothing could be routed; its units
        without stock are lost."""
        st = pkg.st
        units = sum(q for _, q in d.unfulfillable)
        if units:  # no stock for them anywhere now: lost
            sku_ids = self.sku_ids
            line_of = {sku_ids[s]: j for s, _, j in pkg.lines}
            self._lose(st, [(q, line_of[sku]) for sku, q in d.unfulfillable])
        if not d.allocations:
            self.router.cancel(child, at, "no stock after rejection")
            self.rec.event(t, "reroute_failed", st.idx, pkg.row, -1, units)
            return
        if units:
            self.rec.event(t, "reroute_partial", st.idx, pkg.row, -1, units)
        self.rec.event(t, "reroute", st.idx, pkg.row, -1, pkg.units, d.decision_id)
        requests = self.router.release(child, at)
        self._dispatch_requests(st, EngineOrder(child), requests, t)
