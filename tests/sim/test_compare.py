"""Tests of `sim.compare`: common random numbers and the paired-interval arithmetic.

The runner is injected, so these tests need neither the SimPy model nor a scenario.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.compare import SUMMARY_COLUMNS, compare, compare_runs, kpi_frame, summarise, t_interval

# Student-t quantiles t(0.975, df) from the standard tables.
T975 = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764}


@dataclass
class FakeResult:
    scenario: str
    policy: str
    seed: int
    replication: int
    kpis: dict[str, float]
    orders: pd.DataFrame = field(default_factory=pd.DataFrame)


# A stand-in scenario object: compare passes it through to the runner untouched.
SCENARIO = object()

# cost_per_order per policy and replication (hand-made, replication effect shared).
COSTS = {
    "closest": [10.0, 12.0, 11.0, 13.0],
    "cost": [9.0, 11.5, 10.0, 12.0],
    "min_split": [10.5, 12.0, 11.5, 13.5],
}


class FakeRunner:
    """Records every call and returns KPIs from `COSTS`."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, scenario, policy, seed=None, *, replication=0, **kwargs):
        self.calls.append((scenario, policy, seed, replication, kwargs))
        value = COSTS[policy][replication]
        return FakeResult(
            scenario="toy",
            policy=policy,
            seed=seed if seed is not None else 42,
            replication=replication,
            kpis={"cost_per_order": value, "orders": 100.0 + replication},
        )


def test_t_interval_matches_hand_computation():
    x = [10.0, 12.0, 11.0, 13.0]
    mean, low, high, n = t_interval(x)
    s = math.sqrt(sum((v - 11.5) ** 2 for v in x) / 3)  # 1.2910
    half = T975[3] * s / math.sqrt(4)
    assert n == 4
    assert mean == pytest.approx(11.5)
    assert low == pytest.approx(11.5 - half, abs=1e-3)
    assert high == pytest.approx(11.5 + half, abs=1e-3)


def test_t_interval_single_value_and_nan():
    mean, low, high, n = t_interval([3.0])
    assert (mean, n) == (3.0, 1) and math.isnan(low) and math.isnan(high)
    mean, low, high, n = t_interval([math.nan, 2.0, 4.0])
    assert n == 2 and mean == 3.0
    assert t_interval([])[3] == 0


def test_compare_uses_common_random_numbers():
    runner = FakeRunner()
    compare(SCENARIO, ["closest", "cost"], reps=3, seed=7, runner=runner, days=2)
    assert len(runner.calls) == 6
    for scenario, _policy, seed, _rep, kwargs in runner.calls:
        assert scenario is SCENARIO and seed == 7 and kwargs == {"days": 2}
    by_policy = {}
    for _, policy, _, rep, _ in runner.calls:
        by_policy.setdefault(policy, []).append(rep)
    assert by_policy == {"closest": [0, 1, 2], "cost": [0, 1, 2]}


def test_paired_difference_against_hand_computation():
    df = compare(SCENARIO, ["closest", "cost", "min_split"], reps=4, seed=1, runner=FakeRunner())
    assert list(df.columns) == SUMMARY_COLUMNS
    assert len(df) == 3 * 2
    row = df[(df.policy == "cost") & (df.kpi == "cost_per_order")].iloc[0]
    diffs = np.array(COSTS["cost"]) - np.array(COSTS["closest"])  # -1, -0.5, -1, -1
    d_mean = diffs.mean()  # -0.875
    d_sd = math.sqrt(((diffs - d_mean) ** 2).sum() / 3)  # 0.25
    half = T975[3] * d_sd / 2
    assert row["baseline"] == "closest"
    assert row["n"] == 4
    assert row["mean"] == pytest.approx(np.mean(COSTS["cost"]))
    assert row["diff"] == pytest.approx(-0.875)
    assert row["diff_low"] == pytest.approx(-0.875 - half, abs=1e-3)
    assert row["diff_high"] == pytest.approx(-0.875 + half, abs=1e-3)
    # Paired: the interval excludes 0 although the two marginal intervals overlap.
    assert row["diff_high"] < 0
    closest = df[(df.policy == "closest") & (df.kpi == "cost_per_order")].iloc[0]
    assert closest["ci_low"] < row["ci_high"]
    assert closest["diff"] == 0 and closest["diff_low"] == 0 and closest["diff_high"] == 0


def test_baseline_option():
    df = compare(SCENARIO, ["closest", "cost"], reps=4, baseline="cost", runner=FakeRunner())
    row = df[(df.policy == "closest") & (df.kpi == "cost_per_order")].iloc[0]
    assert row["baseline"] == "cost"
    assert row["diff"] == pytest.approx(0.875)


def test_unknown_baseline_is_rejected_before_running():
    runner = FakeRunner()
    with pytest.raises(ValueError, match="baseline: 'nope' is not one of the compared"):
        compare(SCENARIO, ["closest", "cost"], reps=2, baseline="nope", runner=runner)
    assert runner.calls == []


