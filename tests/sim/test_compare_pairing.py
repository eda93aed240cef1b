"""`sim.compare.summarise`: pairing by replication label and the confidence level.

Found by mutation testing: pairing rows by position instead of by replication, and
dropping `level` from the interval of the paired difference, passed the suite.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.compare import summarise

# Student-t quantiles from the standard tables: t(0.95, 3) (a 90% two-sided interval)
# and t(0.975, 3) (95%).
T95_3, T975_3 = 2.3534, 3.1824

# Replication effect shared by both policies (common random numbers); "cost" is cheaper
# by 1.0, 0.5, 1.0, 1.0 in replications 0..3.
BASE = {0: 10.0, 1: 12.0, 2: 11.0, 3: 13.0}
COST = {0: 9.0, 1: 11.5, 2: 10.0, 3: 12.0}


def frame(base_order, cost_order) -> pd.DataFrame:
    rows = [("toy", "closest", r, 1, BASE[r]) for r in base_order]
    rows += [("toy", "cost", r, 1, COST[r]) for r in cost_order]
    return pd.DataFrame(rows, columns=["scenario", "policy", "replication", "seed", "c"])


def row(table: pd.DataFrame, policy: str) -> pd.Series:
    return table[(table.policy == policy) & (table.kpi == "c")].iloc[0]


def test_differences_are_paired_by_replication_not_by_row_position() -> None:
    """The summary is a function of the (policy, replication) cells: shuffling the rows
    (results arriving out of order, e.g. from a parallel executor) changes nothing."""
    d = np.array([COST[r] - BASE[r] for r in range(4)])
    expected = row(summarise(frame(range(4), range(4))), "cost")
    assert expected["diff"] == pytest.approx(d.mean())
    # paired: sd of the differences is 0.25, far below the sd of either policy
    assert expected["diff_high"] - expected["diff"] == pytest.approx(
        T975_3 * d.std(ddof=1) / 2, abs=1e-3
    )
    for base_order, cost_order in [([3, 2, 1, 0], [0, 1, 2, 3]), ([1, 0, 3, 2], [2, 3, 0, 1])]:
        got = row(summarise(frame(base_order, cost_order)), "cost")
        pd.testing.assert_series_equal(got, expected, check_names=False)


def test_a_replication_missing_for_one_policy_is_left_out_of_the_differences() -> None:
    got = row(summarise(frame([0, 1, 2, 3], [0, 2, 3])), "cost")
    d = np.array([COST[r] - BASE[r] for r in (0, 2, 3)])  # -1, -1, -1
    assert got["n"] == 3 and got["diff"] == pytest.approx(d.mean())


def test_level_applies_to_the_interval_of_the_paired_difference_too() -> None:
    d = np.array([COST[r] - BASE[r] for r in range(4)])
    x = np.array([COST[r] for r in range(4)])
    t90 = row(summarise(frame(range(4), range(4)), level=0.90), "cost")
    assert t90["ci_high"] - t90["mean"] == pytest.approx(T95_3 * x.std(ddof=1) / 2, abs=1e-3)
    assert t90["diff_high"] - t90["diff"] == pytest.approx(T95_3 * d.std(ddof=1) / 2, abs=1e-3)
    assert t90["diff_low"] + t90["diff_high"] == pytest.approx(2 * t90["diff"])
    # a 90% interval is strictly inside the 95% one
    t95 = row(summarise(frame(range(4), range(4))), "cost")
    assert t95["diff_low"] < t90["diff_low"] < t90["diff_high"] < t95["diff_high"]
    assert not math.isnan(t90["diff_low"])
