"""The `Router`: applies a policy to an order against the ledger and network.

`route` is pure (no state changes). `commit` reserves the decision in the ledger, counts
the location's daily orders and moves the order to ROUTED; `place` does both. `reroute`
gives back the old reservation and routes again (store rejection, edit, outage);
`release` hands the order to its locations as `FulfilmentRequest`s; `reject` routes one
released package again while the others proceed; `cancel` gives the stock back.

Beside it: `lookups` (cached distances, regions and eligibility), `assemble` (a `Decision`
from chosen packages), `booking` (ledger set-up and reservations), `guards` (the checks
that refuse a call before anything changes) and `reject`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import InvalidTransition, LedgerError, RoutingError
from engine.ledger import Ledger
from engine.network import Network
from engine.order import Channel, DeliveryMethod, Order, OrderStatus, check_aware
from engine.rates import RateCard
from engine.routing.assemble import decision_from_plan
from engine.routing.batch import place_many as place_in_batches
from engine.routing.batch import route_whole
from engine.routing.booking import attach_ledger, reserve
from engine.routing.context import Plan, Policy, RoutingContext
from engine.routing.decision import Decision, FulfilmentRequest
from engine.routing.exclusions import Exclusions
from engine.routing.filters import apply_base_filters
from engine.routing.guards import PRE_RELEASE, check_time, refuse_before, refuse_unrecorded
from engine.routing.lookups import Lookups
from engine.routing.policies import BOPIS_POLICY, get_policy
from engine.routing.reject import ReRoutes
from engine.routing.reject import reject as reject_package
from engine.routing.settings import RoutingSettings
from engine.routing.timing import DailyCounter, LocalClock, ShipTimes

if TYPE_CHECKING:
    from engine.routing.batch import _Ranks

__all__ = ["Router"]

# Enum members as module constants: on the hot path (per order) a member read from its
# class (`DeliveryMethod.BOPIS`) costs several times a global in CPython 3.11.
_ROUTED, _RELEASED = OrderStatus.ROUTED, OrderStatus.RELEASED
_BOPIS, _WHOLESALE = DeliveryMethod.BOPIS, Channel.WHOLESALE


class Router:
    """Routes orders with one policy over a network and a ledger.

    Args:
        network: Locations and regions.
        ledger: Inventory record; must know every network location id.
        rates: Shipping and handling rates.
        policy: A `Policy` or a registered policy name.
        settings: Routing settings.

    The network is the source of the ledger's store flags and online thresholds: the router
    sets them on the ledger's rows of the network's locations (`Ledger.configure_locations`)
    when the ledger has none yet, and refuses a ledger that holds others.

    Raises:
        RoutingError: Unknown policy name, a network location missing from the ledger, a
            ledger whose store flags or thresholds differ from the network's, or
            `settings.demand_rate` not one rate per ledger SKU.
    """

    def __init__(
        self,
        network: Network,
        ledger: Ledger,
        rates: RateCard | None = None,
        policy: Policy | str = "closest",
        settings: RoutingSettings | None = None,
    ) -> None:
        self.network, self.ledger = network, ledger
        self.rates = RateCard() if rates is None else rates
        self.settings = RoutingSettings() if settings is None else settings
        self.policy: Policy = get_policy(policy) if isinstance(policy, str) else policy
        locs = network.locations
        self._ledger_rows = attach_ledger(ledger, network)  # None: the ledger's own order
        rate = self.settings.demand_rate
        if rate is not None and rate.size != len(ledger.skus):
            raise RoutingError(
                f"router: settings.demand_rate has {rate.size} values, the ledger "
                f"{len(ledger.skus)} SKUs (one rate per SKU, in ledger order)"
            )
        self._ids = tuple(x.id for x in locs)
        self._hpo, self._hpu = self.rates.handling_arrays(network)
        self._hpo_l, self._hpu_l = self._hpo.tolist(), self._hpu.tolist()  # scalar access
        self._lookups = Lookups(network)  # distances, regions, eligibility templates
        self._clock = LocalClock(network)
        self._counter = DailyCounter(network, self._clock)
        self._ship_times = ShipTimes(network, self.settings, self._clock)
        self._decisions: dict[str, Decision] = {}
        self._counted: dict[str, list[tuple[int, int]]] = {}
        self._excluded = Exclusions()  # locations excluded per order by re-routes
        self._reroutes = ReRoutes()  # the re-route orders `reject` made, per order
        # order id -> units `Ledger.fulfil` consumed under its earlier decisions (orders
        # re-routed after a package was fulfilled only)
        self._fulfilled_before: dict[str, int] = {}
        # rankings per (destination lat, lon, order units) for `place_many` (a
        # `routing.batch._Ranks`), and the sort keys they were ranked by
        self._batch_ranks: dict[tuple[float, float, int], _Ranks] = {}
        self._batch_rank_keys: tuple | None = None
        # the last eligibility lists of `place_many`, with their (exclusions, open mask) key
        self._batch_eligible: tuple[tuple, dict[object, list[bool]]] | None = None

    def orders_today(self, location: str, at: datetime) -> int:
        """Orders currently assigned to a location on its local calendar day at `at`.

        Raises:
            RoutingError: If `at` is not an aware datetime.
        """
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise RoutingError(f"orders_today: time must be a timezone-aware datetime, got {at!r}")
        return self._counter.count(self.network.row(location), at.timestamp())

    # ------------------------------------------------------------------ routing

    def route(self, order: Order, at: datetime, exclude: Collection[str] = ()) -> Decision:
        """Decide where an order's units come from, without changing any state.

        Args:
            order: The order (its current lines, destination and method). Units already
                fulfilled (`Order.record_fulfilled`, e.g. a package that shipped before
                another was rejected) are not routed again.
            at: Routing time, aware UTC.
            exclude: Location ids not to use (e.g. a store that rejected, an outage).

        Returns:
            The `Decision`; units no eligible location can supply are in `unfulfillable`.
            An order one location fills whole is decided by the short cut of
            `routing.batch` when the policy allows it (`route_whole`), with the same
            outcome.

        Raises:
            RoutingError: `at` not an aware datetime, or a BOPIS pickup store that is not
                in the network.
        """
        check_aware(order.id, at, RoutingError)  # pure: no check against the order's history
        if not isinstance(exclude, Collection):  # an iterator is read by both ways below
            exclude = tuple(exclude)
        ts = at.timestamp()
        whole = route_whole(self, order, at, ts, exclude)  # one location fills it: quick
        if whole is not None:
            return whole
        net, settings = self.network, self.settings
        wanted = order.outstanding_by_sku() if order.fulfilled else order.units_by_sku()
        ledger = self.ledger
        sku_index = ledger.sku_index
        skus = tuple(s for s in wanted if s in sku_index)
        unknown = tuple((s, q) for s, q in wanted.items() if s not in sku_index)
        k = len(skus)
        sku_idx = np.array([sku_index[s] for s in skus], dtype=np.int64)
        qty = np.array([wanted[s] for s in skus], dtype=np.int64)
        # StrEnum members are str: they index the ledger's channel table directly. The
        # columns come from `sku_index`: `Ledger.ats`'s range check is skipped (hot path).
        c = ledger._chan(order.channel)
        ats_t = np.ascontiguousarray(ledger._ats(c, sku_idx).T)  # (k, L)
        if self._ledger_rows is not None:
            ats_t = ats_t.take(self._ledger_rows, axis=1)
        method = order.method
        bopis = method is _BOPIS
        pickup_row = None
        lookups = self._lookups
        if bopis:
            pickup_row = net.index.get(order.pickup_store or "")
            if pickup_row is None:
                raise RoutingError(
                    f"order {order.id!r}: pickup store {order.pickup_store!r} is not in the network"
                )
            store = net.locations[pickup_row]
            dist = lookups.distances(store.lat, store.lon)
        else:
            dist = lookups.distances(order.dest_lat, order.dest_lon)
        base, eligible = lookups.template(method, order.channel is _WHOLESALE)
        ctx = RoutingContext(
            order, at, net, self.ledger, self.rates, settings, skus, sku_idx, qty, ats_t, dist,
            eligible.copy(), base, self._hpo, self._hpu, ships=not bopis,
            max_packages=settings.max_packages, ledger_rows=self._ledger_rows,
            region_lookup=lambda: lookups.region_at(order.dest_lat, order.dest_lon),
        )  # fmt: skip
        open_mask = net.open_mask(at)
        apply_base_filters(
            ctx,
            exclude,
            open_mask if settings.closed_location == "skip" else None,
            None if bopis else self._counter.limit_hit(ts),  # the cap is on shipping only
            lookups.only(pickup_row) if bopis and not order.allow_store_substitution else None,
        )
        policy = BOPIS_POLICY if bopis else self.policy
        plan = policy.choose(ctx) if k else Plan(None, [])
        return decision_from_plan(self, order, at, ts, ctx, plan, policy.name, open_mask, unknown)

    # ------------------------------------------------------------------ state changes

    def decision_for(self, order_id: str) -> Decision | None:
        """The committed decision of an order not yet released, if any."""
        return self._decisions.get(order_id)

    def excluded(self, order_id: str) -> frozenset[str]:
        """Locations excluded for an order by earlier re-routes."""
        return self._excluded.of(order_id)

    def _drop(self, order: Order, at: datetime, reason: str) -> None:
        """Give back an order's reservation; un-count daily orders not yet released.

        The ledger goes first: when it refuses, the router has not changed either.
        """
        held = order.decision_id
        if held is None:
            return  # nothing booked for this order object (another may share its id)
        if self.ledger.is_open(held):
            self.ledger.release(held, at, reason=reason)
        current = self._decisions.get(order.id)
        if current is not None and current.decision_id == held:
            del self._decisions[order.id]
            for row, day in self._counted.pop(order.id, ()):
                self._counter.bump(row, day, -1)
        order.decision_id = None

    def commit(self, order: Order, decision: Decision, at: datetime) -> None:
        """Reserve a decision, count daily orders and move the order to ROUTED.

        The new reservation is made before an earlier one of the same order is given back,
        so a failure changes nothing. A decision without allocations reserves nothing; a
        routed order then becomes REJECTED.

        Raises:
            InvalidTransition: If the order cannot move to ROUTED.
            RoutingError: If the decision is for another order, was made before the
                order's last edit, its id is already in the ledger for another order object
                (two orders with one id), another decision of the same id is committed (two
                `route` calls before a commit), its reservation no longer fits the ledger
                (ATS changed since `route`), or `at` is naive or before the order's last
                event.
        """
        check_time(order, at)
        did = decision.decision_id
        if decision.order_id != order.id:
            raise RoutingError(f"decision {did!r} is not for order {order.id!r}")
        if 0 <= decision._edits != len(order.edits):
            raise RoutingError(
                f"order {order.id!r}: decision {did!r} was made before the order's last edit; "
                "route it again"
            )
        if order.decision_id != did and self.ledger.knows(did):
            raise RoutingError(
                f"order {order.id!r}: decision {did!r} is already in the ledger for another "
                f"order with the id {order.id!r}; order ids must be unique"
            )
        current = self._decisions.get(order.id)
        if current is not None and current.decision_id == did:
            if current is decision or current == decision:
                return  # committed already: nothing to do
            raise RoutingError(
                f"order {order.id!r}: another decision with the id {did!r} is committed; "
                "route the order again (`reroute`) to replace it"
            )
        if not order.can_transition(OrderStatus.ROUTED):
            raise InvalidTransition(
                f"order {order.id!r}: cannot go from {order.status.value} to routed"
            )
        if not decision.allocations:
            self._drop(order, at, "reroute")
            if order.status is OrderStatus.ROUTED:
                order.transition(OrderStatus.REJECTED, at, "no eligible stock")
            return
        try:
            held = reserve(self.ledger, order, decision, at)
        except LedgerError as exc:
            raise RoutingError(f"order {order.id!r}: cannot reserve: {exc}") from None
        if not held:
            raise RoutingError(
                f"order {order.id!r}: decision {decision.decision_id!r} was already closed"
            )
        self._drop(order, at, "reroute")  # the earlier reservation, if any
        self._routed(order, decision, at, [self.network.index[x] for x in decision.locations])

    def _routed(
        self,
        order: Order,
        decision: Decision,
        at: datetime,
        rows: list[int],
        ts: float | None = None,
    ) -> None:
        """Book a reserved decision: order -> ROUTED, and its locations' daily counts
        (`ts` is `at` as a timestamp, when the caller has it). [s]"""
        order.transition(_ROUTED, at, f"{decision.policy} {decision.decision_id}")
        order.decision_id = decision.decision_id
        self._decisions[order.id] = decision
        # The daily order limit caps ship-from-store work; pickups at the store do not count.
        if order.method is not _BOPIS:
            self._counted[order.id] = self._counter.add(rows, at.timestamp() if ts is None else ts)

    def place(self, order: Order, at: datetime) -> Decision:
        """Route and commit a new order; returns the decision."""
        decision = self.route(order, at)
        self.commit(order, decision, at)
        return decision

    def place_many(
        self,
        orders: Sequence[Order],
        at: datetime,
        exclude: Collection[str] = (),
        place_one: Callable[[Order], Decision] | None = None,
    ) -> list[Decision]:
        """Place orders in sequence: the outcome of `place` one by one, decided in batches
        where the policy allows (see `engine.routing.batch.place_many`, also for
        `place_one`); returns their decisions.

        Raises:
            RoutingError: If `at` is not an aware datetime (nothing changes); otherwise as
                `place` for each order.
        """
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise RoutingError(f"place_many: time must be a timezone-aware datetime, got {at!r}")
        return place_in_batches(self, orders, at, exclude, place_one)

    def reroute(
        self,
        order: Order,
        at: datetime,
        exclude: Collection[str] = (),
        avoid: Collection[str] = (),
    ) -> Decision:
        """Give back the order's reservation and route it again, then commit.

        Exclusions accumulate per order (a store that rejected stays excluded on the next
        re-route); `avoid` lists locations not to use this time only (e.g. those in an
        outage now), which are not remembered. A released order (a store rejected it) is
        marked REJECTED first.

        Only units not yet fulfilled are routed (a package that shipped before another was
        rejected is not shipped again). So units the ledger consumed under the order's
        decisions (`Ledger.fulfil`) must be recorded on the order first
        (`Order.record_fulfilled`): the router compares the units consumed with the units
        the order records as fulfilled, in total, and refuses when fewer are recorded.

        An order with a package rejected by `reject` is not routed again whole while one
        of its re-route orders is not cancelled (their units would be routed twice):
        reject its other packages one by one, or cancel the re-route orders first.

        Raises:
            InvalidTransition: If the order is past release (picked, shipped, ...) or closed
                (nothing changes).
            RoutingError: If the order has a re-route order that is not cancelled, the
                ledger consumed units of it that it does not record as fulfilled, or `at`
                is not an aware datetime or is before the order's last event (nothing
                changes).
        """
        check_time(order, at)
        status = order.status
        if status is not OrderStatus.RELEASED and status not in PRE_RELEASE:
            raise InvalidTransition(f"order {order.id!r}: cannot re-route in status {status.value}")
        if order.id in self._reroutes.by_order:
            self._reroutes.refuse(order, "re-route", self.ledger)
        held = order.decision_id
        consumed = self.ledger.units_fulfilled(held) if held is not None else 0
        if consumed:
            consumed += self._fulfilled_before.get(order.id, 0)
            refuse_unrecorded(order, held, consumed)
        if status is OrderStatus.RELEASED:
            order.transition(OrderStatus.REJECTED, at, "reroute")
        excluded = self._excluded.of(order.id).union(exclude)
        self._drop(order, at, "reroute")
        if consumed:  # the old decision is history: its units count on the next re-route
            self._fulfilled_before[order.id] = consumed
        self._excluded.put(order, excluded)
        decision = self.route(order, at, excluded | set(avoid))
        self.commit(order, decision, at)
        return decision

    def release(self, order: Order, at: datetime) -> list[FulfilmentRequest]:
        """Release a routed order to its locations (order -> RELEASED).

        Returns:
            One `FulfilmentRequest` per package.

        Raises:
            InvalidTransition: If the order is not ROUTED (e.g. released already).
            RoutingError: If the order has no committed decision, its reservation was
                closed or fulfilled in part in the ledger behind the router's back (e.g.
                `Ledger.fulfil` before release), it was edited since it was routed
                (`Order.needs_reroute`: call `reroute` first, so that the locations do not
                pick the quantities or address of before the edit), or `at` is not an
                aware datetime or is before the order's last event (nothing changes).
        """
        check_aware(order.id, at, RoutingError)
        if order.status is not _ROUTED:
            raise InvalidTransition(
                f"order {order.id!r}: cannot release in status {order.status.value}"
            )
        # Not `check_time`: a wrong status is reported before a time before the last event.
        if at < order.history[-1][0]:
            refuse_before(order, at)
        decision = self._decisions.get(order.id)
        if decision is None or decision.decision_id != order.decision_id:
            raise RoutingError(f"order {order.id!r}: nothing to release; it has no reservation")
        did = decision.decision_id
        if not self.ledger.is_open(did):
            raise RoutingError(
                f"order {order.id!r}: decision {did!r} is already closed in the ledger "
                "(fulfilled or released outside the router); nothing to release"
            )
        if did in self.ledger._fulfilled:  # `Ledger.was_fulfilled`, inline: once per order
            raise RoutingError(
                f"order {order.id!r}: decision {did!r} was fulfilled in part in the ledger "
                "before release (Ledger.fulfil outside the router); record those units on "
                "the order (Order.record_fulfilled) and re-route the rest"
            )
        if order.needs_reroute:
            raise RoutingError(
                f"order {order.id!r}: edited since decision {decision.decision_id!r}; "
                "re-route it before release"
            )
        order.transition(_RELEASED, at, decision.decision_id)
        del self._decisions[order.id]  # the order keeps decision_id for a later re-route
        self._counted.pop(order.id, None)  # the locations now hold the work for the day
        return decision.fulfilment_requests(order)

    def reject(
        self,
        order: Order,
        location: str,
        at: datetime,
        reason: str = "reject",
        exclude: Collection[str] = (),
        substitute: bool | None = None,
        avoid: Collection[str] = (),
    ) -> tuple[Order, Decision]:
        """One location cannot pick its package of a released order: give back only that
        package's reservation and route its units again; the other packages proceed.

        The package becomes a re-route order ``"<decision id>.<location>"`` (e.g.
        ``"O1-D1.ST2"``: unique, as a decision holds one package per location and it can
        be rejected once) with the order's channel, customer, destination, delivery method,
        pickup store and store substitution (unless `substitute` says otherwise), and one
        line per SKU of the package (with the id of the order's first line of that SKU).
        It is routed without the rejecting location, `exclude` and the order's earlier
        exclusions (which it keeps, as `reroute` does) and without `avoid` (this time only),
        and committed: `release` it to send its packages. The order keeps its status. To route the whole order again instead,
        use `reroute`.

        The router remembers the order's re-route orders (also those of its re-route
        orders' rejected packages). While one of them is not cancelled, `reroute` of the
        order is refused (their units would be routed twice: reject its other packages one
        by one instead); while one may still take stock (created, routed, rejected, or
        released with its decision open in the ledger), `cancel` of the order is refused
        (cancel it first). They are forgotten once the order is shipped, collected,
        cancelled or closed, or once all of them are cancelled.

        An order all of whose packages were rejected stays RELEASED, with its decision
        closed in the ledger and nothing reserved: its units are its re-route orders'. The
        caller moves it on with them (records the units they fulfil on it with
        `Order.record_fulfilled` and moves its status), or cancels it once they hold no
        stock (`cancel` then gives nothing back).

        Args:
            order: A released order (RELEASED, or further along when another of its
                packages was picked or shipped).
            location: Location id of a package of the order's current decision that is
                still reserved (not fulfilled, not rejected yet).
            at: Time of the rejection, aware UTC.
            reason: Short reason for the ledger's audit, e.g. ``"not_on_shelf"``.
            exclude: More location ids not to use, remembered with the others.
            avoid: Location ids not to use for this routing only (e.g. those in an outage
                now): not remembered, so a later re-route or rejection may use them.
            substitute: The re-route order's store substitution: True lets the nearest
                other store with stock fill a pickup order, False only its pickup store
                (so none when that store is the one rejecting); None keeps the order's
                `allow_store_substitution`.

        Returns:
            The re-route order (ROUTED; CREATED when no location can supply its units)
            and its `Decision` (units no location can supply are in `unfulfillable`).

        Raises:
            InvalidTransition: If the order is not released yet, or is cancelled or
                closed (nothing changes).
            RoutingError: If `location` holds no reserved package of the order's current
                decision, `reason` is empty or holds ':', the re-route order cannot be
                committed, or `at` is not an aware datetime or is before the order's last
                event (nothing changes).
        """
        return reject_package(self, order, location, at, reason, exclude, substitute, avoid)

    def cancel(self, order: Order, at: datetime, reason: str = "cancelled") -> None:
        """Cancel an order and give back its reservation.

        Units fulfilled under an earlier decision and recorded on the order (a package that
        shipped before the order was re-routed) stay fulfilled; only the current decision's
        reservation is given back. Units of the current decision already consumed in the
        ledger (`Ledger.fulfil`) cannot be cancelled: record them on the order
        (`Order.record_fulfilled`) and `reroute` the rest first.

        An order with a package rejected by `reject` is not cancelled while one of its
        re-route orders may still take stock (created, routed, rejected, or released with
        its decision open in the ledger): cancel those first. Re-route orders already
        picked go on.

        Raises:
            InvalidTransition: If the order can no longer be cancelled (nothing changes).
            RoutingError: If units of the order's current decision were fulfilled in the
                ledger, a re-route order of it may still take stock, or `at` is not an
                aware datetime or is before the order's last event (nothing changes).
        """
        check_time(order, at)
        if not order.can_transition(OrderStatus.CANCELLED):
            raise InvalidTransition(
                f"order {order.id!r}: cannot go from {order.status.value} to cancelled"
            )
        held = order.decision_id
        if held is not None and self.ledger.was_fulfilled(held):
            raise RoutingError(
                f"order {order.id!r}: units of decision {held!r} were already fulfilled in the "
                "ledger (Ledger.fulfil) and cannot be cancelled; record them on the order "
                "(Order.record_fulfilled) and re-route the rest before cancelling it"
            )
        reroutes = self._reroutes
        rerouted = order.id in reroutes.by_order
        if rerouted:
            reroutes.refuse(order, "cancel", self.ledger)
        self._drop(order, at, "cancel")
        order.cancel(at, reason)
        self._excluded.drop(order.id)
        if rerouted:
            reroutes.drop(order.id)
        if self._fulfilled_before:
            self._fulfilled_before.pop(order.id, None)
