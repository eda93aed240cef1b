"""Split strategies: turn ranked candidates into packages.

Every strategy receives the candidates and their lazy `Ranking` and returns
`[(location row, units per ordered SKU), ...]` in package order, at most `max_packages`
packages. Units no package takes are reported unfulfillable by the router.

Set cover for `min_packages` and `min_cost` is exact for small orders: each location's
"can fill line j whole" flags become a bitmask, locations are grouped by mask (the best
ranked location represents its group; at most 2^k groups), and singles, then pairs (a
vectorised OR table), then triples are tested before a greedy fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from engine.routing.ranking import Ranking

if TYPE_CHECKING:
    from engine.routing.context import RoutingContext

__all__ = ["SPLITS", "greedy_take", "min_cost", "min_packages", "no_split", "single_then_greedy"]

Packages = list[tuple[int, np.ndarray]]
_MAX_TRIPLE_GROUPS = 40  # 40^3 = 64,000 combinations; beyond that use the greedy cover
_INT64_LINES = 62  # widest order (lines) whose masks are int64; wider ones use Python ints


def greedy_take(avail: np.ndarray, qty: np.ndarray) -> np.ndarray:
    """Walk locations in row order, each taking what it can of the remaining quantities.

    Vectorised per SKU with cumulative sums: location i takes
    `min(cum_i, q) - min(cum_{i-1}, q)` where `cum` is the running ATS total.

    Args:
        avail: ATS in walk order, (n, k). [units]
        qty: Units wanted per SKU, (k,). [units]

    Returns:
        Units taken per location and SKU, (n, k). [units]
    """
    cum = np.cumsum(avail, axis=0, dtype=np.int64)
    return np.minimum(cum, qty) - np.minimum(cum - avail, qty)


def _emit(rows: np.ndarray, take: np.ndarray, order: np.ndarray, max_packages: int) -> Packages:
    """Packages for positions in `order` that take something, at most `max_packages`."""
    used = order[take[order].any(axis=1)][:max_packages]
    return [(int(rows[p]), take[p]) for p in used]


def _whole_order(ctx: RoutingContext, rk: Ranking) -> Packages | None:
    """`[]` without candidates; one package from the best-ranked location that fills the
    whole order; None when no location can."""
    cand = rk.cand
    if cand.size == 0:
        return []
    best = rk.best(ctx.fills().take(cand))
    return [(int(cand[best]), ctx.qty.copy())] if best >= 0 else None


def single_then_greedy(ctx: RoutingContext, rk: Ranking, max_packages: int) -> Packages:
    """The best-ranked location that fills the whole order; else greedy by rank."""
    cand, qty = rk.cand, ctx.qty
    whole = _whole_order(ctx, rk)
    if whole is not None:
        return whole
    rows = cand[rk.order()]
    take = greedy_take(ctx.avail(rows), qty)
    return _emit(rows, take, np.arange(rows.size), max_packages)


def no_split(ctx: RoutingContext, rk: Ranking, max_packages: int) -> Packages:
    """One package: the best-ranked location that fills the whole order.

    When none can, the location that can supply the most units (ties by rank) ships what
    it has; the router drops it again when partial allocation is not allowed.
    """
    cand, qty = rk.cand, ctx.qty
    if cand.size == 0:
        return []
    capped = np.minimum(ctx.avail(cand), qty)
    fill = capped.sum(axis=1)
    top = fill.max()
    if top <= 0:
        return []
    best = rk.best(fill == top)
    return [(int(cand[best]), capped[best].astype(np.int64))]


def _masks(full: np.ndarray) -> tuple[np.ndarray, int]:
    """Per location, the lines it can fill whole as a bitmask; and the mask of every line
    some location can fill (the cover target).

    int64 masks for up to `_INT64_LINES` lines; wider orders get Python ints in an object
    array (exact at any width, slower), since bit 63 and above would overflow int64.
    """
    k = full.shape[1]
    if k <= _INT64_LINES:
        bits = np.left_shift(np.int64(1), np.arange(k, dtype=np.int64))
        masks = full.astype(np.int64) @ bits
        return masks, int(bits[full.any(axis=0)].sum())
    masks = np.empty(full.shape[0], dtype=object)
    masks[:] = [sum(1 << j for j in np.flatnonzero(row).tolist()) for row in full]
    target = sum(1 << j for j in np.flatnonzero(full.any(axis=0)).tolist())
    return masks, target


def _groups(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct non-zero masks and the best-ranked position holding each, by rank."""
    uniq, first = np.unique(masks, return_index=True)
    keep = uniq != 0
    gm, gp = uniq[keep], first[keep]
    order = np.argsort(gp, kind="stable")
    return gm[order], gp[order]


