"""Everything a policy needs to route one order, as numpy arrays over locations.

The `Router` builds one `RoutingContext` per order: the ordered SKUs, the available-to-sell
matrix `ats` (L, k; stored transposed), quantities (k,), distances (L,) and an int8 exclusion code per
location (`Exclusion.OK` = still a candidate). Filters only write codes; policies rank the
remaining candidates and split the order into packages (a `Plan`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from engine.errors import RoutingError
from engine.routing.decision import Exclusion, exclusion_codes
from engine.routing.settings import RoutingSettings

if TYPE_CHECKING:
    from engine.ledger import Ledger
    from engine.network import Network
    from engine.order import Order
    from engine.rates import RateCard
    from engine.routing.ranking import Ranking

__all__ = ["Plan", "Policy", "RoutingContext", "check_package_limit", "package_limit"]


@dataclass(slots=True)
class Plan:
    """A policy's answer for one order.

    Attributes:
        ranking: The candidates and their sort key values (ranked lazily), or None.
        packages: `(location row, units per ordered SKU (k,))` per package, in package order.
        notes: Free-form reason codes from the policy (e.g. "lp:fallback"); they reach
            `Decision.notes`.
    """

    ranking: Ranking | None
    packages: list[tuple[int, np.ndarray]]
    notes: tuple[str, ...] = ()


@runtime_checkable
class Policy(Protocol):
    """A routing policy: ranks the candidates of a `RoutingContext` and splits the order.

    The router has already applied the filters every policy respects (capability, opening
    hours, daily limits, exclusions, wholesale, BOPIS store, same-day distance, no stock);
    a policy may exclude more locations with `RoutingContext.exclude`.
    """

    name: str

    def choose(self, ctx: RoutingContext) -> Plan:
        """Rank candidates and split the order into packages."""
        ...


@dataclass(slots=True)
class RoutingContext:
    """One order being routed.

    Attributes:
        order: The order.
        at: Routing time (aware UTC).
        network: Locations as arrays.
        ledger: Inventory record (read only here).
        rates: Shipping rates.
        settings: Routing settings.
        skus: Distinct ordered SKU ids, in first-appearance order (k,).
        sku_idx: Ledger column of each SKU, int64 (k,).
        qty: Units ordered per SKU, int64 (k,). [units]
        ats_t: Available to sell per SKU and network row, int (k, L), C-contiguous (the
            `ats` property gives the (L, k) view). [units]
        dist: Miles from each location to the destination (to the pickup store for BOPIS),
            float64 (L,). [mi]
        eligible: bool (L,), True for locations still candidates; filters only narrow it.
        steps: `(mask, code, kind)` per exclusion applied, kept to build the `Exclusion`
            code of every location lazily (see `codes`); `kind` is "bad" (mask True =
            excluded), "keep" (mask True = kept) or "rows" (mask = excluded row indices).
            Masks are stored, not copied: never modify an array after passing it in.
        base_codes: Static `Exclusion` codes (capability, wholesale) the filters start from.
        handling_per_order: Handling cost per order by location (L,). [USD]
        handling_per_unit: Handling cost per unit by location (L,). [USD]
        ships: False for BOPIS (no carrier cost).
        max_packages: Package limit from the settings. [packages]
        ledger_rows: Ledger row of each network row, or None when the orders agree.
    """

    order: Order
    at: datetime
    network: Network
    ledger: Ledger
    rates: RateCard
    settings: RoutingSettings
    skus: tuple[str, ...]
    sku_idx: np.ndarray
    qty: np.ndarray
    ats_t: np.ndarray
    dist: np.ndarray
    eligible: np.ndarray
    base_codes: np.ndarray
    handling_per_order: np.ndarray
    handling_per_unit: np.ndarray
    ships: bool = True
    max_packages: int = 5
    ledger_rows: np.ndarray | None = None
    region_lookup: Callable[[], int] | None = field(default=None, repr=False)
    _region_code: int | None = field(default=None, repr=False)
    _unit_cost: np.ndarray | None = field(default=None, repr=False)
    _fills: np.ndarray | None = field(default=None, repr=False)
    steps: list[tuple[np.ndarray, int, str]] = field(default_factory=list, repr=False)

    @property
    def ats(self) -> np.ndarray:
        """Available to sell per network row and SKU, (L, k) view. [units]"""
        return self.ats_t.T

    def avail(self, rows: np.ndarray) -> np.ndarray:
        """ATS of the given rows, (n, k). [units]"""
        return self.ats_t.take(rows, axis=1).T

    def fills(self) -> np.ndarray:
        """bool (L,): locations whose ATS covers every ordered quantity (cached)."""
        if self._fills is None:
            self._fills = (self.ats_t >= self.qty[:, None]).all(axis=0)
        return self._fills

    def exclude(self, bad: np.ndarray, code: Exclusion | int) -> None:
        """Exclude locations where `bad` is True (the first reason recorded wins).

        Args:
            bad: bool (L,) mask of locations to exclude; stored, do not modify it later.
            code: The `Exclusion` reason recorded for them.
        """
        self.eligible &= ~bad
        self.steps.append((bad, int(code), "bad"))

    def keep(self, mask: np.ndarray, code: Exclusion | int) -> None:
        """Exclude locations where `mask` is False (cheaper than `exclude(~mask)`).

        Args:
            mask: bool (L,) mask of locations allowed; stored, do not modify it later.
            code: The `Exclusion` reason recorded for the others.
        """
        self.eligible &= mask
        self.steps.append((mask, int(code), "keep"))

    def exclude_rows(self, rows: np.ndarray, code: Exclusion | int) -> None:
        """Exclude the locations at network rows `rows` (int array)."""
        if rows.size:
            self.eligible[rows] = False
            self.steps.append((rows, int(code), "rows"))

    def candidates(self) -> np.ndarray:
        """Rows of locations still eligible, ascending, int64 (n,)."""
        return self.eligible.nonzero()[0]

    def codes(self) -> np.ndarray:
        """`Exclusion` code per location, int8 (L,); 0 = candidate. Built on demand."""
        return exclusion_codes(self.base_codes, self.steps)

    @property
    def region_code(self) -> int:
        """Code (`Network.region_names`) of the order's demand region, -1 if unknown."""
        if self._region_code is None:
            self._region_code = self.region_lookup() if self.region_lookup else -1
        return self._region_code

    @property
    def units(self) -> int:
        """Units ordered. [units]"""
        return int(self.qty.sum())

    def unit_cost(self) -> np.ndarray:
        """Marginal landed cost of one unit from each location: shipping + handling (L,). [USD]"""
        if self._unit_cost is None:
            u = self.handling_per_unit
            self._unit_cost = self.rates.unit_costs(self.dist) + u if self.ships else u
        return self._unit_cost

    def fixed_cost(self, rows: np.ndarray) -> np.ndarray:
        """Cost of one more package from each of `rows`: package fee + handling per order. [USD]"""
        fee = self.rates.per_package if self.ships else 0.0
        return self.handling_per_order.take(rows) + fee


def check_package_limit(policy: str, limit: int | None) -> int | None:
    """`limit` if None or an int >= 1, else RoutingError naming the policy. [packages]"""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise RoutingError(
            f"policy {policy!r}: max_packages must be an integer >= 1, got {limit!r}"
        )
    return limit


def package_limit(ctx: RoutingContext, own: int | None) -> int:
    """A policy's package limit: its own, capped by the settings' (`ctx.max_packages`), or
    the settings' when it has none. [packages]"""
    return ctx.max_packages if own is None or own > ctx.max_packages else own
