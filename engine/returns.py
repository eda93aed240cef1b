"""Returns disposition: restock where received, send to a DC, or dispose; refund or exchange.

"Buy anywhere, return anywhere": an item comes back by mail to a DC or over a store's
returns desk. `ReturnsPolicy.decide` chooses what happens to it from where it was received
and its condition; `ReturnsPolicy.apply` records that in the `Ledger`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np

from engine.ledger import Ledger
from engine.location import STORE_KINDS, Capability, Location, LocationKind
from engine.network import Network
from engine.order import Channel, Order, OrderLine
from engine.routing.filters import kind_mask

__all__ = ["Condition", "ReturnAction", "ReturnDecision", "ReturnItem", "ReturnsPolicy"]

_DC_KINDS = (LocationKind.WAREHOUSE, LocationKind.THREE_PL)


class Condition(StrEnum):
    """Condition of a returned item after a first look at the desk or dock."""

    NEW = "new"
    OPENED = "opened"
    DAMAGED = "damaged"


class ReturnAction(StrEnum):
    """What happens to a returned item."""

    RESTOCK = "restock"
    TRANSFER_TO_DC = "transfer_to_dc"
    DISPOSE = "dispose"


@dataclass(frozen=True)
class ReturnItem:
    """Units of one SKU handed back by a customer.

    Attributes:
        order_id: The original order.
        sku: SKU id.
        quantity: Units returned, > 0. [units]
        received_at: Location id where it was received (a DC by mail, or a store desk).
        condition: Condition of the units.
        wants_exchange: The customer wants the same SKU again instead of a refund.
    """

    order_id: str
    sku: str
    quantity: int
    received_at: str
    condition: Condition = Condition.NEW
    wants_exchange: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int):
            raise ValueError(f"return of order {self.order_id!r}: quantity must be an integer")
        if self.quantity <= 0:
            raise ValueError(f"return of order {self.order_id!r}: quantity must be > 0")
        try:
            object.__setattr__(self, "condition", Condition(self.condition))
        except ValueError:
            raise ValueError(
                f"return of order {self.order_id!r}: unknown condition {self.condition!r}"
            ) from None


@dataclass(frozen=True)
class ReturnDecision:
    """What to do with a returned item.

    Attributes:
        action: Restock, transfer to a DC, or dispose.
        location: Where the units end up (the receiving location, or the DC).
        refund_amount: Refund owed to the customer; 0 for an exchange. [USD]
        exchange_order: The replacement order for an exchange, else None.
        item: The returned item this decision is about.
        reason: Short explanation, e.g. "new at a store that carries the SKU".
    """

    action: ReturnAction
    location: str
    refund_amount: float
    exchange_order: Order | None
    item: ReturnItem | None = None
    reason: str = ""


class ReturnsPolicy:
    """Disposition and refund rules for returned items.

    Rules: damaged -> dispose where received. New at a DC -> restock there. New at a store
    -> restock at the store if it carries the SKU (on_hand + reserved > 0 there, or
    `restock_at_any_store`), else transfer to the nearest DC. Opened -> transfer to a DC
    for inspection (the receiving DC itself when received at one), or, if `restock_opened`,
    as new (the same rules). Refund = unit price x quantity, unless the customer wants an
    exchange: then the refund is 0 and a new order for the same SKU and quantity is created.

    Args:
        restock_at_any_store: Stores restock new returns even of SKUs they do not carry.
        restock_opened: Opened items are restocked like new ones (no inspection).
    """

    def __init__(self, restock_at_any_store: bool = False, restock_opened: bool = False) -> None:
        self.restock_at_any_store = restock_at_any_store
        self.restock_opened = restock_opened
        self._exchanges: dict[str, int] = {}

    def nearest_dc(self, network: Network, origin: Location) -> Location | None:
        """Nearest warehouse or 3PL to `origin`, preferring those with the returns capability."""
        is_dc = kind_mask(network, _DC_KINDS)
        if not is_dc.any():
            return None
        preferred = is_dc & network.can[Capability.RETURNS]
        pool = preferred if preferred.any() else is_dc
        miles = np.where(pool, network.distances_from(origin.lat, origin.lon), np.inf)
        return network.locations[int(miles.argmin())]

    def decide(
        self,
        item: ReturnItem,
        network: Network,
        ledger: Ledger,
        at: datetime,
        unit_price: float,
        original: Order | None = None,
    ) -> ReturnDecision:
        """Decide the disposition and refund of a returned item (no state change but ids).

        Args:
            item: The returned units.
            network: Locations (to find the receiving location and the nearest DC).
            ledger: Inventory record (whether a store carries the SKU).
            at: Time the return is received, aware UTC.
            unit_price: Price paid per unit. [USD]
            original: The original order, used to check the return (same order id, SKU
                on the order, at most the units fulfilled minus those returned already,
                which `apply(..., order=)` counts on the order (`Order.returned`), whichever
                policy applied them) and for the exchange order's customer, channel and
                destination; without it nothing is checked and the exchange ships to the
                receiving location.

        Returns:
            The `ReturnDecision`. Exchange order ids are `"<order id>-X<n>"`. With
            `original`, n is one more than the exchanges already raised for it
            (`Order.exchanges`, which this call increments) or by this policy, whichever
            is more: policies that decide returns of one order number its exchanges
            together. Without it, n counts this policy's exchanges of that order id only
            (pass `original` when several policies may see one order). The ids depend only
            on the sequence of calls (deterministic per run).

        Raises:
            UnknownLocationError: If `item.received_at` is not in the network.
            LedgerError: If the SKU or location is unknown to the ledger.
            ValueError: If `unit_price` is negative or not finite, or the return does not
                fit `original`.
        """
        if not 0 <= unit_price < math.inf:
            raise ValueError(
                f"return of order {item.order_id!r}: unit_price must be a finite number >= 0, "
                f"got {unit_price!r}"
            )
        if original is not None:
            self._check_against(item, original)
        here = network.loc(item.received_at)
        i, s = ledger.index_of(here.id, item.sku)
        action, where, reason = ReturnAction.RESTOCK, here, ""
        if item.condition is Condition.DAMAGED:
            action, reason = ReturnAction.DISPOSE, "damaged"
        elif item.condition is Condition.OPENED and not self.restock_opened:
            if here.kind in STORE_KINDS:
                dc = self.nearest_dc(network, here)
                if dc is not None:
                    action, where = ReturnAction.TRANSFER_TO_DC, dc
            else:
                action = ReturnAction.TRANSFER_TO_DC
            reason = "opened: inspect at a DC"
        elif here.kind in STORE_KINDS:
            carries = int(ledger.on_hand[i, s]) + int(ledger.reserved[i, s]) > 0
            state = "new" if item.condition is Condition.NEW else "opened"
            reason = f"{state} at a store that carries the SKU"
            if not (carries or self.restock_at_any_store):
                dc = self.nearest_dc(network, here)
                reason = f"{state} at a store that does not carry the SKU"
                if dc is not None:
                    action, where = ReturnAction.TRANSFER_TO_DC, dc
        else:
            reason = "new at a DC" if item.condition is Condition.NEW else "opened: restock"
        exchange = self._exchange(item, here, at, original) if item.wants_exchange else None
        refund = 0.0 if exchange is not None else float(unit_price) * item.quantity
        return ReturnDecision(action, where.id, refund, exchange, item, reason)

    def _check_against(self, item: ReturnItem, original: Order) -> None:
        """Raise ValueError unless `item` returns units `original` delivered, not yet back."""
        what = f"return of order {item.order_id!r}"
        if item.order_id != original.id:
            raise ValueError(f"{what}: the original order given is {original.id!r}")
        lines = [line for line in original.lines if line.sku == item.sku]
        if not lines:
            raise ValueError(f"{what}: SKU {item.sku!r} is not on the order")
        done = sum(original.fulfilled.get(line.line_id, 0) for line in lines)
        left = done - (original.returned or {}).get(item.sku, 0)
        if item.quantity > left:
            raise ValueError(
                f"{what}: {item.quantity} units of {item.sku!r} handed back, but only {left} "
                f"were fulfilled and not returned yet"
            )

    def _exchange(
        self, item: ReturnItem, here: Location, at: datetime, original: Order | None
    ) -> Order:
        """The exchange order of `item`, numbered as `decide` says (counts move only once
        it is built)."""
        n = self._exchanges.get(item.order_id, 0)
        if original is not None:  # the order numbers its exchanges, whichever policy asks
            n = max(n, original.exchanges)
        exchange = Order(
            id=f"{item.order_id}-X{n + 1}",
            channel=original.channel if original is not None else Channel.WEB,
            customer_id=original.customer_id if original is not None else "",
            dest_lat=original.dest_lat if original is not None else here.lat,
            dest_lon=original.dest_lon if original is not None else here.lon,
            lines=[OrderLine(item.sku, item.quantity)],
            created_at=at,
        )
        self._exchanges[item.order_id] = n + 1
        if original is not None:
            original.exchanges = n + 1
        return exchange

    def apply(
        self,
        decision: ReturnDecision,
        ledger: Ledger,
        at: datetime,
        order: Order | None = None,
        transfer_now: bool = False,
    ) -> bool:
        """Record a return decision in the ledger (and the refund on the order).

        Restock puts the units back on hand where received; dispose audits them as returned
        and disposed (on hand unchanged). A transfer is left to the caller, who calls
        `Ledger.return_to_stock` at the DC when the units arrive and pass inspection (or
        `Ledger.dispose(..., from_return=True)` when they fail); `transfer_now=True`
        restocks them at the DC immediately instead.

        Args:
            decision: From `decide`.
            ledger: Inventory record to update.
            at: Time, aware UTC.
            order: The original order (the item's order id); when given, a refund is
                recorded on it and the returned units are counted on it
                (`Order.returned`), so that no policy accepts them back again (see
                `decide`).
            transfer_now: Restock transfers at the DC now.

        Returns:
            True if the ledger changed (restock, dispose, or an immediate transfer).

        Raises:
            ValueError: If the decision carries no item, `order` is not the item's order,
                or the refund cannot be recorded on it (nothing changes).
            LedgerError: From the ledger operation (nothing changes).
        """
        item = decision.item
        if item is None:
            raise ValueError("return decision has no item; build it with ReturnsPolicy.decide")
        if order is not None and order.id != item.order_id:
            raise ValueError(
                f"return of order {item.order_id!r}: the original order given is {order.id!r}"
            )
        refund = None  # recorded first: it checks its own input before the ledger moves
        if order is not None and decision.refund_amount > 0:
            refund = order.add_refund(decision.refund_amount, at, "return", item.sku,
                                      item.quantity)  # fmt: skip
        changed = True
        try:
            if decision.action is ReturnAction.RESTOCK or (
                decision.action is ReturnAction.TRANSFER_TO_DC and transfer_now
            ):
                ledger.return_to_stock(decision.location, item.sku, item.quantity, at, "return",
                                       item.order_id)  # fmt: skip
            elif decision.action is ReturnAction.DISPOSE:
                ledger.dispose(decision.location, item.sku, item.quantity, at, "damaged",
                               item.order_id, from_return=True)  # fmt: skip
            else:
                changed = False
        except Exception:
            if refund is not None and order is not None:
                order.refunds.pop()  # the refund recorded above
            raise
        if order is not None:
            returned = order.returned
            if returned is None:
                returned = order.returned = {}
            returned[item.sku] = returned.get(item.sku, 0) + item.quantity
        return changed