def _best_pair(ok: np.ndarray, score: np.ndarray) -> tuple[int, int] | None:
    g = ok.shape[0]
    ok = ok & np.triu(np.ones((g, g), dtype=bool), 1)
    if not ok.any():
        return None
    i, j = divmod(int(np.where(ok, score, np.inf).argmin()), g)
    return i, j


def _best_triple(ok: np.ndarray, score: np.ndarray) -> tuple[int, int, int] | None:
    g = ok.shape[0]
    idx = np.arange(g)
    ok = ok & (idx[:, None, None] < idx[None, :, None]) & (idx[None, :, None] < idx[None, None, :])
    if not ok.any():
        return None
    flat = int(np.where(ok, score, np.inf).argmin())
    return flat // (g * g), (flat // g) % g, flat % g


def _greedy_cover(gm: np.ndarray, target: int) -> list[int]:
    """Repeatedly take the group covering most uncovered lines (ties: best rank)."""
    chosen, left = [], target
    while left:
        covers = gm & left
        if covers.dtype == object:  # Python-int masks of a wide order
            gain = np.array([int(m).bit_count() for m in covers], dtype=np.int64)
        else:
            gain = np.bitwise_count(covers)
        g = int(gain.argmax())
        if gain[g] == 0:
            break
        chosen.append(g)
        left &= ~int(gm[g])
    return chosen


def _assign(
    rows: np.ndarray,
    avail: np.ndarray,
    qty: np.ndarray,
    full: np.ndarray,
    chosen: list[int],
    pref: np.ndarray | None,
    max_packages: int,
) -> Packages:
    """Give each line to a chosen location that fills it whole; split the rest greedily.

    Args:
        rows: Location row per position, positions in rank order.
        chosen: Positions of the cover, any order.
        pref: Lower-is-better preference (n, k) among chosen locations for a line (e.g.
            line cost), or None for best rank.
    """
    n, k = avail.shape
    take = np.zeros((n, k), dtype=np.int64)
    ch = np.array(sorted(chosen), dtype=np.int64)
    covered = np.zeros(k, dtype=bool)
    if ch.size:
        can = full[ch]
        covered = can.any(axis=0)
        score = np.where(can, 0.0 if pref is None else pref[ch], np.inf)
        owner = score.argmin(axis=0)
        cols = np.flatnonzero(covered)
        take[ch[owner[cols]], cols] = qty[cols]
    rest = np.ones(n, dtype=bool)
    rest[ch] = False
    order = np.concatenate([ch, np.flatnonzero(rest)])
    cols = np.flatnonzero(~covered)
    if cols.size:
        take[np.ix_(order, cols)] = greedy_take(avail[np.ix_(order, cols)], qty[cols])
    return _emit(rows, take, order, max_packages)


def min_packages(ctx: RoutingContext, rk: Ranking, max_packages: int) -> Packages:
    """Fewest packages (exact set cover up to three locations), ties by rank.

    Among covers of equal size the one with the smallest sum of rank positions wins (ties:
    the best-ranked first member). Lines no location can fill whole are split by quantity
    greedily, chosen locations first.
    """
    cand, qty = rk.cand, ctx.qty
    whole = _whole_order(ctx, rk)
    if whole is not None:
        return whole
    avail = ctx.avail(cand)
    full = avail >= qty
    masks, target = _masks(full)
    best = rk.best(masks == target) if target else -1
    order = rk.order()
    rows, avail, full, masks = cand[order], avail[order], full[order], masks[order]
    chosen: list[int] = []
    if best >= 0:
        chosen = [int(np.flatnonzero(order == best)[0])]
    elif target:
        gm, gp = _groups(masks)
        pair = _best_pair((gm[:, None] | gm[None, :]) == target, gp[:, None] + gp[None, :])
        if pair is not None:
            chosen = [int(gp[i]) for i in pair]
        elif gm.size <= _MAX_TRIPLE_GROUPS:
            t3 = gm[:, None, None] | gm[None, :, None] | gm[None, None, :]
            s3 = gp[:, None, None] + gp[None, :, None] + gp[None, None, :]
            triple = _best_triple(t3 == target, s3)
            if triple is not None:
                chosen = [int(gp[i]) for i in triple]
        if not chosen:
            chosen = [int(gp[g]) for g in _greedy_cover(gm, target)]
    return _assign(rows, avail, qty, full, chosen, None, max_packages)


