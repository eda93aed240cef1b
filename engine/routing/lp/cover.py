"""Cover numbers: the fewest locations that together stock every SKU of an order.

Used as a valid lower bound on an order's packages (by the hindsight bound in `sim.bound`)
and as cuts in the order-level forecast LP (`OrderSample`).
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["min_packages"]


def min_packages(
    line_order: np.ndarray,
    line_sku: np.ndarray,
    n_orders: int,
    carried: np.ndarray,
    max_size: int = 4,
) -> np.ndarray:
    """Least number of locations that together carry each order's SKUs (set cover).

    Lines whose SKU no location carries are ignored (they can only go unfilled). Covers
    are searched by size; an order without a cover of size <= `max_size` gets
    `max_size + 1`, still a valid lower bound on its packages. Location bitmasks need
    at most 62 locations; with more, every order with a coverable line gets 1.

    Args:
        line_order: Order index of every line (M,).
        line_sku: SKU of every line (M,).
        n_orders: Number of orders N.
        carried: Whether location l ever holds SKU s, bool (L, S).
        max_size: Largest cover size searched.

    Returns:
        int (N,): 0 for orders with nothing coverable, else the cover size bound.
    """
    n_l = carried.shape[0]
    coverable = carried[:, line_sku].any(axis=0)
    line_order, line_sku = line_order[coverable], line_sku[coverable]
    out = np.zeros(n_orders, dtype=np.int64)
    has = np.bincount(line_order, minlength=n_orders) > 0
    out[has] = 1
    if n_l > 62 or not has.any():
        return out
    bits = (carried.astype(np.int64) << np.arange(n_l, dtype=np.int64)[:, None]).sum(axis=0)
    mask = bits[line_sku]
    open_ = has.copy()
    for size in range(1, min(max_size, n_l) + 1):
        sel = open_[line_order]
        lo, lm = line_order[sel], mask[sel]
        if lo.size == 0:
            break
        for combo in itertools.combinations(range(n_l), size):
            subset = sum(1 << c for c in combo)
            miss = np.bincount(lo[(lm & subset) == 0], minlength=n_orders)
            done = open_ & (miss == 0)
            out[done] = size
            open_ &= ~done
            keep = open_[lo]
            lo, lm = lo[keep], lm[keep]
            if lo.size == 0:
                break
        out[open_] = size + 1
    return out
