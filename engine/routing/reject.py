"""One location of a released order cannot pick its package (`Router.reject`).

Only that package's reservation is given back; its units are routed again as a re-route
order while the order's other packages proceed. The router remembers each order's re-route
orders (`ReRoutes`), so that the order is not routed again whole (`Router.reroute`) while
they carry some of its units, nor cancelled (`Router.cancel`) while they may still take
stock.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from engine.errors import InvalidTransition, LedgerError, RoutingError
from engine.ledger import Ledger
from engine.order import Order, OrderLine, OrderStatus
from engine.routing.guards import PRE_RELEASE, check_time
from engine.stock import check_reason

if TYPE_CHECKING:
    from engine.routing.decision import Decision
    from engine.routing.router import Router

__all__ = ["ReRoutes", "reject"]

_S = OrderStatus
#: A re-route order in these statuses may still take stock (released: while its decision
#: is open in the ledger); once picked, or with its packages all rejected, it holds none.
_MAY_HOLD = frozenset({_S.CREATED, _S.ROUTED, _S.REJECTED})
#: An order in these statuses may still be re-routed or cancelled by the router.
_PARENT_OPEN = frozenset({_S.RELEASED, _S.PICKED, _S.READY_FOR_PICKUP})
_SWEEP_MIN = 64


class ReRoutes:
    """The re-route orders `reject` made, per order, while they matter.

    An order's entry lists every re-route order made for it, also those made in turn for
    its re-route orders (a rejected re-route package), oldest first. It is kept while the
    order may still be re-routed or cancelled (released, picked or ready for pickup) and
    one of those re-route orders is not cancelled; entries that no longer matter are
    dropped when their order is looked at (`refuse`) or cancelled, and all at once
    whenever the re-route orders remembered have doubled since the last sweep, so memory
    stays within about twice what matters.

    Attributes:
        by_order: Order id -> (the order, its re-route orders).
    """

    __slots__ = ("_sweep_at", "_up", "by_order")

    def __init__(self) -> None:
        self.by_order: dict[str, tuple[Order, list[Order]]] = {}
        self._up: dict[str, str] = {}  # re-route order id -> id of the order it came from
        self._sweep_at = _SWEEP_MIN

    def add(self, parent: Order, rerouted: Order) -> None:
        """Remember that `rerouted` carries units of `parent` (and of its ancestors)."""
        if len(self._up) >= self._sweep_at:
            self._sweep()
        by_order, up = self.by_order, self._up
        if parent.id not in by_order:
            by_order[parent.id] = (parent, [])
        up[rerouted.id] = parent.id
        oid: str | None = parent.id
        while oid is not None:
            entry = by_order.get(oid)
            if entry is not None:
                entry[1].append(rerouted)
            oid = up.get(oid)

    def _sweep(self) -> None:
        """Drop the entries that no longer matter, and the links only they used."""
        kept = {k: v for k, v in self.by_order.items() if _matters(*v)}
        ids = {r.id for _, rerouted in kept.values() for r in rerouted}
        self.by_order = kept
        self._up = {k: v for k, v in self._up.items() if k in ids}
        self._sweep_at = max(_SWEEP_MIN, 2 * len(self._up))

    def refuse(self, order: Order, action: str, ledger: Ledger) -> None:
        """Raise if a re-route order of `order` stands in the way of `action`.

        Args:
            order: The order to re-route or cancel.
            action: ``"re-route"`` (refused while one of its re-route orders is not
                cancelled: their units would be routed twice) or ``"cancel"`` (refused
                while one may still take stock: created, routed, rejected, or released
                with its decision open in the ledger).
            ledger: The router's ledger.

        Raises:
            RoutingError: Naming the re-route orders and what to do (nothing changes).
        """
        entry = self.by_order.get(order.id)
        if entry is None:
            return
        if not _matters(*entry):
            del self.by_order[order.id]  # memory only: nothing the caller can see
            return
        rerouted = entry[1]
        if action == "cancel":
            live = [
                r for r in rerouted
                if r.status in _MAY_HOLD
                or (r.status is _S.RELEASED and ledger.is_open(r.decision_id or ""))
            ]  # fmt: skip
            if live:
                raise RoutingError(
                    f"order {order.id!r}: re-route order(s) {_named(live)} of its rejected "
                    "packages may still take stock; cancel them first (Router.cancel), "
                    "then the order"
                )
            return
        live = [r for r in rerouted if r.status is not _S.CANCELLED]
        raise RoutingError(
            f"order {order.id!r}: re-route order(s) {_named(live)} carry units of its "
            "rejected packages, and routing the whole order again would route them twice; "
            "reject its other packages one by one (Router.reject), or cancel the re-route "
            "orders first"
        )

    def drop(self, order_id: str) -> None:
        """Forget an order's re-route orders (the order was cancelled)."""
        self.by_order.pop(order_id, None)


