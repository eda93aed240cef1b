"""Customer orders and their lifecycle.

An `Order` moves through `OrderStatus` values along `ALLOWED_TRANSITIONS` only; every move
is recorded in `Order.history`. Customer-service edits (quantity, line removal, address) are
allowed only before the order is released to a location, and flag it for re-routing.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from engine.errors import InvalidTransition

__all__ = [
    "ALLOWED_TRANSITIONS",
    "Channel",
    "DeliveryMethod",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Refund",
]


class Channel(StrEnum):
    """Sales channel an order came from."""

    WEB = "web"
    APP = "app"
    MARKETPLACE = "marketplace"
    SOCIAL = "social"
    POS = "pos"
    WHOLESALE = "wholesale"


class DeliveryMethod(StrEnum):
    """How the customer receives the order."""

    SHIP = "ship"
    BOPIS = "bopis"
    SAME_DAY = "same_day"


class OrderStatus(StrEnum):
    """Lifecycle status of an order."""

    CREATED = "created"
    ROUTED = "routed"
    RELEASED = "released"
    PICKED = "picked"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    PARTIALLY_FULFILLED = "partially_fulfilled"


_S = OrderStatus
ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    _S.CREATED: frozenset({_S.ROUTED, _S.CANCELLED}),
    _S.ROUTED: frozenset({_S.RELEASED, _S.CANCELLED, _S.REJECTED, _S.ROUTED}),
    _S.REJECTED: frozenset({_S.ROUTED, _S.CANCELLED}),
    _S.RELEASED: frozenset({_S.PICKED, _S.REJECTED, _S.CANCELLED}),
    _S.PICKED: frozenset({_S.SHIPPED, _S.READY_FOR_PICKUP}),
    _S.SHIPPED: frozenset({_S.DELIVERED, _S.PARTIALLY_FULFILLED}),
    _S.READY_FOR_PICKUP: frozenset({_S.PICKED_UP, _S.CANCELLED}),  # cancelled = no-show
    # Delivered / picked up end the lifecycle; only `Order.close()` may still mark them
    # partially fulfilled when some units were never fulfilled.
    _S.DELIVERED: frozenset({_S.PARTIALLY_FULFILLED}),
    _S.PICKED_UP: frozenset({_S.PARTIALLY_FULFILLED}),
    _S.CANCELLED: frozenset(),
    _S.PARTIALLY_FULFILLED: frozenset(),
}
"""Status -> statuses it may move to. CANCELLED and PARTIALLY_FULFILLED are terminal."""

_EDITABLE = frozenset({_S.CREATED, _S.ROUTED, _S.REJECTED})
_CLOSABLE = frozenset({_S.SHIPPED, _S.DELIVERED, _S.PICKED_UP})

# Enum members as module constants: on the hot path (per order) a member read from its
# class (`DeliveryMethod.BOPIS`) costs several times a global in CPython 3.11.
_ROUTED, _BOPIS = OrderStatus.ROUTED, DeliveryMethod.BOPIS


MAX_LINE_UNITS = 2**31 - 1
"""Most units one order line may ask for, so that sums over lines stay exact in the routing
arrays (far above any stock: `Ledger.max_units` is 536,870,911 for int32). [units]"""


@dataclass(slots=True)
class OrderLine:
    """One SKU line of an order.

    Attributes:
        sku: Stock-keeping unit id.
        quantity: Units ordered, > 0. [units]
        line_id: Line id, unique within the order.
    """

    sku: str
    quantity: int
    line_id: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int):
            raise ValueError(f"order line {self.sku!r}: quantity must be an integer")
        if not 0 < self.quantity <= MAX_LINE_UNITS:
            raise ValueError(
                f"order line {self.sku!r}: quantity must be in 1..{MAX_LINE_UNITS:,}, "
                f"got {self.quantity}"
            )
        if not isinstance(self.sku, str) or not self.sku:
            raise ValueError(f"order line: sku must be a non-empty string, got {self.sku!r}")


@dataclass(frozen=True, slots=True)
class Refund:
    """A (partial) refund given on an order.

    Attributes:
        at: When it was given (aware UTC).
        amount: Refunded amount. [USD]
        reason: Why, e.g. "damaged", "late", "return".
        sku: SKU the refund is for, or None for an order-level refund.
        quantity: Units refunded (0 for goodwill refunds). [units]
    """

    at: datetime
    amount: float
    reason: str
    sku: str | None = None
    quantity: int = 0


def check_aware(
    order_id: str, at: object, error: type[Exception] = ValueError, name: str = "time"
) -> None:
    """Raise `error` naming the order (and the field `name`) unless `at` is a
    timezone-aware datetime."""
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise error(
            f"order {order_id!r}: {name} must be a timezone-aware datetime (UTC), got {at!r}"
        )


def _is_number(x: object) -> bool:
    return type(x) is float or (isinstance(x, numbers.Real) and not isinstance(x, bool))


def _check_coords(order_id: str, lat: float, lon: float) -> None:
    for name, value in (
        () if type(lat) is type(lon) is float else (("latitude", lat), ("longitude", lon))
    ):
        if not _is_number(value):
            raise ValueError(
                f"order {order_id!r}: destination {name} must be a number, got {value!r}"
            )
    if not (-90.0 <= lat <= 90.0) or not (-180.0 <= lon <= 180.0):
        raise ValueError(f"order {order_id!r}: bad destination coordinates ({lat}, {lon})")


@dataclass(slots=True)
class Order:
    """A customer order and its lifecycle.

    Attributes:
        id: Order id.
        channel: Sales channel.
        customer_id: Customer id.
        dest_lat: Destination latitude. [deg]
        dest_lon: Destination longitude. [deg]
        lines: Order lines; line ids are unique (all-default ids are numbered 0..n-1).
        method: Delivery method.
        pickup_store: Store id for BOPIS orders.
        allow_store_substitution: BOPIS: the nearest store with stock may be used instead.
        created_at: Creation time (aware UTC); keyword-only.
        promised_at: Promised delivery or pickup time (aware UTC), if any.
        status: Current lifecycle status.
        history: `(time, new status, reason)` per status change, starting with creation.
        refunds: Refunds given.
        decision_id: Id of the routing decision currently holding stock for this order.
        needs_reroute: Set by edits; cleared when the order is routed again.
        fulfilled: line_id -> units fulfilled so far (see `record_fulfilled`). [units]
        edits: `(time, description)` of customer-service edits.
        exchanges: Exchange orders raised so far for returns of this order; numbers their
            ids (see `ReturnsPolicy.decide`).
        returned: SKU -> units returned so far (counted by `ReturnsPolicy.apply` when given
            the order; they cannot come back twice); None until the first. [units]
    """

    id: str
    channel: Channel
    customer_id: str
    dest_lat: float
    dest_lon: float
    lines: list[OrderLine]
    method: DeliveryMethod = DeliveryMethod.SHIP
    pickup_store: str | None = None
    allow_store_substitution: bool = False
    created_at: datetime = field(kw_only=True)
    promised_at: datetime | None = None
    status: OrderStatus = OrderStatus.CREATED
    history: list[tuple[datetime, OrderStatus, str]] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    decision_id: str | None = None
    needs_reroute: bool = False
    fulfilled: dict[int, int] = field(default_factory=dict)
    edits: list[tuple[datetime, str]] = field(default_factory=list)
    exchanges: int = 0
    returned: dict[str, int] | None = None

    def __post_init__(self) -> None:
        if not (type(self.id) is str or isinstance(self.id, str)) or not self.id:
            raise ValueError(f"order id must be a non-empty string, got {self.id!r}")
        try:  # (members pass through: a cheap test before the enum lookup)
            if type(self.channel) is not Channel:
                self.channel = Channel(self.channel)
            if type(self.method) is not DeliveryMethod:
                self.method = DeliveryMethod(self.method)
            if type(self.status) is not OrderStatus:
                self.status = OrderStatus(self.status)
        except ValueError as exc:
            raise ValueError(f"order {self.id!r}: {exc}") from None
        _check_coords(self.id, self.dest_lat, self.dest_lon)
        if not self.lines:
            raise ValueError(f"order {self.id!r}: needs at least one line")
        ids = [line.line_id for line in self.lines]
        if len(set(ids)) != len(ids):
            if any(ids):
                raise ValueError(f"order {self.id!r}: duplicate line ids {ids}")
            for i, line in enumerate(self.lines):
                line.line_id = i
        if self.method is _BOPIS and not self.pickup_store:
            raise ValueError(f"order {self.id!r}: BOPIS order needs a pickup_store")
        at = self.created_at
        if type(at) is not datetime or at.tzinfo is None:  # the hot path: one check
            check_aware(self.id, at, ValueError, "created_at")
        if self.promised_at is not None:
            check_aware(self.id, self.promised_at, ValueError, "promised_at")
        if not self.history:
            self.history.append((self.created_at, self.status, "created"))

    # --- quantities ---------------------------------------------------------------------

    @property
    def units(self) -> int:
        """Units ordered over all lines. [units]"""
        return sum(line.quantity for line in self.lines)

    def units_by_sku(self) -> dict[str, int]:
        """Units ordered per SKU, summed over the lines, in order of first appearance. [units]"""
        wanted: dict[str, int] = {}
        for line in self.lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        return wanted

    def outstanding_by_sku(self) -> dict[str, int]:
        """Units ordered but not yet fulfilled per SKU, in order of first appearance;
        SKUs with nothing outstanding are left out. [units]"""
        wanted: dict[str, int] = {}
        for sku, left in self.unfulfilled():
            wanted[sku] = wanted.get(sku, 0) + left
        return wanted

    @property
    def fulfilled_units(self) -> int:
        """Units fulfilled so far. [units]"""
        return sum(self.fulfilled.get(line.line_id, 0) for line in self.lines)

    @property
    def unfulfilled_units(self) -> int:
        """Units ordered but not (yet) fulfilled. [units]"""
        done = self.fulfilled
        return sum(line.quantity - done.get(line.line_id, 0) for line in self.lines)

    def unfulfilled(self) -> list[tuple[str, int]]:
        """`(sku, units)` per line with units not yet fulfilled."""
        out = []
        for line in self.lines:
            left = line.quantity - self.fulfilled.get(line.line_id, 0)
            if left > 0:
                out.append((line.sku, left))
        return out

    def line(self, line_id: int) -> OrderLine:
        """The line with this id; raises ValueError naming the order if absent."""
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise ValueError(f"order {self.id!r}: no line {line_id}")

    def record_fulfilled(self, sku: str, qty: int) -> None:
        """Record `qty` units of `sku` as fulfilled (shipped or handed over).

        Units fill the order's lines for that SKU in line order.

        Raises:
            ValueError: If the SKU is not on the order, `qty` <= 0, or more units would be
                fulfilled than were ordered.
        """
        self.record_fulfilled_many(((sku, qty),))

    def record_fulfilled_many(self, items: Iterable[tuple[str, int]]) -> None:
        """`record_fulfilled` for each `(sku, qty)` in turn, in one pass over the lines.

        Nothing is recorded when any item is invalid (the errors are those of
        `record_fulfilled`).
        """
        want: dict[str, int] = {}
        for sku, qty in items:
            if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
                raise ValueError(f"order {self.id!r}: fulfilled quantity must be > 0, got {qty!r}")
            want[sku] = want.get(sku, 0) + qty
        done = self.fulfilled
        room: dict[str, int] = {}  # units outstanding per wanted SKU on the order
        for line in self.lines:
            if line.sku in want:
                room[line.sku] = room.get(line.sku, 0) + line.quantity - done.get(line.line_id, 0)
        for sku, qty in want.items():
            if sku not in room:
                raise ValueError(f"order {self.id!r}: sku {sku!r} is not on the order")
            if qty > room[sku]:
                raise ValueError(
                    f"order {self.id!r}: cannot fulfil {qty} of {sku!r}, only {room[sku]} outstanding"
                )
        for line in self.lines:
            qty = want.get(line.sku, 0)
            if qty:
                take = min(line.quantity - done.get(line.line_id, 0), qty)
                if take:
                    done[line.line_id] = done.get(line.line_id, 0) + take
                    want[line.sku] = qty - take

    # --- lifecycle ----------------------------------------------------------------------

    def can_transition(self, to: OrderStatus) -> bool:
        """Whether `to` is allowed from the current status."""
        return to in ALLOWED_TRANSITIONS[self.status]

    def transition(self, to: OrderStatus, at: datetime, reason: str = "") -> None:
        """Move to status `to` and record it in `history`.

        Moving to ROUTED clears `needs_reroute`.

        Raises:
            InvalidTransition: If `to` is not allowed from the current status.
            ValueError: If `at` is not a timezone-aware datetime.
        """
        if type(at) is not datetime or at.tzinfo is None:  # the hot path: one check
            check_aware(self.id, at)
        if type(to) is not OrderStatus:
            to = OrderStatus(to)
        if to not in ALLOWED_TRANSITIONS[self.status]:
            raise InvalidTransition(
                f"order {self.id!r}: cannot go from {self.status.value} to {to.value}"
            )
        self.status = to
        self.history.append((at, to, reason))
        if to is _ROUTED:
            self.needs_reroute = False

    @property
    def is_editable(self) -> bool:
        """True before release to a location (created, routed or rejected)."""
        return self.status in _EDITABLE

    @property
    def is_terminal(self) -> bool:
        """True when no further status change is possible."""
        return not ALLOWED_TRANSITIONS[self.status]

    def _check_editable(self, what: str) -> None:
        if self.status not in _EDITABLE:
            raise InvalidTransition(
                f"order {self.id!r}: cannot {what} in status {self.status.value}; "
                "edits are allowed only before release"
            )

    def _edited(self, at: datetime, description: str) -> None:
        self.needs_reroute = True
        self.edits.append((at, description))

    def edit_quantity(self, line_id: int, qty: int, at: datetime) -> None:
        """Change a line's quantity (> 0) before release; flags the order for re-routing.

        Raises:
            InvalidTransition: If the order was already released.
            ValueError: If the line is unknown, `qty` <= 0 or below the line's units already
                fulfilled (a re-routed order that shipped in part), or `at` is naive.
        """
        self._check_editable("edit quantity")
        check_aware(self.id, at)
        line = self.line(line_id)
        if isinstance(qty, bool) or not isinstance(qty, int) or not 0 < qty <= MAX_LINE_UNITS:
            raise ValueError(
                f"order {self.id!r}: quantity must be in 1..{MAX_LINE_UNITS:,}, got {qty!r}"
            )
        done = self.fulfilled.get(line_id, 0)
        if qty < done:
            raise ValueError(
                f"order {self.id!r}: line {line_id} has {done} units fulfilled already; "
                f"its quantity cannot go below that (got {qty})"
            )
        old, line.quantity = line.quantity, qty
        self._edited(at, f"line {line_id} ({line.sku}) quantity {old} -> {qty}")

    def remove_line(self, line_id: int, at: datetime) -> None:
        """Remove a line before release; flags the order for re-routing.

        Raises:
            InvalidTransition: If the order was already released.
            ValueError: If the line is unknown, is the last line (cancel instead) or has
                units fulfilled already, or `at` is naive.
        """
        self._check_editable("remove a line")
        check_aware(self.id, at)
        line = self.line(line_id)
        if len(self.lines) == 1:
            raise ValueError(f"order {self.id!r}: cannot remove the last line; cancel instead")
        if self.fulfilled.get(line_id, 0):
            raise ValueError(
                f"order {self.id!r}: line {line_id} has units fulfilled already; "
                "it cannot be removed"
            )
        self.lines.remove(line)
        self._edited(at, f"line {line_id} ({line.sku}) removed")

    def change_address(self, lat: float, lon: float, at: datetime) -> None:
        """Change the destination before release; flags the order for re-routing.

        Raises:
            InvalidTransition: If the order was already released.
            ValueError: If the coordinates are out of range, or `at` is naive.
        """
        self._check_editable("change address")
        check_aware(self.id, at)
        _check_coords(self.id, lat, lon)
        old = (self.dest_lat, self.dest_lon)
        self.dest_lat, self.dest_lon = lat, lon
        self._edited(at, f"address {old} -> {(lat, lon)}")

    def cancel(self, at: datetime, reason: str = "cancelled") -> None:
        """Cancel the order (allowed before pick, or a BOPIS no-show).

        This changes the order only: a routed order's reservation stays in the ledger. Use
        `Router.cancel`, which gives it back, for an order the router has placed.

        Raises:
            InvalidTransition: If the order can no longer be cancelled.
        """
        self.transition(OrderStatus.CANCELLED, at, reason)

    def close(self, at: datetime, reason: str = "closed") -> OrderStatus:
        """End the lifecycle after shipment, delivery or pickup.

        Moves to PARTIALLY_FULFILLED when some units were never fulfilled (per
        `record_fulfilled`); otherwise the status is unchanged. Closing an order that is
        already CANCELLED or PARTIALLY_FULFILLED does nothing.

        Returns:
            The final status.

        Raises:
            InvalidTransition: If the order is still in progress (not shipped, delivered or
                picked up).
        """
        if self.status in (OrderStatus.CANCELLED, OrderStatus.PARTIALLY_FULFILLED):
            return self.status
        if self.status not in _CLOSABLE:
            raise InvalidTransition(
                f"order {self.id!r}: cannot close in status {self.status.value}; "
                "only shipped, delivered or picked-up orders can be closed"
            )
        if self.unfulfilled_units > 0:
            self.transition(OrderStatus.PARTIALLY_FULFILLED, at, reason)
        return self.status

    # --- refunds ------------------------------------------------------------------------

    def add_refund(
        self, amount: float, at: datetime, reason: str, sku: str | None = None, quantity: int = 0
    ) -> Refund:
        """Record a (partial) refund on the order.

        Args:
            amount: Refunded amount, > 0. [USD]
            at: When (aware UTC).
            reason: Why.
            sku: SKU refunded, or None for an order-level refund.
            quantity: Units refunded, >= 0. [units]

        Returns:
            The recorded `Refund`.

        Raises:
            ValueError: If the amount is not a positive finite number, the quantity is
                negative, the SKU is not on the order, or `at` is naive.
        """
        check_aware(self.id, at)
        if not isinstance(amount, int | float) or not math.isfinite(amount) or amount <= 0:
            raise ValueError(f"order {self.id!r}: refund amount must be > 0, got {amount!r}")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise ValueError(f"order {self.id!r}: refund quantity must be >= 0, got {quantity!r}")
        if sku is not None and all(line.sku != sku for line in self.lines):
            raise ValueError(f"order {self.id!r}: refund for sku {sku!r} not on the order")
        refund = Refund(at=at, amount=float(amount), reason=reason, sku=sku, quantity=quantity)
        self.refunds.append(refund)
        return refund

    @property
    def refunded_total(self) -> float:
        """Sum of refunds given. [USD]"""
        return sum(r.amount for r in self.refunds)
