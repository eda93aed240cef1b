"""What a routing policy decided: allocations, packages, costs and the reasons why.

A `Decision` is plain data. Its reason codes (why each candidate location was excluded or
how it ranked) are kept as the numpy arrays the router computed and turned into dicts only
when someone asks (`Decision.reasons`), so routing stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import RoutingError

if TYPE_CHECKING:
    from engine.order import DeliveryMethod, Order
    from engine.routing.ranking import Ranking

__all__ = [
    "Allocation",
    "Decision",
    "Exclusion",
    "FulfilmentRequest",
    "exclusion_codes",
    "service_level_for",
]


class Exclusion(IntEnum):
    """Why a location was not a candidate for an order (stored as int8 per location).

    ``NO_STOCK`` means no ATS of any ordered SKU on the order's channel: units may still be
    on hand there, held back by reservations, safety stock, a channel buffer or a store's
    online threshold (`Ledger.ats`).
    """

    OK = 0
    NO_CAPABILITY = 1
    CLOSED = 2
    DAILY_LIMIT = 3
    EXCLUDED = 4
    NOT_WHOLESALE = 5
    NOT_PICKUP_STORE = 6
    TOO_FAR = 7
    NO_STOCK = 8
    RULE_FILTER = 9


_EXCLUSION_NAMES: tuple[str | None, ...] = tuple(
    None if e is Exclusion.OK else e.name for e in Exclusion
)


def exclusion_codes(base: np.ndarray, steps: list[tuple[np.ndarray, int, str]]) -> np.ndarray:
    """Replay recorded filter steps into one `Exclusion` code per location (first wins).

    Args:
        base: Static codes, int8 (L,).
        steps: `(mask, code, kind)` as recorded by `RoutingContext`.
    """
    codes = base.copy()
    for mask, code, kind in steps:
        if kind == "rows":
            sub = codes[mask]
            codes[mask] = np.where(sub == 0, code, sub)
        else:
            hit = ~mask if kind == "keep" else mask
            codes[(codes == 0) & hit] = code
    return codes


@dataclass(frozen=True, slots=True)
class Allocation:
    """Units of one SKU assigned to one location.

    Attributes:
        location: Location id.
        sku: SKU id.
        quantity: Units. [units]
        package: Package index 0..n-1 within the decision (one package per location).
    """

    location: str
    sku: str
    quantity: int
    package: int


@dataclass(frozen=True)
class FulfilmentRequest:
    """Pick list / packing slip data sent to one location when an order is released.

    Attributes:
        location: Location id that picks and packs.
        order_id: Order id.
        decision_id: Decision (and ledger reservation) id.
        lines: `(sku, quantity)` pairs to pick. [units]
        ship_to: Destination `(lat, lon)`. [deg]
        method: Delivery method (a `DeliveryMethod`, which compares equal to "ship" etc.).
        service_level: "ground", "same_day" or "pickup".
        package: Package index within the decision.
        ship_by: Planned carrier hand-over (or ready-for-pickup) time, aware UTC.
    """

    location: str
    order_id: str
    decision_id: str
    lines: tuple[tuple[str, int], ...]
    ship_to: tuple[float, float]
    method: DeliveryMethod
    service_level: str
    package: int
    ship_by: datetime | None = None


_SERVICE_LEVELS = {"ship": "ground", "same_day": "same_day", "bopis": "pickup"}


def service_level_for(method: str) -> str:
    """Service level name for a delivery method value ("ship" -> "ground")."""
    return _SERVICE_LEVELS.get(str(method), "ground")


@dataclass
class Decision:
    """The outcome of routing one order.

    Attributes:
        decision_id: Deterministic id (`"<order id>-D<n>"`, `n` counting the order's routing
            decisions from 1), also the ledger reservation id.
        order_id: Order id.
        policy: Name of the policy that decided.
        at: Decision time (aware UTC).
        allocations: Units per location and SKU, with package indices.
        unfulfillable: `(sku, quantity)` that no eligible location could supply. [units]
        est_cost: Shipping plus handling. [USD]
        est_shipping_cost: Carrier cost of all packages. [USD]
        est_handling_cost: Handling cost at the chosen locations. [USD]
        est_delivery: Latest estimated delivery (or ready-for-pickup) time over packages,
            None when nothing was allocated.
        ship_by: Planned ship time per package (aware UTC), index = package.
        notes: Reason codes the policy attached (e.g. why an LP policy fell back).
    """

    decision_id: str
    order_id: str
    policy: str
    at: datetime
    allocations: tuple[Allocation, ...]
    unfulfillable: tuple[tuple[str, int], ...]
    est_cost: float
    est_shipping_cost: float
    est_handling_cost: float
    est_delivery: datetime | None
    ship_by: tuple[datetime, ...] = ()
    notes: tuple[str, ...] = ()
    _location_ids: tuple[str, ...] = field(default=(), repr=False, compare=False)
    _steps: tuple[np.ndarray, list] | None = field(default=None, repr=False, compare=False)
    _ranking: Ranking | None = field(default=None, repr=False, compare=False)
    _distance: np.ndarray | None = field(default=None, repr=False, compare=False)
    _fillable: np.ndarray | None = field(default=None, repr=False, compare=False)
    _edits: int = field(default=-1, repr=False, compare=False)  # order edits when routed

    @property
    def packages(self) -> int:
        """Number of packages (distinct package indices)."""
        return len({a.package for a in self.allocations})

    @property
    def locations(self) -> tuple[str, ...]:
        """Location id of each package, in package order."""
        seen: dict[int, str] = {}
        for a in self.allocations:
            seen.setdefault(a.package, a.location)
        return tuple(seen[p] for p in sorted(seen))

    @property
    def units(self) -> int:
        """Units allocated. [units]"""
        return sum(a.quantity for a in self.allocations)

    @property
    def unfulfillable_units(self) -> int:
        """Units that could not be allocated. [units]"""
        return sum(q for _, q in self.unfulfillable)

    def reasons(self) -> list[dict[str, Any]]:
        """Why each location was or was not used, built on demand.

        Returns:
            One dict per location in network order: `location` (id), `excluded` (an
            `Exclusion` name, or None for a candidate), `rank` (0 = most preferred candidate,
            None when excluded), `score` (the policy's primary sort key for candidates,
            e.g. miles or USD; None when excluded), `distance_miles`, `fillable_units`
            (units of the order its ATS on the order's channel covered when routed, so a
            top-ranked candidate not chosen shows it could not fill the order alone; None
            when not known) and `chosen` (bool).

        Raises:
            RoutingError: If the router was told not to keep reasons
                (`RoutingSettings.keep_reasons=False`).
        """
        if self._distance is None:
            raise RoutingError(
                f"decision {self.decision_id!r}: reasons were not kept "
                "(RoutingSettings.keep_reasons=False)"
            )
        n = len(self._location_ids)
        codes = np.zeros(n, np.int8) if self._steps is None else exclusion_codes(*self._steps)
        rank = np.full(n, -1, dtype=np.int64)
        score = np.full(n, np.nan)
        if self._ranking is not None and self._ranking.cand.size:
            ranked = self._ranking.ranked()
            rank[ranked] = np.arange(ranked.size)
            score[ranked] = self._ranking.score()
        dist, fill = self._distance, self._fillable
        chosen = {a.location for a in self.allocations}
        out = []
        for i, loc in enumerate(self._location_ids):
            r = int(rank[i])
            out.append(
                {
                    "location": loc,
                    "excluded": _EXCLUSION_NAMES[int(codes[i])],
                    "rank": None if r < 0 else r,
                    "score": None if r < 0 or np.isnan(score[i]) else float(score[i]),
                    "distance_miles": float(dist[i]),
                    "fillable_units": None if fill is None else int(fill[i]),
                    "chosen": loc in chosen,
                }
            )
        return out

    def excluded(self) -> dict[str, str]:
        """Location id -> `Exclusion` name, for excluded locations only."""
        return {r["location"]: r["excluded"] for r in self.reasons() if r["excluded"]}

    def fulfilment_requests(self, order: Order) -> list[FulfilmentRequest]:
        """Pick lists per package, as plain data.

        Args:
            order: The routed order (for its destination and delivery method).

        Returns:
            One `FulfilmentRequest` per package, in package order.
        """
        method = order.method
        level = service_level_for(method)
        by_package: dict[int, tuple[str, list[tuple[str, int]]]] = {}  # location, lines
        for a in self.allocations:
            package = by_package.get(a.package)
            if package is None:
                package = by_package[a.package] = (a.location, [])
            package[1].append((a.sku, a.quantity))
        ship_to = (float(order.dest_lat), float(order.dest_lon))
        ship_by = self.ship_by
        return [
            FulfilmentRequest(
                location=location,
                order_id=self.order_id,
                decision_id=self.decision_id,
                lines=tuple(lines),
                ship_to=ship_to,
                method=method,
                service_level=level,
                package=package,
                ship_by=ship_by[package] if package < len(ship_by) else None,
            )
            for package, (location, lines) in sorted(by_package.items())
        ]
