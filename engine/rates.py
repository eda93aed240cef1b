"""Shipping and handling cost model.

Default shipping cost per package follows the multi-item fulfilment literature (Jasin &
Sinha 2015; Ma 2023): `8.759 + units * (0.423 + 0.000541 * miles)` USD. Optionally a carrier
rate table by parcel zone and weight prices the items instead. Handling costs come from each
location, unless overridden per `LocationKind`.

Routing minimises one linear model, `per_package + units * item price`, in its sort keys,
splits and LPs, and reports the same model in a decision's shipping estimate. The engine
knows no SKU weights, so with a carrier table the item price is the table price of a
one-item parcel of `RateCard.unit_weight_lb` in the package's zone. The carrier's price of
a package of known weight is `package_cost(..., weight_lb=...)`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from engine.location import Location, LocationKind
from engine.network import DEFAULT_ZONE_BANDS_MILES, KIND_CODES, Network, zone_for_miles

__all__ = ["RateCard"]


@dataclass(frozen=True)
class RateCard:
    """Prices for shipping packages and handling orders.

    Attributes:
        per_package: Fixed shipping cost per package; with `zone_weight_table` it stays the
            routing estimate's per-package fee (the split penalty). [USD/package]
        per_item: Shipping cost per item; not used with `zone_weight_table`. [USD/item]
        per_item_mile: Shipping cost per item per mile; not used with `zone_weight_table`.
            [USD/(item*mi)]
        zone_weight_table: Optional carrier table: zone -> ascending `[(max_lb, price), ...]`.
            A package of known weight costs the price of the first row whose `max_lb` >= its
            weight in its zone; routing prices each item as a one-item parcel of
            `unit_weight_lb` (see `package_cost`).
        handling_by_kind: `LocationKind` -> `(per_order, per_unit)` handling cost that
            overrides the location's own. [USD/order, USD/unit]
        zone_bands_miles: Zone upper bounds used with `zone_weight_table`. [mi]
        unit_weight_lb: Weight routing assumes for every item, used only with
            `zone_weight_table` (the engine knows no SKU weights). 1 lb, the usual minimum
            billable parcel weight; it must fit every zone's heaviest row. [lb]
    """

    per_package: float = 8.759
    per_item: float = 0.423
    per_item_mile: float = 0.000541
    zone_weight_table: Mapping[int, Sequence[tuple[float, float]]] | None = None
    handling_by_kind: Mapping[LocationKind, tuple[float, float]] = field(default_factory=dict)
    zone_bands_miles: Sequence[float] = DEFAULT_ZONE_BANDS_MILES
    unit_weight_lb: float = 1.0

    def __post_init__(self) -> None:
        for name in ("per_package", "per_item", "per_item_mile", "unit_weight_lb"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"rate card: {name} must be a finite number >= 0, got {value!r}")
        handling: dict[LocationKind, tuple[float, float]] = {}
        for kind, costs in self.handling_by_kind.items():
            try:
                key = LocationKind(kind)
                per_order, per_unit = (float(c) for c in costs)
            except (ValueError, TypeError):
                raise ValueError(
                    f"rate card: handling_by_kind[{kind!r}] must map a location kind to "
                    f"(per_order, per_unit), got {costs!r}"
                ) from None
            if min(per_order, per_unit) < 0 or not math.isfinite(per_order + per_unit):
                raise ValueError(f"rate card: handling_by_kind[{kind!r}] must be >= 0")
            handling[key] = (per_order, per_unit)
        object.__setattr__(self, "handling_by_kind", MappingProxyType(handling))
        n_zones = len(self.zone_bands_miles) + 1
        if self.zone_weight_table is not None:
            table: dict[int, tuple[tuple[float, float], ...]] = {}
            for z in range(1, n_zones + 1):
                rows = tuple((float(w), float(p)) for w, p in self.zone_weight_table.get(z, ()))
                weights = [w for w, _ in rows]
                if not rows or weights != sorted(set(weights)) or min(p for _, p in rows) < 0:
                    raise ValueError(
                        f"rate card: zone_weight_table zone {z} needs rows (max_lb, price) with "
                        f"strictly ascending max_lb and prices >= 0, got {rows!r}"
                    )
                if self.unit_weight_lb > rows[-1][0]:
                    raise ValueError(
                        f"rate card: unit_weight_lb {self.unit_weight_lb} exceeds the heaviest "
                        f"row of zone_weight_table zone {z} ({rows[-1][0]} lb)"
                    )
                table[z] = rows
            object.__setattr__(self, "zone_weight_table", MappingProxyType(table))

    def table_price(self, zone: int, weight_lb: float) -> float:
        """Price of one package from `zone_weight_table`.

        Raises:
            ValueError: If there is no table, or the weight exceeds the zone's heaviest row.
        """
        if self.zone_weight_table is None:
            raise ValueError("rate card has no zone_weight_table")
        for max_lb, price in self.zone_weight_table[zone]:
            if weight_lb <= max_lb:
                return price
        raise ValueError(f"rate card: package of {weight_lb} lb exceeds zone {zone} table")

    def package_cost(self, miles: float, units: int, weight_lb: float | None = None) -> float:
        """Shipping cost of one package.

        Without a table: `per_package + units * (per_item + per_item_mile * miles)`. With
        `zone_weight_table` and no `weight_lb`: the routing estimate `per_package + units *
        unit_costs(miles)`, what routing minimised (the engine knows no SKU weights). With
        a table and `weight_lb`: the carrier's table price of a package of that weight.

        Args:
            miles: Distance from the shipping location to the customer. [mi]
            units: Items in the package. [items]
            weight_lb: Total package weight, used only with `zone_weight_table`. [lb]

        Returns:
            Cost in USD.

        Raises:
            ValueError: If `weight_lb` exceeds the zone's heaviest table row.
        """
        if self.zone_weight_table is None:
            return self.per_package + units * (self.per_item + self.per_item_mile * miles)
        zone = zone_for_miles(miles, self.zone_bands_miles)
        if weight_lb is None:
            return self.per_package + units * self.table_price(zone, self.unit_weight_lb)
        return self.table_price(zone, weight_lb)

    def unit_costs(self, miles: np.ndarray, unit_weight_lb: float | None = None) -> np.ndarray:
        """Per-item shipping cost from each location, excluding the per-package cost.

        With `zone_weight_table` set, this is the table price of a one-item package of
        `unit_weight_lb` in each location's zone (distance-sensitive via zones).

        Args:
            miles: Distances from each location to the customer, shape (L,). [mi]
            unit_weight_lb: Weight of one item, used only with `zone_weight_table`; default
                the card's `unit_weight_lb`. [lb]

        Returns:
            float64 array of the same shape as `miles`. [USD/item]
        """
        miles = np.asarray(miles, dtype=np.float64)
        if self.zone_weight_table is None:
            return self.per_item + self.per_item_mile * miles
        if unit_weight_lb is None:
            unit_weight_lb = self.unit_weight_lb
        by_zone = np.array(
            [0.0]
            + [
                self.table_price(z, unit_weight_lb)
                for z in range(1, len(self.zone_bands_miles) + 2)
            ]
        )
        return by_zone[zone_for_miles(miles, self.zone_bands_miles)]

    def handling(self, location: Location) -> tuple[float, float]:
        """`(per_order, per_unit)` handling cost at a location, after kind overrides. [USD]"""
        override = self.handling_by_kind.get(location.kind)
        if override is not None:
            return override
        return location.handling_cost_per_order, location.handling_cost_per_unit

    def handling_cost(self, location: Location, units: int) -> float:
        """Handling cost of one order of `units` items at a location. [USD]"""
        per_order, per_unit = self.handling(location)
        return per_order + per_unit * units

    def handling_arrays(self, network: Network) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised `handling`: per-order and per-unit handling cost arrays (L,). [USD]"""
        per_order = network.handling_per_order.copy()
        per_unit = network.handling_per_unit.copy()
        for kind, (o, u) in self.handling_by_kind.items():
            rows = network.kind_codes == KIND_CODES[kind]
            per_order[rows] = o
            per_unit[rows] = u
        return per_order, per_unit
