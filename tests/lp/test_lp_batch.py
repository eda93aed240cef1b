"""Batch re-optimisation (Xu, Allgor & Graves 2009): the MIP re-assigns pending orders."""

from __future__ import annotations

import numpy as np
import pulp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lp_world import AT, SKUS, later, order, world

from engine.routing import get_policy
from engine.routing.lp import BatchPolicy, reoptimise

STOCK = {("NEAR", "X"): 1, ("NEAR", "Y"): 1, ("FAR", "X"): 1}


def _place_both(policy="closest"):
    router, ledger, _ = world(STOCK, policy=policy)
    first, second = order("O1", ("X",)), order("O2", ("X", "Y"))
    d1 = router.place(first, AT)
    d2 = router.place(second, later(1))
    return router, ledger, (first, second), (d1, d2)


def test_real_time_closest_splits_the_second_order():
    _, _, _, (d1, d2) = _place_both()
    assert d1.locations == ("NEAR",)
    assert d2.packages == 2  # X only left at FAR


def test_batch_mip_removes_the_extra_package():
    router, ledger, orders, (d1, d2) = _place_both()
    outcome = reoptimise(router, orders, later(2))
    assert outcome.status == "mip"
    assert outcome.packages_before == 3
    assert outcome.packages_after == 2  # O1 from FAR, O2 whole from NEAR
    new = {d.order_id: d for d in outcome.decisions}
    assert new["O1"].locations == ("FAR",)
    assert new["O2"].locations == ("NEAR",)
    assert all("batch:mip" in d.notes for d in outcome.decisions)
    # the ledger holds exactly the new reservations
    assert ledger.reserved.sum() == 3
    ledger.check_reservations()
    assert router.decision_for("O2").decision_id == new["O2"].decision_id


def test_batch_policy_routes_like_its_base_on_arrival_and_reoptimises():
    router, _, orders, (d1, d2) = _place_both(get_policy("batch"))
    assert d2.packages == 2 and "batch:on_arrival" in d2.notes
    outcome = router.policy.reoptimise(router, orders, later(2))
    assert outcome.packages_after == 2


class _Broken(pulp.LpSolver):
    def actualSolve(self, lp):  # noqa: N802 - pulp's API
        raise pulp.PulpSolverError("injected failure")


class _TimesOut(pulp.LpSolver):
    def actualSolve(self, lp):  # noqa: N802 - pulp's API
        lp.assignStatus(pulp.LpStatusNotSolved)
        return pulp.LpStatusNotSolved


@pytest.mark.parametrize(("solver", "reason"), [(_Broken, "error"), (_TimesOut, "error")])
def test_batch_falls_back_to_cost_when_the_mip_fails(solver, reason):
    router, ledger, orders, _ = _place_both()
    outcome = reoptimise(router, orders, later(2), solver=lambda t: solver())
    assert outcome.status == "fallback" and outcome.reason == reason
    for d in outcome.decisions:
        assert d.notes[:2] == ("fallback:cost", f"solver:{reason}")
        assert d.policy == "cost"
    ledger.check_reservations()
    assert sum(d.units for d in outcome.decisions) == 3


class _HitTimeLimit:
    """A HiGHS model stand-in that reports the time limit as reached."""

    def getModelStatus(self):  # noqa: N802 - highspy's API
        import highspy

        return highspy.HighsModelStatus.kTimeLimit

    def modelStatusToString(self, status):  # noqa: N802 - highspy's API
        return "Time limit reached"


class _TimeLimited(pulp.LpSolver):
    """Solves with HiGHS, then reports the time limit as hit (as a slow solve would)."""

    def actualSolve(self, lp):  # noqa: N802 - pulp's API
        status = pulp.HiGHS(msg=False).actualSolve(lp)
        lp.solverModel = _HitTimeLimit()
        return status


def test_batch_time_limit_is_a_fallback():
    router, _, orders, _ = _place_both()
    outcome = reoptimise(router, orders, later(2), solver=lambda t: _TimeLimited())
    assert outcome.status == "fallback" and outcome.reason == "timeout"
    assert all("solver:timeout" in d.notes for d in outcome.decisions)


