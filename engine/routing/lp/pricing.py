"""Priced splits: the cheapest set of packages for one order under per-line unit prices.

The LP-guided policies add an opportunity cost per unit of each SKU at each location (a
dual price, Acimovic & Graves 2015) to the immediate landed cost, then need the order split
that minimises

    sum over packages (package fee + handling per order)
    + sum over lines  qty_j * (unit cost at the line's location + extra price there)

Covers of up to three locations (four when nothing smaller covers the order) are
enumerated exactly over the cheapest candidates, vectorised with numpy; each line goes to
the cheapest member of the chosen cover. Lines no single location can fill whole are split
by quantity, cheapest first.
"""

from __future__ import annotations

import functools
import itertools
from typing import TYPE_CHECKING

import numpy as np

from engine.routing.ranking import Ranking
from engine.routing.split import greedy_take

if TYPE_CHECKING:
    from engine.routing.context import RoutingContext

__all__ = ["Packages", "plan_cost", "priced_split"]

Packages = list[tuple[int, np.ndarray]]
MAX_CANDIDATES = 12  # 12 + 66 + 220 covers of size <= 3


@functools.cache
def _combos(n: int, size: int) -> np.ndarray:
    """All covers of 1..size positions among n, padded with n (a dummy), int (P, size)."""
    rows = []
    for m in range(1, min(size, n) + 1):
        for c in itertools.combinations(range(n), m):
            rows.append(c + (n,) * (size - m))
    out = np.array(rows, dtype=np.int64).reshape(-1, size)
    out.flags.writeable = False
    return out


def _shortlist(line_cost: np.ndarray, fixed: np.ndarray, limit: int) -> np.ndarray:
    """Positions worth enumerating: each line's cheapest filler, then cheapest singles."""
    n = line_cost.shape[0]
    if n <= limit:
        return np.arange(n)
    finite = np.isfinite(line_cost)
    keep = set(np.argmin(np.where(finite, line_cost, np.inf), axis=0)[finite.any(axis=0)].tolist())
    proxy = fixed + np.where(finite, line_cost, 1e6).sum(axis=1)
    for p in np.argsort(proxy, kind="stable"):
        if len(keep) >= limit:
            break
        keep.add(int(p))
    return np.array(sorted(keep), dtype=np.int64)


def _best_cover(
    line_cost: np.ndarray, fixed: np.ndarray, size: int
) -> tuple[np.ndarray, float] | None:
    """Cheapest cover of all columns of `line_cost` by at most `size` rows, or None."""
    n = line_cost.shape[0]
    combos = _combos(n, size)
    c = np.vstack([line_cost, np.full((1, line_cost.shape[1]), np.inf)])
    f = np.append(fixed, 0.0)
    total = f[combos].sum(axis=1) + c[combos].min(axis=1).sum(axis=1)
    best = int(np.argmin(total))
    if not np.isfinite(total[best]):
        return None
    members = combos[best]
    return members[members < n], float(total[best])


