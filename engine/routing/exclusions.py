"""Locations excluded per order by `Router.reroute` and `Router.reject`.

An order keeps its exclusions while it may still be routed again; a delivered, collected,
cancelled or closed order never is, so its entry is dropped at the next sweep. Sweeps run
whenever the entries have doubled since the last one, so memory stays within about twice
the entries of open orders, however long the router runs.
"""

from __future__ import annotations

from engine.order import Order, OrderStatus

__all__ = ["Exclusions"]

_SWEEP_MIN = 1024
_NONE: frozenset[str] = frozenset()
_S = OrderStatus
#: An order in these statuses is never routed again (nor a package of it rejected).
_DONE = frozenset({_S.DELIVERED, _S.PICKED_UP, _S.CANCELLED, _S.PARTIALLY_FULFILLED})


class Exclusions:
    """Order id -> location ids excluded for it (and the order, to see when it is closed)."""

    __slots__ = ("_by_order", "_sweep_at")

    def __init__(self) -> None:
        self._by_order: dict[str, tuple[Order, frozenset[str]]] = {}
        self._sweep_at = _SWEEP_MIN

    def __len__(self) -> int:
        return len(self._by_order)

    def of(self, order_id: str) -> frozenset[str]:
        """The locations excluded for an order (empty when none)."""
        entry = self._by_order.get(order_id)
        return _NONE if entry is None else entry[1]

    def put(self, order: Order, locations: frozenset[str]) -> None:
        """Exclude `locations` for `order` from now on (replacing its earlier set, which
        they include: exclusions only grow, so an empty set is not kept)."""
        if not locations:
            return
        if order.id not in self._by_order and len(self._by_order) >= self._sweep_at:
            self._sweep()
        self._by_order[order.id] = (order, locations)

    def drop(self, order_id: str) -> None:
        """Forget an order's exclusions (it was cancelled)."""
        self._by_order.pop(order_id, None)

    def _sweep(self) -> None:
        kept = {k: v for k, v in self._by_order.items() if v[0].status not in _DONE}
        self._by_order = kept
        self._sweep_at = max(_SWEEP_MIN, 2 * len(kept))
