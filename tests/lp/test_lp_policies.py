"""LP-guided policies: registry, graceful fall-back to `cost`, determinism, rounding."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import highspy
import numpy as np
import pytest
from lp_world import AT, order, world

import engine
from engine.rates import RateCard
from engine.routing import available_policies, get_policy
from engine.routing.lp import SolverError, correlated_round
from engine.routing.lp.lp_rounding import order_uniform
from engine.routing.lp.solver import HighsModel
from sim.literature.replay import draw_arrivals, load_instance, replay, scaled

LP = ("lookahead", "lp_rounding")


@pytest.fixture(scope="module")
def small():
    inst = scaled(load_instance("scenarios/literature/js_small.yaml"), 600)
    return inst, draw_arrivals(inst, 3)


def test_lp_policies_are_registered():
    import engine.routing.lp  # noqa: F401

    assert {"lookahead", "lp_rounding", "batch"} <= set(available_policies())
    for name in LP:
        assert get_policy(name).name == name


class _Failing:
    """An LP model whose every solve fails."""

    def load(self, lp):
        pass

    def set_row_bounds(self, lo, hi):
        pass

    def solve(self, time_limit_s):
        raise SolverError("error", "injected failure")


@pytest.mark.parametrize("name", LP)
def test_failing_solver_falls_back_to_cost_with_reason_codes(small, name):
    inst, arr = small
    got = replay(inst, arr, name, {"solver": _Failing, "resolve_every": 100})
    want = replay(inst, arr, "cost")
    warmup = got.notes.get("lookahead:warmup", 0)  # lookahead: before its order sample fills
    assert got.notes.get("fallback:cost", 0) + warmup == len(arr)
    assert got.notes.get("solver:error") == got.notes.get("fallback:cost") > 0
    assert got.cost == pytest.approx(want.cost)
    assert got.packages == want.packages


class _Stopped:
    """A `highspy.Highs` whose runs all stop at the time limit (the rest is the real one)."""

    def __init__(self, h):
        self._h = h

    def run(self):
        return highspy.HighsStatus.kWarning

    def getModelStatus(self):
        return highspy.HighsModelStatus.kTimeLimit

    def __getattr__(self, name):
        return getattr(self._h, name)


class _TimingOut(HighsModel):
    """A real HiGHS model whose every solve hits its time limit, whatever the machine."""

    def load(self, lp):
        super().load(lp)
        self._h = _Stopped(self._h)


@pytest.mark.parametrize("name", LP)
def test_solver_time_limit_falls_back_to_cost(small, name):
    inst, arr = small
    got = replay(inst, arr, name, {"solver": _TimingOut, "resolve_every": 200})
    want = replay(inst, arr, "cost")
    warmup = got.notes.get("lookahead:warmup", 0)
    assert got.notes.get("solver:timeout", 0) > 0
    assert got.notes.get("fallback:cost") == got.notes.get("solver:timeout")
    assert got.notes.get("fallback:cost", 0) + warmup == len(arr)
    assert "solver:error" not in got.notes
    assert got.cost == pytest.approx(want.cost)
    assert got.packages == want.packages


@pytest.mark.parametrize("name", LP)
def test_lp_policies_are_deterministic_and_solve(small, name):
    inst, arr = small
    a = replay(inst, arr, name)
    b = replay(inst, arr, name)
    assert a.cost == b.cost and a.packages == b.packages
    assert not any(k.startswith("fallback") for k in a.notes)
    assert any(k.startswith(f"{name}:lp") for k in a.notes)


def test_lookahead_prices_move_an_order_off_the_myopic_choice():
    """By hand (default rate card: unit cost 0.423 + 0.000541 USD per mile, no handling).

    NEAR has 1 unit of X, FAR 1000. The forecast, 10 X a day over the 7-day window split
    evenly between EAST and WEST, expects 35 X to EAST: the transportation LP sends NEAR's
    unit there (5 mi against FAR's 265) and 34 from FAR, so one more unit at NEAR would
    save c[FAR, EAST] - c[NEAR, EAST] = 0.000541 * ~260 mi ~ 0.14 USD (its price); FAR's
    stock is not binding (price 0).

    The order ships to lon -77.5: NEAR is ~127 mi away, FAR ~132.5 mi. The myopic `cost`
    policy takes NEAR, cheaper by 0.000541 * ~5.3 mi ~ 0.003 USD; with NEAR's unit priced
    at 0.14 USD, FAR is cheaper by ~0.137: lookahead ships from FAR.
    """
    stock = {("NEAR", "X"): 1, ("FAR", "X"): 1000}
    policy = get_policy("lookahead", lp="transport", demand_rate=[10.0, 0.0, 0.0])
    router, _, net = world(stock, policy="cost")
    assert router.route(order("O1", ("X",), lon=-77.5), AT).locations == ("NEAR",)
    router, _, net = world(stock, policy=policy)
    d = router.route(order("O1", ("X",), lon=-77.5), AT)
    assert d.locations == ("FAR",)
    assert "lookahead:lp1" in d.notes
    miles = net.region_distances()[0]  # from EAST
    saved = RateCard().per_item_mile * (miles[net.index["FAR"]] - miles[net.index["NEAR"]])
    assert policy.solution.price[:, 0] == pytest.approx([saved, 0.0])


@pytest.mark.parametrize("safeguard", [False, True])
def test_lp_rounding_follows_the_lp_flow(safeguard):
    """By hand: NEAR and FAR both hold plenty of X (no price is binding: prices 0). The DLP
    ships the 35 X expected in EAST from NEAR (5 mi against 265) and WEST's 35 from FAR, so
    EAST's fractions are 1.0 at NEAR and 0 at FAR: every draw U in [0, 1) rounds an EAST
    line to NEAR.

    The order ships to lon -84: in EAST (9 degrees from it, 11 from WEST) but 212 mi from
    FAR and 472 from NEAR, so the cheapest split is FAR. Without the safeguard the rounded
    plan (NEAR) is kept ("rounded"); with it, the rounded plan costs more than the cheapest
    priced split, which is taken instead ("priced")."""
    stock = {("NEAR", "X"): 1000, ("FAR", "X"): 1000}
    policy = get_policy("lp_rounding", safeguard=safeguard, demand_rate=[10.0, 0.0, 0.0])
    router, _, net = world(stock, policy=policy)
    d = router.route(order("O1", ("X",), lon=-84.0), AT)
    flow = policy.solution.flow[:, 0]  # (region, location) units of X
    assert flow[:, [net.index["NEAR"], net.index["FAR"]]] == pytest.approx(
        np.array([[35, 0], [0, 35]])
    )
    assert policy.solution.price[:, 0] == pytest.approx([0.0, 0.0])
    assert d.locations == (("FAR",) if safeguard else ("NEAR",))
    assert d.notes == ("lp_rounding:lp1", "priced" if safeguard else "rounded")


class _Clock:
    """A `highspy.Highs` reporting set run times and recording the time limits it is given
    (the rest is the real one)."""

    def __init__(self, h, run_times):
        self._h, self._times, self.limits = h, iter(run_times), []

    def getRunTime(self):
        return next(self._times)

    def setOptionValue(self, name, value):
        if name == "time_limit":
            self.limits.append(value)
        return self._h.setOptionValue(name, value)

    def __getattr__(self, name):
        return getattr(self._h, name)


def test_highs_time_limit_is_per_solve_not_cumulative():
    from engine.routing.lp.solver import LinearProgram, csc

    # min x0 + 2 x1  s.t.  x0 + x1 >= 1: x = (1, 0), objective 1
    start, index, value = csc(2, np.array([0, 0]), np.array([0, 1]), np.ones(2))
    model = HighsModel()
    model.load(LinearProgram(np.array([1.0, 2.0]), start, index, value, np.ones(1), [np.inf]))
    # HiGHS compares time_limit with the instance's total run time, which grows over the
    # re-solves: 0, then 100 s, then 250 s already used (faked, not measured)
    clock = model._h = _Clock(model._h, [0.0, 100.0, 250.0])
    for _ in range(3):
        sol = model.solve(time_limit_s=0.25)
        assert sol.x.tolist() == pytest.approx([1.0, 0.0]) and sol.objective == pytest.approx(1)
    assert clock.limits == pytest.approx([0.25, 100.25, 250.25])  # 0.25 s more each solve


def test_correlated_rounding_keeps_agreeing_lines_together():
    fractions = np.array([[0.5, 0.3, 0.2]] * 4)
    for u in np.linspace(0.0, 0.99, 25):
        pos = correlated_round(fractions, u)
        assert (pos == pos[0]).all()
    assert correlated_round(np.array([[0.2, 0.3]]), 0.9)[0] == -1  # LP leaves it unfilled


def test_order_uniform_is_stable():
    # the same draw in processes with different string-hash salts (results must not depend
    # on which process routes an order)
    args = [(i, seed) for i in ("O-1", "O-2", "ORD-123456") for seed in (0, 3)]
    here = [order_uniform(i, seed) for i, seed in args]
    code = (
        "from engine.routing.lp.lp_rounding import order_uniform as u;"
        f"print(repr([u(i, seed) for i, seed in {args!r}]))"
    )
    root = str(Path(engine.__file__).parent.parent)
    path = os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])
    for salt in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": salt, "PYTHONPATH": path}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert ast.literal_eval(out.stdout.strip()) == here, salt
    draws = np.array([order_uniform(f"O-{i}", 3) for i in range(4000)])
    assert draws.min() >= 0.0 and draws.max() < 1.0
    assert abs(draws.mean() - 0.5) < 0.02


def test_bad_parameters_are_routing_errors():
    with pytest.raises(Exception, match="lp must be"):
        get_policy("lookahead", lp="simplex")
    with pytest.raises(Exception, match="solver must be"):
        get_policy("lookahead", solver="gurobi")
