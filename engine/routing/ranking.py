"""Sort keys: one value per candidate location, lower is better, combined by `np.lexsort`.

Each key is a small frozen object with a YAML name (`SORT_KEYS` maps names to parsers).
Keys that prefer "more" (days of cover, ATS) return negated values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import RoutingError
from engine.location import LocationKind
from engine.network import KIND_CODES
from engine.routing.filters import _NetworkCache

if TYPE_CHECKING:
    from engine.network import Network
    from engine.routing.context import RoutingContext

__all__ = [
    "SORT_KEYS",
    "AtsKey",
    "CostKey",
    "DaysOfCoverKey",
    "DistanceKey",
    "InRegionKey",
    "KindKey",
    "PriorityKey",
    "SortKey",
    "Ranking",
]


class SortKey:
    """Base of sort keys: `values(ctx, cand)` -> float or int array (n,), lower is better."""

    name = "key"

    def values(self, ctx: RoutingContext, cand: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class DistanceKey(SortKey):
    """Nearest first (miles to the destination)."""

    name = "distance"

    def values(self, ctx: RoutingContext, cand: np.ndarray) -> np.ndarray:
        return ctx.dist.take(cand)


@dataclass(frozen=True)
class CostKey(SortKey):
    """Cheapest single package for the whole order first: fee + handling + units x unit cost."""

    name = "cost"

    def values(self, ctx: RoutingContext, cand: np.ndarray) -> np.ndarray:
        return ctx.fixed_cost(cand) + ctx.unit_cost().take(cand) * float(sum(ctx.qty.tolist()))


@dataclass(frozen=True)
class InRegionKey(SortKey):
    """Locations in the destination's region (`Location.region`) first (0 in, 1 out)."""

    name = "in_region"

    def values(self, ctx: RoutingContext, cand: np.ndarray) -> np.ndarray:
        return (ctx.network.region_codes[cand] != ctx.region_code).view(np.int8)


@dataclass(frozen=True)
class KindKey(SortKey):
    """Location kinds in a given order; kinds in one tier tie; unlisted kinds come last."""

    tiers: tuple[tuple[LocationKind, ...], ...]
    name = "kind"

    def __post_init__(self) -> None:
        table = np.full(len(KIND_CODES), len(self.tiers), dtype=np.int64)
        for t, tier in enumerate(self.tiers):
            for kind in tier:
                table[KIND_CODES[kind]] = min(table[KIND_CODES[kind]], t)
        object.__setattr__(self, "_table", table)

    def values(self, ctx: RoutingContext, cand: np.ndarray) -> np.ndarray:
        return self._table[ctx.network.kind_codes[cand]]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PriorityKey(SortKey):
    """A configured priority list of location ids; unlisted locations come last.

    Raises:
        RoutingError: When routing over a network that lacks a listed id (a typo would
            otherwise leave the order to distance alone).
    """

    ids: tuple[str, ...]
    name = "priority"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cache", _NetworkCache())

    def _build(self, network: Network) -> np.ndarray:
        unknown = [loc for loc in self.ids if loc not in network.index]
        if unknown:
            raise RoutingError(f"priority names location(s) not in the network: {unknown[:5]}")
        pos = np.full(len(network.locations), len(self.ids), dtype=np.int64)
        for p, loc in enumerate(self.ids):
            row = network.index.get(loc)
            if row is not None and pos[row] == len(self.ids):
                pos[row] = p
        return pos

    def values(self, ctx: RoutingContext, cand: np.ndarray) -> np.ndarray:
        return self._cache.get(ctx.network, self._build)[cand]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DaysOfCoverKey(SortKey):
    """Most days of cover first: min over ordered SKUs of ATS / daily demand rate. [days]"""

    name = "days_of_cover"

    def values(self, ctx: RoutingContext, cand: np.ndarray) -> np.ndarray:
        # ATS rather than on-hand: reserved units are already promised, and ATS is at hand
        # in the (k, L) layout (a column gather from the (L, S) on-hand is cache-unfriendly).
        avail = ctx.ats_t.take(cand, axis=1)
        rate = ctx.settings.demand_rate
        if rate is None:
            return -np.min(avail, axis=0).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            days = avail / rate.take(ctx.sku_idx)[:, None]
        return -np.nan_to_num(days, nan=np.inf, posinf=np.inf).min(axis=0)


