"""The perfect-hindsight bound (`sim.bound`) for one literature arrival sequence.

In the literature world every centre only ships, handling is free, stock is static (one
period) and every order goes to its region's city, so the bound's inputs are direct: unit
cost `c[l, r] = per_item + per_item_mile * miles(r, l)`, package fee `per_package`, supply
the initial stock, demand the units per (region, item), and `M[r]` the sum of the orders'
cover numbers over the items the centres carry.
"""

from __future__ import annotations

import numpy as np

from sim.bound import BoundProblem, BoundResult, min_packages, solve_bound
from sim.literature.replay import Arrivals, Instance

__all__ = ["literature_bound", "per_order_min_packages"]


def per_order_min_packages(inst: Instance, arrivals: Arrivals) -> np.ndarray:
    """Least packages each order needs given which centres stock which items (N,)."""
    return min_packages(arrivals.line_order, arrivals.line_sku, len(arrivals), inst.stock > 0)


def literature_bound(
    inst: Instance, arrivals: Arrivals, time_limit_s: float = 120.0
) -> BoundResult:
    """Hindsight lower bound on the fulfilment cost of one arrival sequence. [USD]"""
    net = inst.network
    n_r, n_s = len(net.regions), len(inst.skus)
    unit = inst.rates.unit_costs(net.region_distances()).T  # (L, R)
    hpo = net.handling_per_order[:, None] + inst.rates.per_package
    lines = arrivals.line_order
    cells, units = np.unique(arrivals.region[lines] * n_s + arrivals.line_sku, return_counts=True)
    m = per_order_min_packages(inst, arrivals)
    problem = BoundProblem(
        unit_cost=unit + net.handling_per_unit[:, None],
        fee=np.broadcast_to(hpo, unit.shape).copy(),
        supply=inst.stock[:, :, None].astype(np.float64),
        cell_group=cells // n_s,
        cell_sku=cells % n_s,
        cell_period=np.zeros(cells.size, dtype=np.int64),
        cell_units=units.astype(np.float64),
        max_qty=np.ones((n_r, n_s)),
        min_packages=np.bincount(arrivals.region, weights=m, minlength=n_r),
        penalty=inst.penalty,
        orders=len(arrivals),
    )
    return solve_bound(problem, time_limit_s)
