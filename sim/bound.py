"""Perfect-hindsight lower bound on the fulfilment cost of realised demand.

Given the orders that actually arrived in a run, the stock each location had at the start
and the units that arrived later (replenishment, restocked returns), no routing policy, not
even one that knew every future order, can fulfil them for less than the value LB of

    min  sum_{g,l} F[l, g] z[g, l] + sum c[l, g] x[l, g, s, p] + P sum u[g, s, p]
    s.t. sum_l x[l, g, s, p] + u[g, s, p] = D[g, s, p]                     (demand)
         sum_{g, p' <= p} x[l, g, s, p'] <= sum_{p' <= p} A[l, s, p']     (stock by period)
         sum_p x[l, g, s, p] <= q[g, s] z[g, l]                           (units per package)
         sum_l z[g, l] + sum_{s, p} u[g, s, p] >= M[g]                    (packages per order)
         x, u, z >= 0

a transportation LP (built with pulp, solved by HiGHS) aggregated by demand group g (the
destination region; BOPIS orders form their own group), SKU s and period p (day), so
100,000 orders give a model of about regions x SKUs x stocking locations columns.

Symbols: `D` units demanded; `A[l, s, 0]` initial stock plus period-0 arrivals and
`A[l, s, p]` later arrivals; `c[l, g]` per-unit shipping plus handling; `F[l, g]` the
package fee plus handling per order at l (no fee for pickup); `P` the penalty per unfilled
unit (the literature's: twice the package fee plus the unit cost at the longest distance);
`q[g, s]` the largest quantity of SKU s on one order of group g; `M[g]` the sum over the
group's orders of `m_o`, the least number of locations that together ever carry all of
order o's coverable SKUs; `z[g, l]` counts packages from l to group g.

Why LB is a valid lower bound. Take any policy's realised fulfilment: `K[g, l]` packages
from l to orders of group g, `k_o` packages for order o, units `x` shipped and `u`
unfilled. Its cost is at least `sum F K + c.x + P u` (every package pays at least the fee
and handling per order of its location, every unit at least `c`, computed at the order's
own region). Setting `z = K` gives a feasible LP point: (1) shipments aggregated by
(l, g, s, p) never exceed cumulative arrivals, because a unit that left in period p was on
hand by then (periods are dated by when units left, see `sim.bound_report`); (2) every unit
of s from l to group g sits in a package from l to a group-g order, holding at most
`q[g, s]` units of s, so `sum_p x <= q z`; (3) an order that shipped something needs
`k_o >= m_o - (lines left unshipped) >= m_o - u_o` locations (adding one location per
unshipped line would cover the whole order), and one that shipped nothing has
`0 >= m_o - u_o`; summed over the group, `sum_l K + U >= M`. So the policy's cost is at
least the LP's value at a feasible point, hence at least LB. Merging regions, SKUs or
periods only relaxes the LP further (costs are per region, merged rows are sums).

Exactness on small instances. With single-unit orders the package rows are tight (one
package per shipped order) and the LP is a transportation problem with integral optima, so
LB equals the brute-force optimum over unit-to-location assignments; with multi-item
orders LB may be below it (tests/lp/test_bound.py checks both).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine.routing.lp.cover import min_packages

__all__ = ["BoundError", "BoundProblem", "BoundResult", "min_packages", "solve_bound"]


class BoundError(RuntimeError):
    """The bound LP could not be solved (time limit or solver failure)."""


@dataclass
class BoundProblem:
    """Inputs of the hindsight LP.

    Attributes:
        unit_cost: Cost of one unit from location l to demand group g, (L, G). [USD/unit]
        fee: Cost of one package from l to group g, (L, G); inf where l cannot serve g.
            [USD/package]
        supply: Units becoming available at l for SKU s in period p, (L, S, P); period 0
            holds the initial stock. [units]
        cell_group: Demand group of each demand cell (C,).
        cell_sku: SKU of each cell (C,).
        cell_period: Period of each cell (C,).
        cell_units: Units demanded in each cell (C,). [units]
        max_qty: Largest quantity of SKU s on one order of group g, (G, S). [units]
        min_packages: `M[g]`, the group's sum of per-order cover numbers (G,). [packages]
        penalty: Cost of an unfilled unit, P. [USD/unit]
        orders: Number of orders. [orders]
    """

    unit_cost: np.ndarray
    fee: np.ndarray
    supply: np.ndarray
    cell_group: np.ndarray
    cell_sku: np.ndarray
    cell_period: np.ndarray
    cell_units: np.ndarray
    max_qty: np.ndarray
    min_packages: np.ndarray
    penalty: float
    orders: int


@dataclass
class BoundResult:
    """The solved bound.

    Attributes:
        value: The lower bound LB. [USD]
        package_cost: Its package part, `sum F z`. [USD]
        unit_cost: Its per-unit shipping and handling part, `c.x`. [USD]
        penalty_cost: Its unfilled part, `P u`. [USD]
        packages: Packages in the LP solution, `sum z`. [packages]
        shipped_units: Units the LP ships. [units]
        unfilled_units: Units the LP leaves unfilled. [units]
        variables: LP columns.
        constraints: LP rows.
        seconds: Build and solve time. [s]
    """

    value: float
    package_cost: float
    unit_cost: float
    penalty_cost: float
    packages: float
    shipped_units: float
    unfilled_units: float
    variables: int
    constraints: int
    seconds: float


def _groups(keys: np.ndarray) -> list[np.ndarray]:
    """Indices of equal keys, one array per distinct key (sorted by key)."""
    if keys.size == 0:
        return []
    order = np.argsort(keys, kind="stable")
    cuts = np.flatnonzero(np.diff(keys[order])) + 1
    return np.split(order, cuts)


def _expr(terms: list) -> object:
    import pulp

    return pulp.LpAffineExpression(terms)


def solve_bound(problem: BoundProblem, time_limit_s: float = 120.0) -> BoundResult:
    """Build the hindsight LP with pulp and solve it with HiGHS.

    Args:
        problem: The inputs.
        time_limit_s: Solver time limit. [s]

    Raises:
        BoundError: The solver did not prove optimality within the time limit.
    """
    import pulp

    from engine.routing.lp.solver import silence_highs_banner

    t0 = time.perf_counter()
    p = problem
    n_s, n_p = p.supply.shape[1:]
    n_g = p.fee.shape[1]
    cum = np.cumsum(p.supply, axis=2)  # (L, S, P)
    keep = p.cell_units > 0
    g, s, per, d = (a[keep] for a in (p.cell_group, p.cell_sku, p.cell_period, p.cell_units))
    n_c = d.size
    if n_c == 0:  # no demand: nothing to fulfil
        return BoundResult(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, time.perf_counter() - t0)
    ok = (cum[:, s, per] > 0) & np.isfinite(p.fee[:, g])  # (L, C)
    xl, xc = np.nonzero(ok)
    prob = pulp.LpProblem("hindsight_bound", pulp.LpMinimize)
    xs = [prob.add_variable(f"x{i}", lowBound=0) for i in range(xl.size)]
    us = [prob.add_variable(f"u{c}", lowBound=0) for c in range(n_c)]
    zkey = np.unique(g[xc].astype(np.int64) * p.fee.shape[0] + xl)
    zs = {int(k): prob.add_variable(f"z{k}", lowBound=0) for k in zkey}
    n_l = p.fee.shape[0]
    terms = list(zip(xs, p.unit_cost[xl, g[xc]].tolist(), strict=True))
    terms += [(u, p.penalty) for u in us]
    terms += [(z, float(p.fee[k % n_l, k // n_l])) for k, z in zs.items()]
    prob.setObjective(_expr(terms))
    add = prob.addConstraint
    for c_idx, members in enumerate(_split_by(xc, n_c)):
        expr = _expr([(xs[i], 1.0) for i in members] + [(us[c_idx], 1.0)])
        add(pulp.LpConstraint(expr, pulp.LpConstraintEQ, rhs=float(d[c_idx])))
    rows = n_c
    # stock: per (l, s), one row per period in which demand for s arrives (if it can bind)
    for members in _groups(xl.astype(np.int64) * n_s + s[xc]):
        loc, sku = int(xl[members[0]]), int(s[xc[members[0]]])
        periods = per[xc[members]]
        upto = np.cumsum(np.bincount(periods, weights=d[xc[members]], minlength=n_p))
        for q in np.unique(periods):
            if upto[q] > cum[loc, sku, q]:
                expr = _expr([(xs[i], 1.0) for i in members[periods <= q]])
                add(pulp.LpConstraint(expr, pulp.LpConstraintLE, rhs=float(cum[loc, sku, q])))
                rows += 1
    # units per package: per (l, g, s)
    for members in _groups((xl.astype(np.int64) * n_g + g[xc]) * n_s + s[xc]):
        c0 = xc[members[0]]
        z = zs[int(g[c0]) * n_l + int(xl[members[0]])]
        expr = _expr([(xs[i], 1.0) for i in members] + [(z, -float(p.max_qty[g[c0], s[c0]]))])
        add(pulp.LpConstraint(expr, pulp.LpConstraintLE, rhs=0.0))
        rows += 1
    # packages per order: per group
    u_group = _split_by(g, n_g)
    for grp in range(n_g):
        if p.min_packages[grp] <= 0:
            continue
        zt = [(z, 1.0) for k, z in zs.items() if k // n_l == grp]
        expr = _expr(zt + [(us[c], 1.0) for c in u_group[grp]])
        add(pulp.LpConstraint(expr, pulp.LpConstraintGE, rhs=float(p.min_packages[grp])))
        rows += 1
    silence_highs_banner()
    prob.solve(pulp.HiGHS(msg=False, timeLimit=time_limit_s, threads=1))
    model = getattr(prob, "solverModel", None)
    status = model.modelStatusToString(model.getModelStatus()) if model is not None else ""
    if pulp.LpStatus[prob.status] != "Optimal" or (model is not None and status != "Optimal"):
        raise BoundError(f"hindsight bound LP not solved: {status or pulp.LpStatus[prob.status]}")
    x = np.array([v.varValue or 0.0 for v in xs])
    u = np.array([v.varValue or 0.0 for v in us])
    zv = {k: v.varValue or 0.0 for k, v in zs.items()}
    package_cost = float(sum(p.fee[k % n_l, k // n_l] * v for k, v in zv.items()))
    unit = float(p.unit_cost[xl, g[xc]] @ x) if x.size else 0.0
    return BoundResult(
        value=package_cost + unit + p.penalty * float(u.sum()),
        package_cost=package_cost,
        unit_cost=unit,
        penalty_cost=p.penalty * float(u.sum()),
        packages=float(sum(zv.values())),
        shipped_units=float(x.sum()),
        unfilled_units=float(u.sum()),
        variables=len(xs) + len(us) + len(zs),
        constraints=rows,
        seconds=time.perf_counter() - t0,
    )


def _split_by(owner: np.ndarray, n: int) -> list[np.ndarray]:
    """Indices of `owner` grouped by value 0..n-1 (empty arrays included)."""
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=n)
    return np.split(order, np.cumsum(counts)[:-1])