def test_batch_policy_parameters_are_checked():
    with pytest.raises(Exception, match=r"unknown parameter\(s\) \['nonsense'\] \(it takes: base,"):
        get_policy("batch", nonsense=1)
    assert isinstance(get_policy("batch", base="cost", every_minutes=15), BatchPolicy)


def test_batch_keeps_orders_already_on_their_plan():
    """An order whose held assignment is the plan keeps its reservation and decision."""
    router, ledger, _ = world({("NEAR", "X"): 5, ("NEAR", "Y"): 5, ("FAR", "X"): 5})
    first, second = order("O1", ("X",)), order("O2", ("X", "Y"))
    d1, d2 = router.place(first, AT), router.place(second, later(1))
    outcome = reoptimise(router, (first, second), later(2))
    assert outcome.status == "mip" and outcome.decisions == []
    assert outcome.packages_before == outcome.packages_after == 2
    assert router.decision_for("O1").decision_id == d1.decision_id
    assert router.decision_for("O2").decision_id == d2.decision_id
    ledger.check_reservations()


def _lone(cost, fee, penalty):
    from engine.routing.lp.batch import _Candidates

    cost = np.asarray(cost, dtype=float)
    n, k = cost.shape
    return _Candidates(
        "O", [f"S{j}" for j in range(k)], np.arange(k), np.ones(k, dtype=np.int64),
        np.arange(n), np.asarray(fee, dtype=float), cost, np.asarray(penalty, dtype=float), {},
    )  # fmt: skip


def _plan_cost(c, plan):
    """Objective of one order's plan `{network row: {sku: qty}}`."""
    at = {int(r): i for i, r in enumerate(c.rows)}
    total = sum(c.fee[at[r]] for r in plan)
    for j, sku in enumerate(c.skus):
        rows = [at[r] for r, lines in plan.items() if sku in lines]
        total += c.cost[rows[0], j] if rows else c.penalty[j]
    return total


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda n: st.integers(1, 4).flatmap(
            lambda k: st.tuples(
                st.lists(
                    st.lists(st.one_of(st.just(np.inf), st.floats(0, 20)), min_size=k, max_size=k),
                    min_size=n,
                    max_size=n,
                ),  # fmt: skip
                st.lists(st.floats(0, 20), min_size=n, max_size=n),
                st.lists(st.floats(0, 60), min_size=k, max_size=k),
                st.integers(1, 4),
            )
        )
    )
)
def test_enumeration_matches_the_mip_for_a_lone_order(data):
    """Solved alone (no binding stock row), enumeration and the MIP agree on the cost."""
    from engine.routing.lp.batch import _solve_alone, _solve_mip, pulp_highs

    cost, fee, penalty, limit = data
    c = _lone(cost, fee, penalty)
    alone = _solve_alone(c, limit)
    assert len(alone) <= limit
    for r, lines in alone.items():
        assert all(np.isfinite(c.cost[r, int(s[1:])]) for s in lines)
    mip = _solve_mip([c], np.zeros((0, 0)), set(), limit, pulp_highs, 10.0)["O"]
    assert _plan_cost(c, alone) == pytest.approx(_plan_cost(c, mip), rel=2e-3, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 2), min_size=6, max_size=6),
    st.lists(
        st.lists(st.sampled_from(SKUS), min_size=1, max_size=3, unique=True), min_size=1, max_size=6
    ),  # fmt: skip
    st.lists(st.floats(-80.0, -74.0), min_size=6, max_size=6),
)
def test_solving_by_parts_matches_one_mip_over_all_orders(units, baskets, lons):
    """Lone plans plus the MIP over overdrawn groups cost what one MIP over all costs."""
    from engine.routing.lp.batch import _build_and_solve, _candidates, _solve_mip, pulp_highs

    cells = [(loc, sku) for loc in ("NEAR", "FAR") for sku in SKUS]
    router, ledger, _ = world(dict(zip(cells, units, strict=True)))
    orders = [order(f"O{i}", tuple(b), lon=lons[i]) for i, b in enumerate(baskets)]
    for o in orders:
        router.place(o, AT)
    pool = ledger.ats("web").astype(np.int64)
    for o in orders:
        d = router.decision_for(o.id)
        for i, s, q in ledger.reservations(d.decision_id) if d else ():
            pool[i, s] += q
    cands = _candidates(router, orders, pool, 8, 0.0, frozenset())
    every_row = {(r, s) for r in range(pool.shape[0]) for s in range(pool.shape[1])}
    whole = _solve_mip(cands, pool, every_row, 5, pulp_highs, 10.0)
    parts, _ = _build_and_solve(router, orders, pool, pulp_highs, 10.0, 8, 0.0)
    for plans in (whole, parts):  # both respect the stock
        used = np.zeros_like(pool)
        for plan in plans.values():
            for r, lines in plan.items():
                for sku, q in lines.items():
                    used[r, ledger.sku_index[sku]] += q
        assert (used <= pool).all()
    cost = [sum(_plan_cost(c, p[c.order_id]) for c in cands) for p in (whole, parts)]
    assert cost[1] == pytest.approx(cost[0], rel=2e-3)


