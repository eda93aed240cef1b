"""The hindsight bound (`sim.bound`): exact on small instances, never above a policy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.routing.lp.cover import min_packages
from sim.bound import BoundProblem, solve_bound

FEE, PENALTY = 8.0, 30.0


def _instance(rng: np.random.Generator, n_orders: int, max_items: int, periods: int = 1):
    """Random tiny instance: 2 regions, 3 locations, 3 SKUs, unit lines."""
    n_l, n_r, n_s = 3, 2, 3
    unit = rng.uniform(0.5, 3.0, (n_l, n_r))
    supply = rng.integers(0, 3, (n_l, n_s, periods)).astype(float)
    supply[:, :, 1:] *= rng.random((n_l, n_s, periods - 1)) < 0.5
    orders = []
    for _ in range(n_orders):
        k = int(rng.integers(1, max_items + 1))
        skus = tuple(sorted(rng.choice(n_s, size=k, replace=False).tolist()))
        orders.append((int(rng.integers(n_r)), skus, int(rng.integers(periods))))
    return unit, supply, orders


def _problem(unit, supply, orders) -> BoundProblem:
    n_l, n_s, n_p = supply.shape
    n_r = unit.shape[1]
    line_o = np.array([i for i, (_, skus, _) in enumerate(orders) for _ in skus])
    line_s = np.array([s for _, skus, _ in orders for s in skus])
    g = np.array([orders[i][0] for i in line_o])
    p = np.array([orders[i][2] for i in line_o])
    key = (g * n_s + line_s) * n_p + p
    cells, units = np.unique(key, return_counts=True)
    carried = supply.sum(axis=2) > 0
    m = min_packages(line_o, line_s, len(orders), carried)
    return BoundProblem(
        unit_cost=unit,
        fee=np.full(unit.shape, FEE),
        supply=supply,
        cell_group=cells // (n_s * n_p),
        cell_sku=(cells // n_p) % n_s,
        cell_period=cells % n_p,
        cell_units=units.astype(float),
        max_qty=np.ones((n_r, n_s)),
        min_packages=np.bincount([o[0] for o in orders], weights=m, minlength=n_r),
        penalty=PENALTY,
        orders=len(orders),
    )


def _brute_force(unit, supply, orders) -> float:
    """Cheapest feasible assignment of every line to a location or to 'unfilled'.

    Cost: a fee per distinct location of an order, unit costs, the penalty per unfilled
    unit. Feasible: for every location, SKU and period, cumulative use <= cumulative supply.
    """
    n_l = unit.shape[0]
    lines = [(i, s) for i, (_, skus, _) in enumerate(orders) for s in skus]
    cum = np.cumsum(supply, axis=2)
    best = np.inf
    for choice in itertools.product(range(n_l + 1), repeat=len(lines)):
        use = np.zeros_like(supply)
        cost = 0.0
        used: dict[int, set[int]] = {}
        for (i, s), loc in zip(lines, choice, strict=True):
            region, _, period = orders[i]
            if loc == n_l:
                cost += PENALTY
                continue
            use[loc, s, period] += 1
            cost += unit[loc, region]
            used.setdefault(i, set()).add(loc)
        if (np.cumsum(use, axis=2) > cum + 1e-9).any():
            continue
        cost += FEE * sum(len(v) for v in used.values())
        best = min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_bound_equals_brute_force_with_single_unit_orders(seed):
    rng = np.random.default_rng(seed)
    unit, supply, orders = _instance(rng, n_orders=5, max_items=1, periods=2)
    bound = solve_bound(_problem(unit, supply, orders)).value
    assert bound == pytest.approx(_brute_force(unit, supply, orders), abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_bound_is_below_brute_force_with_multi_item_orders(seed):
    rng = np.random.default_rng(100 + seed)
    unit, supply, orders = _instance(rng, n_orders=3, max_items=3, periods=2)
    bound = solve_bound(_problem(unit, supply, orders)).value
    optimum = _brute_force(unit, supply, orders)
    assert bound <= optimum + 1e-6
    assert bound >= 0.5 * optimum  # not trivially loose on these instances


def test_bound_charges_every_shipped_order_a_package():
    # two single-unit orders, stock for one: one package plus one penalty
    unit = np.array([[1.0], [2.0]])
    supply = np.array([[[1.0]], [[0.0]]])
    orders = [(0, (0,), 0), (0, (0,), 0)]
    result = solve_bound(_problem(unit, supply, orders))
    assert result.value == pytest.approx(FEE + 1.0 + PENALTY)
    assert result.packages == pytest.approx(1.0)
    assert result.unfilled_units == pytest.approx(1.0)


def test_stock_arriving_later_is_not_available_earlier():
    unit = np.array([[1.0]])
    supply = np.array([[[0.0, 1.0]]])  # one unit arrives in period 1
    early = solve_bound(_problem(unit, supply, [(0, (0,), 0)])).value
    late = solve_bound(_problem(unit, supply, [(0, (0,), 1)])).value
    assert early == pytest.approx(PENALTY)
    assert late == pytest.approx(FEE + 1.0)


def test_min_packages_matches_brute_force_cover():
    rng = np.random.default_rng(7)
    carried = rng.random((5, 8)) < 0.4
    carried[0, 0] = True
    orders = [rng.choice(8, size=int(rng.integers(1, 6)), replace=False) for _ in range(200)]
    line_o = np.concatenate([np.full(o.size, i) for i, o in enumerate(orders)])
    line_s = np.concatenate(orders)
    got = min_packages(line_o, line_s, len(orders), carried, max_size=5)
    for i, skus in enumerate(orders):
        need = [s for s in skus if carried[:, s].any()]
        want = 0
        if need:
            want = min(
                k
                for k in range(1, 6)
                for c in itertools.combinations(range(5), k)
                if all(carried[list(c), s].any() for s in need)
            )
        assert got[i] == want
