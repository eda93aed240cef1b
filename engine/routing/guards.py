"""Checks that refuse a router call before anything changes.

Shared by `Router` and `routing.reject`: the time of a call (aware, not before the order's
last event), the statuses before release, and units consumed in the ledger that an order
does not record.
"""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from engine.errors import RoutingError
from engine.order import Order, OrderStatus, check_aware

__all__ = ["PRE_RELEASE", "check_time", "refuse_before", "refuse_unrecorded"]

#: An order in these statuses has not been released to its locations yet.
PRE_RELEASE = (OrderStatus.CREATED, OrderStatus.ROUTED, OrderStatus.REJECTED)


def check_time(order: Order, at: datetime) -> None:
    """Refuse `at` unless it is a timezone-aware datetime no earlier than the order's last
    event (the last entry of its history).

    Raises:
        RoutingError: `at` is not an aware datetime, or is before the order's last event.
    """
    # `check_aware`'s test, inline: one call per routed order here, as before (hot path).
    if not isinstance(at, datetime) or at.tzinfo is None:
        check_aware(order.id, at, RoutingError)
    if at < order.history[-1][0]:
        refuse_before(order, at)


def refuse_before(order: Order, at: datetime) -> NoReturn:
    """RoutingError: `at` is before the order's last event (its history)."""
    last = order.history[-1][0]
    raise RoutingError(
        f"order {order.id!r}: time {at.isoformat()} is before its last event at {last.isoformat()}"
    )


def refuse_unrecorded(order: Order, held: str, consumed: int) -> None:
    """RoutingError unless the order records at least `consumed` units as fulfilled: the
    units the ledger consumed under its decisions, the current one `held` among them."""
    recorded = order.fulfilled_units
    if recorded < consumed:
        raise RoutingError(
            f"order {order.id!r}: the ledger consumed units of decision {held!r} "
            f"(Ledger.fulfil) that the order does not record as fulfilled ({consumed} "
            f"consumed under its decisions, {recorded} recorded); record them "
            "(Order.record_fulfilled) before re-routing it, or they would be routed again"
        )