def _matters(parent: Order, rerouted: list[Order]) -> bool:
    """Whether the router may still refuse something for `parent` (see `ReRoutes`)."""
    return parent.status in _PARENT_OPEN and any(r.status is not _S.CANCELLED for r in rerouted)


def _named(orders: list[Order]) -> str:
    return ", ".join(f"{r.id!r} ({r.status.value})" for r in orders)


def reject(
    router: Router,
    order: Order,
    location: str,
    at: datetime,
    reason: str,
    exclude: Collection[str],
    substitute: bool | None = None,
    avoid: Collection[str] = (),
) -> tuple[Order, Decision]:
    """`Router.reject` (see there)."""
    check_time(order, at)
    if order.status in PRE_RELEASE or order.is_terminal:
        raise InvalidTransition(
            f"order {order.id!r}: cannot reject a package in status {order.status.value}; "
            "only a released order's packages can be rejected (`reroute` routes again)"
        )
    try:
        check_reason(reason)
    except LedgerError as exc:
        raise RoutingError(f"order {order.id!r}: {exc}") from None
    held, row, lines = _package(router.ledger, order, location)
    rerouted = Order(
        f"{held}.{location}", order.channel, order.customer_id, order.dest_lat,
        order.dest_lon, lines, order.method, order.pickup_store,
        order.allow_store_substitution if substitute is None else substitute,
        created_at=at, promised_at=order.promised_at,
    )  # fmt: skip
    excluded = router._excluded.of(order.id).union(exclude, (location,))
    decision = router.route(rerouted, at, excluded | set(avoid))
    router.commit(rerouted, decision, at)  # if it refuses, nothing has changed yet
    router.ledger.release(held, at, row, reason)
    router._excluded.put(order, excluded)
    router._excluded.put(rerouted, excluded)  # frozen: the two orders share it
    router._reroutes.add(order, rerouted)
    return rerouted, decision


def _package(ledger: Ledger, order: Order, location: str) -> tuple[str, int, list[OrderLine]]:
    """The order's current decision id, the ledger row of `location` and its reserved
    package of that decision as order lines (one per SKU, with the id of the order's
    first line of that SKU).

    Raises:
        RoutingError: `location` holds no reserved package of that decision.
    """
    held = order.decision_id
    row = ledger.loc_index.get(location) if isinstance(location, str) else None
    booked = ledger.reservations(held) if held is not None else []
    first: dict[str, int] = {}
    for line in reversed(order.lines):
        first[line.sku] = line.line_id
    skus = ledger.skus
    lines = [OrderLine(skus[s], q, first[skus[s]]) for i, s, q in booked if i == row]
    if held is None or row is None or not lines:
        where = sorted({ledger.location_ids[i] for i, _, _ in booked})
        raise RoutingError(
            f"order {order.id!r}: {location!r} holds no reserved package of decision "
            f"{held!r} (not in it, or fulfilled or rejected already); reserved packages "
            f"are at: {', '.join(where) or 'none'}"
        )
    return held, row, lines
