"""Eligibility filters: vectorised masks over locations that write `Exclusion` codes.

Two kinds live here. Rule filters (`CapabilityFilter`, `KindsFilter`, ...) are small
frozen objects a policy applies in order; `RULE_FILTERS` maps their YAML names to parsers.
The filters every policy respects (capability for the delivery method, wholesale, BOPIS
store, same-day distance, exclusions, opening hours, daily limits, stock) are applied by
the `Router` through `apply_base_filters`. Filters only narrow `RoutingContext.eligible`
and record their masks; `Exclusion` codes are built from them when reasons are asked for.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.location import Capability, LocationKind
from engine.network import KIND_CODES
from engine.routing.decision import Exclusion

if TYPE_CHECKING:
    from engine.network import Network
    from engine.routing.context import RoutingContext

__all__ = [
    "RULE_FILTERS",
    "CapabilityFilter",
    "ExcludeFilter",
    "InRegionFilter",
    "KindsFilter",
    "MaxDistanceFilter",
    "OpenNowFilter",
    "apply_base_filters",
    "kind_mask",
    "rows_of",
]

DC_KINDS = (LocationKind.WAREHOUSE, LocationKind.THREE_PL, LocationKind.WHOLESALE_DC)


def kind_mask(network: Network, kinds: Collection[LocationKind | str]) -> np.ndarray:
    """bool (L,): locations whose kind is one of `kinds`."""
    table = np.zeros(len(KIND_CODES), dtype=bool)
    for kind in kinds:
        table[KIND_CODES[LocationKind(kind)]] = True
    return table[network.kind_codes]


def rows_of(network: Network, ids: Collection[str]) -> np.ndarray:
    """Network rows of the known ids among `ids` (unknown ids are ignored), int64."""
    index = network.index
    return np.array([index[i] for i in ids if i in index], dtype=np.int64)


class _NetworkCache:
    """Per-network memo of a derived array (filters are shared between routers).

    Keyed by the network object itself, held weakly: a freed network's entry goes with
    it, so a later network (which may reuse its `id()`) never sees its rows. Copies and
    pickles start empty.
    """

    __slots__ = ("_by_network",)

    def __init__(self) -> None:
        self._by_network: weakref.WeakKeyDictionary[Network, Any] = weakref.WeakKeyDictionary()

    def __reduce__(self) -> tuple[type[_NetworkCache], tuple[()]]:
        return _NetworkCache, ()

    def get(self, network: Network, build: Callable[[Network], Any]) -> Any:
        value = self._by_network.get(network)
        if value is None:
            value = build(network)
            self._by_network[network] = value
        return value


@dataclass(frozen=True)
class CapabilityFilter:
    """Keep locations with a capability (`{capability: ship}`)."""

    capability: Capability

    def __call__(self, ctx: RoutingContext) -> None:
        ctx.keep(ctx.network.can[self.capability], Exclusion.NO_CAPABILITY)


@dataclass(frozen=True)
class KindsFilter:
    """Keep locations of the listed kinds (`{kinds: [warehouse, store]}`)."""

    kinds: tuple[LocationKind, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cache", _NetworkCache())

    def __call__(self, ctx: RoutingContext) -> None:
        keep = self._cache.get(ctx.network, lambda n: kind_mask(n, self.kinds))  # type: ignore[attr-defined]
        ctx.keep(keep, Exclusion.RULE_FILTER)


@dataclass(frozen=True)
class MaxDistanceFilter:
    """Keep locations within a distance of the destination (`{max_distance_miles: 600}`)."""

    miles: float

    def __call__(self, ctx: RoutingContext) -> None:
        ctx.exclude(ctx.dist > self.miles, Exclusion.TOO_FAR)


@dataclass(frozen=True)
class ExcludeFilter:
    """Never use the listed location ids (`{exclude: [DC-3]}`); unknown ids are ignored."""

    ids: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cache", _NetworkCache())

    def __call__(self, ctx: RoutingContext) -> None:
        rows = self._cache.get(ctx.network, lambda n: rows_of(n, self.ids))  # type: ignore[attr-defined]
        ctx.exclude_rows(rows, Exclusion.EXCLUDED)


@dataclass(frozen=True)
class OpenNowFilter:
    """Keep only locations open at routing time (`{open_now: true}`), even in "wait" mode."""

    enabled: bool = True

    def __call__(self, ctx: RoutingContext) -> None:
        if self.enabled:
            ctx.keep(ctx.network.open_mask(ctx.at), Exclusion.CLOSED)


@dataclass(frozen=True)
class InRegionFilter:
    """Keep only locations in the destination's region (`{in_region: true}`)."""

    enabled: bool = True

    def __call__(self, ctx: RoutingContext) -> None:
        if self.enabled:
            ctx.exclude(ctx.network.region_codes != ctx.region_code, Exclusion.RULE_FILTER)