@pytest.mark.parametrize(
    ("policies", "reps", "message"),
    [([], 2, "at least one policy"), (["cost", "cost"], 2, "once"), (["cost"], 0, "reps")],
)
def test_bad_arguments(policies, reps, message):
    with pytest.raises(ValueError, match=message):
        compare(SCENARIO, policies, reps=reps, runner=FakeRunner())


def test_one_replication_gives_nan_intervals():
    df = compare(SCENARIO, "closest,cost", reps=1, runner=FakeRunner())
    assert df["ci_low"].isna().all() and df["diff_low"].isna().all()
    assert (df["n"] == 1).all()


def test_progress_counts_runs():
    seen = []
    compare(
        SCENARIO,
        ["closest", "cost"],
        reps=2,
        runner=FakeRunner(),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_compare_runs_keeps_results_and_kpi_frame():
    results = compare_runs(SCENARIO, ["closest", "cost"], reps=2, seed=3, runner=FakeRunner())
    assert [(r.policy, r.replication) for r in results] == [
        ("closest", 0),
        ("cost", 0),
        ("closest", 1),
        ("cost", 1),
    ]
    frame = kpi_frame(results)
    assert list(frame.columns) == [
        "scenario",
        "policy",
        "replication",
        "seed",
        "cost_per_order",
        "orders",
    ]
    assert len(frame) == 4
    table = summarise(frame)
    again = compare(SCENARIO, ["closest", "cost"], reps=2, seed=3, runner=FakeRunner())
    pd.testing.assert_frame_equal(table, again)


def test_empty_tables():
    assert kpi_frame([]).empty
    assert list(summarise(kpi_frame([])).columns) == SUMMARY_COLUMNS


def test_two_replications_give_an_interval_with_one_degree_of_freedom():
    mean, low, high, n = t_interval([2.0, 4.0])
    # s = sqrt(2), t(0.975, 1) = 12.7062: half-width 12.7062 * sqrt(2) / sqrt(2)
    assert (n, mean) == (2, 3.0)
    assert (high - mean, mean - low) == (pytest.approx(12.7062, rel=1e-4),) * 2


def test_a_policy_mean_uses_all_its_replications_and_pairs_only_common_ones():
    rows = [("toy", "closest", r, 1, v) for r, v in enumerate([10.0, 12.0, 11.0])]
    rows += [("toy", "cost", r, 1, v) for r, v in enumerate([9.0, 11.5, 10.0, 20.0])]
    table = summarise(
        pd.DataFrame(rows, columns=["scenario", "policy", "replication", "seed", "c"])
    )
    cost = table[table["policy"] == "cost"].iloc[0]
    assert cost["n"] == 4 and cost["mean"] == pytest.approx(12.625)
    assert cost["diff"] == pytest.approx((-1.0 - 0.5 - 1.0) / 3)  # replications 0-2 paired


def test_the_baseline_is_found_by_position_when_the_runner_relabels_policies():
    def runner(scenario, policy, seed=None, *, replication=0, **kw):
        return FakeResult(
            "toy", f"{policy} (run)", 1, replication, {"c": COSTS[policy][replication]}
        )

    df = compare(SCENARIO, ["closest", "cost"], reps=4, baseline="cost", runner=runner)
    row = df[df["policy"] == "closest (run)"].iloc[0]
    assert row["baseline"] == "cost (run)"
    assert row["diff"] == pytest.approx(np.mean(np.subtract(COSTS["closest"], COSTS["cost"])))


def test_an_undefined_kpi_is_left_out_of_the_mean_not_counted_as_zero():
    results = [FakeResult("toy", "a", 1, r, {"p90": v}) for r, v in enumerate([None, 2.0, 4.0])]
    row = summarise(kpi_frame(results)).iloc[0]
    assert row["n"] == 2 and row["mean"] == 3.0


def test_intervals_are_cut_to_the_values_a_kpi_can_take():
    per_run = pd.DataFrame(
        {
            "scenario": "s",
            "policy": ["a", "a", "b", "b"],
            "replication": [0, 1, 0, 1],
            "seed": 1,
            "stockout_rate": [0.0, 0.001, 0.9, 1.0],
            "returns_units": [3.0, 20.0, 10.0, 14.0],
            "not_a_kpi": [-5.0, 5.0, 0.0, 1.0],
        }
    )
    s = summarise(per_run).set_index(["policy", "kpi"])
    low, high, n = s.loc[("a", "stockout_rate"), ["ci_low", "ci_high", "n"]]
    raw = stats.t.ppf(0.975, 1) * np.std([0.0, 0.001], ddof=1) / math.sqrt(2)
    assert n == 2 and low == 0.0 and high == pytest.approx(0.0005 + raw)  # not below 0
    assert s.loc[("b", "stockout_rate"), "ci_high"] == 1.0  # a share is at most 1
    assert s.loc[("b", "stockout_rate"), "diff_high"] == 1.0  # a share's difference too
    assert s.loc[("a", "returns_units"), "ci_low"] == 0.0
    assert s.loc[("b", "returns_units"), "diff_low"] < 0  # differences may be negative
    assert s.loc[("a", "not_a_kpi"), "ci_low"] < -5  # only KPIs have known bounds
