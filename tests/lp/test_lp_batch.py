"""Batch re-optimisation (Xu, Allgor & Graves 2009): the MIP re-assigns pending orders."""

from __future__ import annotations

import pulp
import pytest
from lp_world import AT, later, order, world

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
    with pytest.raises(Exception, match="bad parameters"):
        get_policy("batch", nonsense=1)
    assert isinstance(get_policy("batch", base="cost", every_minutes=15), BatchPolicy)