def _as_list(value: Any, what: str) -> list:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TypeError(f"{what} needs a list, got {type(value).__name__} {value!r}")
    if not all(isinstance(v, str) for v in value):
        raise TypeError(f"{what} needs a list of strings, got {value!r}")
    return list(value)


def _as_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} needs true or false, got {value!r}")
    return value


def _parse_capability(value: Any) -> CapabilityFilter:
    try:
        return CapabilityFilter(Capability(value))
    except ValueError:
        known = ", ".join(c.value for c in Capability)
        raise ValueError(f"unknown capability {value!r} (known: {known})") from None


def _parse_kinds(value: Any) -> KindsFilter:
    kinds = []
    for v in _as_list(value, "kinds"):
        try:
            kinds.append(LocationKind(v))
        except ValueError:
            known = ", ".join(k.value for k in LocationKind)
            raise ValueError(f"unknown location kind {v!r} (known: {known})") from None
    if not kinds:
        raise ValueError("kinds needs at least one location kind (an empty list allows none)")
    return KindsFilter(tuple(kinds))


def _parse_max_distance(value: Any) -> MaxDistanceFilter:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise TypeError(f"max_distance_miles needs a number >= 0, got {value!r}")
    return MaxDistanceFilter(float(value))


RULE_FILTERS: dict[str, Callable[[Any], Callable[[RoutingContext], None]]] = {
    "capability": _parse_capability,
    "kinds": _parse_kinds,
    "max_distance_miles": _parse_max_distance,
    "exclude": lambda v: ExcludeFilter(tuple(_as_list(v, "exclude"))),
    "open_now": lambda v: OpenNowFilter(_as_bool(v, "open_now")),
    "in_region": lambda v: InRegionFilter(_as_bool(v, "in_region")),
}
"""YAML filter name -> parser of its value into a filter callable."""


def apply_base_filters(
    ctx: RoutingContext,
    exclude: Collection[str],
    open_mask: np.ndarray | None,
    limit_hit: np.ndarray | None,
    pickup_only: np.ndarray | None,
) -> None:
    """The filters every policy respects, in reason-precedence order.

    `ctx.eligible` starts from the static capability and wholesale filters
    (`ctx.base_codes == 0`).

    Args:
        ctx: Context whose `eligible` mask is narrowed.
        exclude: Location ids the caller excluded (outage, a store that rejected).
        open_mask: bool (L,) open locations when closed ones are skipped, else None.
        limit_hit: bool (L,) locations at their daily order limit, or None.
        pickup_only: BOPIS without substitution: bool (L,) True only at the pickup store.
    """
    if pickup_only is not None:
        ctx.keep(pickup_only, Exclusion.NOT_PICKUP_STORE)
    if ctx.order.method == "same_day":
        ctx.exclude(ctx.dist > ctx.settings.same_day_max_miles, Exclusion.TOO_FAR)
    if exclude:
        ctx.exclude_rows(rows_of(ctx.network, exclude), Exclusion.EXCLUDED)
    if open_mask is not None:
        ctx.keep(open_mask, Exclusion.CLOSED)
    if limit_hit is not None:
        ctx.exclude(limit_hit, Exclusion.DAILY_LIMIT)
    ctx.keep(ctx.ats_t.any(axis=0), Exclusion.NO_STOCK)
