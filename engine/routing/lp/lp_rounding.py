"""`lp_rounding`: a deterministic LP of where each region's items should ship from, then
correlated rounding per order to limit splits.

Jasin & Sinha (2015), "An LP-based correlated rounding scheme for multi-item ecommerce
order fulfillment", Operations Research 63(6): solve a deterministic LP (DLP) of expected
remaining demand with package costs (`TransportModel` with packages, aggregated by region),
read off for region r and SKU s the fractions `f[r, s, l] = x[l, r, s] / D[r, s]` of its
units that should ship from each location l, and round them per order with ONE uniform
draw `U` shared by all lines: line s goes to the first location (in a fixed order per
region, cheapest first) where the cumulative fraction exceeds `U`. Lines whose fractions
agree land at the same location, which is what limits splits; independent rounding would
scatter them.

In a live network the rounded location may have run out, so a repair step follows: lines
without stock go to an already used location if one can fill them, else to the cheapest
one; then a package whose lines can all move to other used locations more cheaply (fee
saved against unit costs, each unit priced with the DLP's inventory duals) is merged away.
As a safeguard the rounded plan is kept only when, priced the same way, it costs no more
than the cheapest priced split (`priced_split` with the DLP's duals); the reason codes say
which was used ("rounded" or "priced").

`U` is a hash of the order id and the policy seed, so results do not depend on the order
in which processes route orders.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from engine.routing.context import Plan, RoutingContext, check_package_limit, package_limit
from engine.routing.lp.base import LpPolicy, with_notes
from engine.routing.lp.pricing import plan_cost, priced_split
from engine.routing.lp.transport import TransportModel, TransportSolution
from engine.routing.ranking import Ranking

__all__ = ["LpRoundingPolicy", "correlated_round"]


def order_uniform(order_id: str, seed: int) -> float:
    """A uniform number in [0, 1) from an order id and a seed (stable across processes)."""
    return zlib.crc32(f"{seed}:{order_id}".encode()) / 2.0**32


def correlated_round(fractions: np.ndarray, u: float) -> np.ndarray:
    """Round each line's location fractions with one shared uniform draw.

    Args:
        fractions: Share of each line's units per location, in the region's fixed location
            order, float (k, n); rows sum to <= 1 (the rest is "unfilled" in the LP).
        u: The order's uniform draw in [0, 1).

    Returns:
        Position (into the n locations) chosen for each line, int (k,); -1 where `u` falls
        in the unfilled share.
    """
    cum = np.cumsum(fractions, axis=1)
    pos = (cum <= u).sum(axis=1)
    return np.where(pos < fractions.shape[1], pos, -1)


class LpRoundingPolicy(LpPolicy):
    """Deterministic LP with package costs and correlated rounding (Jasin & Sinha 2015).

    Args:
        seed: Seed of the per-order uniform draws.
        safeguard: Keep the rounded plan only if its cost, with units priced by the DLP's
            duals, is no higher than the cheapest priced split's (else take that split).
        max_packages: Package limit; None uses `RoutingSettings.max_packages`.
        **params: `LpPolicy` parameters (resolve_every, window_hours, until, ...).
    """

    name = "lp_rounding"
    description = "An LP of expected demand with package costs, rounded per order to limit splits (Jasin & Sinha)."
    packages = True

    def __init__(
        self,
        seed: int = 0,
        safeguard: bool = True,
        max_packages: int | None = None,
        **params: Any,
    ) -> None:
        params.setdefault("resolve_every", 2000)
        super().__init__(**params)
        self.seed = int(seed)
        self.safeguard = bool(safeguard)
        self.max_packages = check_package_limit(self.name, max_packages)
        self._orders: dict[int, np.ndarray] = {}

    def guided(self, ctx: RoutingContext, model: TransportModel, sol: TransportSolution) -> Plan:
        assert sol.flow is not None
        limit = package_limit(ctx, self.max_packages)
        price = sol.price[:, ctx.sku_idx]  # (L, k)
        order = ctx.order
        r = model.regions.region_of(ctx.region_code, order.dest_lat, order.dest_lon)
        walk = self._orders.get(r)
        if walk is None:  # the region's locations, cheapest first
            walk = model.rows[np.argsort(model.unit[r], kind="stable")]
            self._orders[r] = walk
        flow = sol.flow[r][ctx.sku_idx][:, walk]  # (k, n)
        total = flow.sum(axis=1, keepdims=True)
        assert self.demand is not None
        demand = np.maximum(total, self.demand[r, ctx.sku_idx][:, None])
        fractions = np.divide(flow, demand, out=np.zeros_like(flow), where=demand > 0)
        pos = correlated_round(fractions, order_uniform(order.id, self.seed))
        target = np.where(pos >= 0, walk[np.maximum(pos, 0)], -1)
        plan = self._repair(ctx, target, price, limit)
        tag = f"lp_rounding:lp{self.solves}"
        ranking, packages, best = priced_split(ctx, price, limit)
        if plan is None:  # some line cannot be filled whole anywhere: split by quantity
            return with_notes(Plan(ranking, packages), (tag, "split"))
        if self.safeguard and plan_cost(ctx, plan.packages, price) > best + 1e-9:
            return with_notes(Plan(ranking, packages), (tag, "priced"))
        return with_notes(plan, (tag, "rounded"))

    def _repair(
        self, ctx: RoutingContext, target: np.ndarray, price: np.ndarray, limit: int
    ) -> Plan | None:
        """Make the rounded assignment feasible, then merge packages that do not pay."""
        qty = ctx.qty
        fits = (ctx.ats >= qty) & ctx.eligible[:, None]  # (L, k)
        if not fits.any(axis=0).all():
            return None
        unit = (ctx.unit_cost()[:, None] + price) * qty  # (L, k) cost of each line there
        cand = ctx.candidates()
        fee = np.zeros(fits.shape[0])
        fee[cand] = ctx.fixed_cost(cand)
        assign = np.where(target >= 0, target, 0)
        ok = (target >= 0) & fits[assign, np.arange(qty.size)]
        assign = np.where(ok, assign, -1)
        for j in np.flatnonzero(~ok):  # lines the rounding could not place
            used = np.zeros(fits.shape[0], dtype=bool)
            used[assign[assign >= 0]] = True
            cost = np.where(fits[:, j], unit[:, j] + np.where(used, 0.0, fee), np.inf)
            assign[j] = int(np.argmin(cost))
        changed = True
        while changed:
            changed = False
            locs, counts = np.unique(assign, return_counts=True)
            if locs.size <= 1:
                break
            for loc in locs[np.argsort(counts, kind="stable")]:
                others = locs[locs != loc]
                lines = np.flatnonzero(assign == loc)
                alt = np.where(fits[others][:, lines], unit[others][:, lines], np.inf)
                best = np.argmin(alt, axis=0)
                moved = alt[best, np.arange(lines.size)]
                if np.isfinite(moved).all() and moved.sum() < unit[loc, lines].sum() + fee[loc]:
                    assign[lines] = others[best]
                    changed = True
                    break
        locs = list(dict.fromkeys(assign[np.argsort(unit[assign, np.arange(qty.size)])]))
        if len(locs) > limit:
            return None
        packages = []
        for loc in locs:
            take = np.where(assign == loc, qty, 0).astype(np.int64)
            packages.append((int(loc), take))
        single = fee[cand] + np.where(fits[cand], unit[cand], unit[cand] * 10).sum(axis=1)
        return Plan(Ranking(cand, [single]), packages)