def priced_split(
    ctx: RoutingContext, extra: np.ndarray | None, max_packages: int
) -> tuple[Ranking, Packages, float]:
    """Cheapest split of the order under immediate cost plus an extra price per unit.

    Args:
        ctx: The order being routed (candidates, ATS, quantities, unit and fixed costs).
        extra: Extra price per unit of each ordered SKU at each network row, float (L, k),
            e.g. an opportunity cost from LP duals; None for none. [USD/unit]
        max_packages: Most packages allowed.

    Returns:
        `(ranking, packages, cost)`: candidates ranked by the priced cost of shipping the
        whole order from each alone; the packages; their priced cost (fees, handling,
        shipping and extra prices; excluding unfilled units). [USD]
    """
    cand = ctx.candidates()
    qty = ctx.qty
    if cand.size == 0:
        return Ranking(cand, []), [], 0.0
    avail = ctx.ats[cand]
    unit = ctx.unit_cost()[cand][:, None] + (0.0 if extra is None else extra[cand])
    full = avail >= qty
    line_cost = np.where(full, unit * qty, np.inf)
    fixed = ctx.fixed_cost(cand)
    single = fixed + np.where(full, line_cost, unit * qty * 10.0).sum(axis=1)
    ranking = Ranking(cand, [single])
    coverable = full.any(axis=0)
    chosen = np.zeros(0, dtype=np.int64)
    if coverable.all():  # fast path: a single package no pair or triple can beat
        single_cost = fixed + line_cost.sum(axis=1)
        best = int(np.argmin(single_cost))
        bound = 2.0 * float(fixed.min()) + float(line_cost.min(axis=0).sum())
        if np.isfinite(single_cost[best]) and bound >= single_cost[best]:
            return ranking, [(int(cand[best]), qty.astype(np.int64))], float(single_cost[best])
    if coverable.any():
        sub = line_cost[:, coverable]
        short = _shortlist(sub, fixed, MAX_CANDIDATES)
        found = _best_cover(sub[short], fixed[short], min(3, max_packages))
        if found is None and max_packages > 3 and short.size > 3:
            found = _best_cover(sub[short], fixed[short], 4)
        chosen = short[found[0]] if found else _greedy_cover(sub, fixed, max_packages)
    take = np.zeros(avail.shape, dtype=np.int64)
    covered = np.zeros(qty.size, dtype=bool)
    if chosen.size:
        owner_cost = line_cost[chosen]
        ok = np.isfinite(owner_cost)
        covered = ok.any(axis=0)
        owner = chosen[np.argmin(np.where(ok, owner_cost, np.inf), axis=0)]
        cols = np.flatnonzero(covered)
        take[owner[cols], cols] = qty[cols]
    rest = np.flatnonzero(~covered)
    if rest.size:  # split by quantity: locations already used first, then cheapest
        order = np.argsort(unit[:, rest].mean(axis=1), kind="stable")
        first = take[order].any(axis=1)
        walk = np.concatenate([order[first], order[~first]])
        take[np.ix_(walk, rest)] = greedy_take(avail[np.ix_(walk, rest)], qty[rest])
    used = np.flatnonzero(take.any(axis=1))
    used = used[np.argsort(single[used], kind="stable")][:max_packages]
    packages = [(int(cand[p]), take[p]) for p in used]
    cost = float(fixed[used].sum() + (unit[used] * take[used]).sum())
    return ranking, packages, cost


def _greedy_cover(line_cost: np.ndarray, fixed: np.ndarray, max_packages: int) -> np.ndarray:
    """Repeatedly add the location with the lowest cost per newly covered line."""
    n, k = line_cost.shape
    left = np.isfinite(line_cost).any(axis=0)
    chosen: list[int] = []
    while left.any() and len(chosen) < max_packages:
        gain = (np.isfinite(line_cost) & left).sum(axis=1)
        cost = fixed + np.where(np.isfinite(line_cost) & left, line_cost, 0.0).sum(axis=1)
        ratio = np.where(gain > 0, cost / np.maximum(gain, 1), np.inf)
        best = int(np.argmin(ratio))
        if not np.isfinite(ratio[best]):
            break
        chosen.append(best)
        left &= ~np.isfinite(line_cost[best])
    return np.array(chosen, dtype=np.int64)


def plan_cost(ctx: RoutingContext, packages: Packages, extra: np.ndarray | None = None) -> float:
    """Priced cost of given packages: fees, handling and units at (unit cost + extra). [USD]"""
    if not packages:
        return 0.0
    rows = np.array([r for r, _ in packages], dtype=np.int64)
    take = np.vstack([t for _, t in packages])
    unit = ctx.unit_cost()[rows][:, None] + (0.0 if extra is None else extra[rows])
    return float(ctx.fixed_cost(rows).sum() + (unit * take).sum())