@dataclass(frozen=True)
class AtsKey(SortKey):
    """Locations that can supply more of the order first (units, capped at the order)."""

    name = "ats"

    def values(self, ctx: RoutingContext, cand: np.ndarray) -> np.ndarray:
        return -np.minimum(ctx.ats_t.take(cand, axis=1), ctx.qty[:, None]).sum(axis=0)


class Ranking:
    """Candidates ordered by sort keys, computed lazily.

    The full order (`np.lexsort`, first key most significant, ties by network order) is
    only sorted when a split strategy or `Decision.reasons` needs it; `best` finds the top
    candidate among a subset without sorting.

    Attributes:
        cand: Candidate rows in network order, int64 (n,).
        vals: One value array (n,) per sort key, most significant first.
    """

    __slots__ = ("_order", "cand", "vals")

    def __init__(self, cand: np.ndarray, vals: list[np.ndarray]) -> None:
        self.cand = cand
        self.vals = vals
        self._order: np.ndarray | None = None

    @classmethod
    def of(cls, ctx: RoutingContext, cand: np.ndarray, keys: Sequence[SortKey]) -> Ranking:
        """Evaluate the sort keys on the candidates."""
        return cls(cand, [k.values(ctx, cand) for k in keys])

    def order(self) -> np.ndarray:
        """Positions into `cand`, best first (stable: ties keep network order)."""
        if self._order is None:
            vals, n = self.vals, self.cand.size
            if not vals or n <= 1:
                self._order = np.arange(n)
            elif len(vals) == 1:
                self._order = np.argsort(vals[0], kind="stable")
            else:
                self._order = np.lexsort(vals[::-1])
        return self._order

    def ranked(self) -> np.ndarray:
        """Candidate rows, best first."""
        return self.cand[self.order()]

    def score(self) -> np.ndarray:
        """Primary key value per ranked candidate (float64)."""
        if not self.vals:
            return np.zeros(self.cand.size)
        return np.asarray(self.vals[0], dtype=np.float64)[self.order()]

    def best(self, mask: np.ndarray) -> int:
        """Position of the best-ranked candidate where `mask` is True, or -1 (no sort)."""
        idx = mask.nonzero()[0]
        if idx.size <= 1:
            return int(idx[0]) if idx.size else -1
        for v in self.vals:
            sub = v.take(idx)
            idx = idx[sub == sub[sub.argmin()]]
            if idx.size == 1:
                break
            if idx.size == 0:  # NaN keys: fall back to the full (NaN-last) sort
                order = self.order()
                return int(order[mask.take(order).argmax()])
        return int(idx[0])


def _kind_tiers(value: Any) -> KindKey:
    if isinstance(value, dict):
        if set(value) != {"order"}:
            raise ValueError(f"kind takes {{order: [...]}}, got keys {sorted(value)}")
        value = value["order"]
    if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
        raise TypeError(f"kind needs a non-empty list of kinds, got {value!r}")
    tiers = []
    for tier in value:
        names = [tier] if isinstance(tier, str) else tier
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise TypeError(f"kind order entries must be kinds or lists of kinds, got {tier!r}")
        try:
            tiers.append(tuple(LocationKind(n) for n in names))
        except ValueError:
            known = ", ".join(k.value for k in LocationKind)
            raise ValueError(f"unknown location kind in {tier!r} (known: {known})") from None
    return KindKey(tuple(tiers))


def _priority(value: Any) -> PriorityKey:
    if isinstance(value, dict):
        value = value.get("order", value.get("locations"))
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TypeError(f"priority needs a list of location ids, got {value!r}")
    if not all(isinstance(v, str) for v in value):
        raise TypeError(f"priority needs a list of location ids, got {value!r}")
    return PriorityKey(tuple(value))


def _no_value(cls: type[SortKey]) -> Callable[[Any], SortKey]:
    def parse(value: Any) -> SortKey:
        if value not in (None, True, "asc"):
            raise TypeError(f"{cls.name} takes no value, got {value!r}")
        return cls()

    return parse


SORT_KEYS: dict[str, Callable[[Any], SortKey]] = {
    "distance": _no_value(DistanceKey),
    "cost": _no_value(CostKey),
    "in_region": _no_value(InRegionKey),
    "days_of_cover": _no_value(DaysOfCoverKey),
    "ats": _no_value(AtsKey),
    "kind": _kind_tiers,
    "priority": _priority,
}
"""YAML sort key name -> parser of its value (None when given as a bare string)."""