def min_cost(ctx: RoutingContext, rk: Ranking, max_packages: int) -> Packages:
    """Minimum landed cost: package fee + handling per order + units x unit cost.

    Each line goes to the cheapest location of the combination that fills it whole; the
    package fee is the split penalty. Singles are exact over all candidates; pairs (and
    triples when no single or pair covers the order) are evaluated over mask groups, each
    represented by its best-ranked member (the cheapest one under the `cost` sort key).
    Pairs are skipped when even a lower bound on their cost cannot beat the best single.
    """
    cand, qty = rk.cand, ctx.qty
    if cand.size == 0:
        return []
    fills = ctx.fills().take(cand)
    if fills.any():
        # Fast path: no pair can beat the best single when even two of the cheapest fees
        # plus every unit at the cheapest unit cost cost more.
        fixed, unit = ctx.fixed_cost(cand), ctx.unit_cost().take(cand)
        units = float(sum(qty.tolist()))
        single = np.where(fills, fixed + unit * units, np.inf)
        best_cost = single[single.argmin()]
        if 2.0 * fixed[fixed.argmin()] + units * unit[unit.argmin()] >= best_cost:
            return [(int(cand[rk.best(single == best_cost)]), qty.copy())]
    avail = ctx.avail(cand)
    full = avail >= qty
    masks, target = _masks(full)
    if not target:
        order = rk.order()
        return _assign(cand[order], avail[order], qty, full[order], [], None, max_packages)
    fixed = ctx.fixed_cost(cand)
    line = np.where(full, ctx.unit_cost()[cand][:, None] * qty, np.inf)
    line[:, ~full.any(axis=0)] = 0.0
    single_cost = fixed + line.sum(axis=1)
    best_cost, best = float(single_cost.min()), -1
    if np.isfinite(best_cost):
        best = rk.best(single_cost == best_cost)
        # A pair costs at least two of the cheapest fees plus each line at its cheapest.
        bound = 2 * float(fixed.min()) + float(line.min(axis=0).sum())
        if bound >= best_cost and target == (1 << qty.size) - 1:
            return [(int(cand[best]), qty.copy())]
    order = rk.order()
    rows, avail, full, masks = cand[order], avail[order], full[order], masks[order]
    fixed, line = fixed[order], line[order]
    chosen = [int(np.flatnonzero(order == best)[0])] if best >= 0 else []
    gm, gp = _groups(masks)
    c, f = line[gp], fixed[gp]
    pair_cost = f[:, None] + f[None, :] + np.minimum(c[:, None, :], c[None, :, :]).sum(axis=2)
    pair = _best_pair(np.isfinite(pair_cost), pair_cost)
    if pair is not None and pair_cost[pair] < best_cost:
        chosen = [int(gp[i]) for i in pair]
    elif not chosen and gm.size <= _MAX_TRIPLE_GROUPS:
        c3 = np.minimum(np.minimum(c[:, None, None, :], c[None, :, None, :]), c[None, None, :, :])
        s3 = f[:, None, None] + f[None, :, None] + f[None, None, :] + c3.sum(axis=3)
        triple = _best_triple(np.isfinite(s3), s3)
        if triple is not None:
            chosen = [int(gp[i]) for i in triple]
    if not chosen:
        chosen = [int(gp[g]) for g in _greedy_cover(gm, target)]
    return _assign(rows, avail, qty, full, chosen, line, max_packages)


SPLITS: dict[str, Callable[[RoutingContext, Ranking, int], Packages]] = {
    "single_then_greedy": single_then_greedy,
    "min_packages": min_packages,
    "min_cost": min_cost,
    "no_split": no_split,
}
"""Split strategy name -> function `(ctx, ranking, max_packages) -> packages`."""