def test_an_order_holding_a_line_split_over_locations_keeps_it():
    """The MIP ships lines whole; a held split by quantity (2 from NEAR, 1 from FAR) is the
    only way to fill this order, so it must stay as it is, not end unfilled."""
    from engine import Channel, Order, OrderLine, OrderStatus

    router, ledger, _ = world({("NEAR", "X"): 2, ("FAR", "X"): 2})
    o = Order("S", Channel.WEB, "c", 40.0, -75.0, [OrderLine("X", 3, 0)], created_at=AT)
    held = router.place(o, AT)
    assert sorted((a.location, a.quantity) for a in held.allocations) == [("FAR", 1), ("NEAR", 2)]
    other = order("O9", ("X",))  # competes for the same stock, placed after
    router.place(other, later(1))
    outcome = reoptimise(router, [o, other], later(2))
    assert o.status is OrderStatus.ROUTED
    assert router.decision_for("S").decision_id == held.decision_id  # kept, not re-routed
    assert ledger.reserved.sum() == 4
    ledger.check_reservations()
    assert outcome.packages_after >= outcome.packages_before - 1


def test_an_order_the_mip_leaves_unfilled_does_not_take_the_stock_planned_for_another():
    """One X at NEAR; O1 far away holds it, O2 next door has none. The MIP gives NEAR to
    O2 and leaves O1 unfilled: O1 must not be re-routed first onto O2's planned stock."""
    router, _, _ = world({("NEAR", "X"): 1, ("NEAR", "Y"): 5, ("FAR", "Y"): 5})
    o1, o2 = order("O1", ("X",), lon=-95.0), order("O2", ("X",), lon=-75.0)
    router.place(o1, AT)
    router.place(o2, later(1))
    reoptimise(router, [o1, o2], later(2))
    d2 = router.decision_for("O2")
    assert d2 is not None and d2.locations == ("NEAR",)
    assert router.decision_for("O1") is None


def test_a_partly_fulfilled_order_is_planned_on_what_is_left():
    from engine import Channel, Order, OrderLine

    router, ledger, _ = world({("NEAR", "X"): 1, ("FAR", "Y"): 1, ("NEAR", "Y"): 0})
    o = Order("P", Channel.WEB, "c", 40.0, -75.0, [OrderLine("X", 1, 0), OrderLine("Y", 1, 1)],
              created_at=AT)  # fmt: skip
    d = router.place(o, AT)
    router.release(o, later(1))
    ledger.fulfil(d.decision_id, "NEAR", later(1))
    o.record_fulfilled("X", 1)
    router.reroute(o, later(1))  # FAR's package was rejected; Y is still wanted
    reoptimise(router, [o], later(2))  # must not fail on the shipped X
    assert [(a.sku, a.quantity) for a in router.decision_for("P").allocations] == [("Y", 1)]
