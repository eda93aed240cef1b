"""Compare routing policies over replications with common random numbers.

Every policy sees the same seed and replication index, so replication ``r`` of policy A
and replication ``r`` of policy B face the same customers, baskets and disruptions
(common random numbers); `run` spawns an independent stream per replication from the
seed with `numpy.random.SeedSequence`. Differences against the baseline policy are
therefore paired per replication, which gives much narrower intervals than comparing
two independent means (Law, *Simulation Modeling and Analysis*, 5th ed., section 10.2).

Intervals are two-sided 95% Student-t intervals over replications,
``mean +/- t(0.975, n - 1) * s / sqrt(n)``; with one replication they are NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.kpis import kpi_bounds
from sim.scenario.schema import MAX_REPLICATIONS

__all__ = [
    "SUMMARY_COLUMNS",
    "compare",
    "compare_runs",
    "kpi_frame",
    "summarise",
    "t_interval",
]

#: Columns of the table returned by `compare` / `summarise`, in order.
SUMMARY_COLUMNS = [
    "scenario",
    "policy",
    "kpi",
    "n",
    "mean",
    "ci_low",
    "ci_high",
    "baseline",
    "diff",
    "diff_low",
    "diff_high",
]

#: Identifying columns of the per-replication table returned by `kpi_frame`.
ID_COLUMNS = ["scenario", "policy", "replication", "seed"]

Runner = Callable[..., Any]
Progress = Callable[[int, int], None]


def t_interval(
    values: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float, float, int]:
    """Mean and two-sided Student-t confidence interval of a sample.

    NaN values are ignored (a KPI can be undefined in a replication, e.g. a BOPIS
    percentile when no BOPIS order was made ready).

    Args:
        values: One observation per replication.
        level: Confidence level, in (0, 1). [-]

    Returns:
        ``(mean, low, high, n)`` where ``n`` counts the non-NaN values. The interval is
        NaN when ``n < 2``; the mean is NaN when ``n == 0``.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def _within(value: float, low: float, high: float) -> float:
    """`value` moved into [low, high]; NaN stays NaN."""
    return value if math.isnan(value) else min(max(value, low), high)


def _policy_label(policy: Any) -> str:
    return str(getattr(policy, "name", policy))


def _default_runner() -> Runner:
    from sim.run import run

    return run


def _resolve_scenario(scenario: Any) -> Any:
    """Load a scenario given as a path or mapping once, so each run does not re-parse it."""
    if isinstance(scenario, str | Path | dict):
        from sim.scenario import load_scenario

        return load_scenario(scenario)
    return scenario


def _check_arguments(policies: Sequence[Any], reps: int, baseline: str | None) -> list[str]:
    if isinstance(policies, str):
        policies = [p.strip() for p in policies.split(",") if p.strip()]
    labels = [_policy_label(p) for p in policies]
    if not labels:
        raise ValueError("policies: give at least one policy to compare")
    duplicates = sorted({p for p in labels if labels.count(p) > 1})
    if duplicates:
        raise ValueError(
            f"policies: each policy may appear once, repeated: {', '.join(duplicates)}"
        )
    if (
        isinstance(reps, bool)
        or not isinstance(reps, int | np.integer)
        or not 1 <= reps <= MAX_REPLICATIONS
    ):
        raise ValueError(f"reps: must be an integer from 1 to {MAX_REPLICATIONS}, got {reps!r}")
    if baseline is not None and baseline not in labels:
        raise ValueError(
            f"baseline: {baseline!r} is not one of the compared policies ({', '.join(labels)})"
        )
    return labels


def _iter_runs(
    scenario: Any,
    policies: Sequence[Any],
    reps: int,
    seed: int | None,
    progress: Progress | None,
    runner: Runner | None,
    run_kwargs: dict[str, Any],
) -> Iterator[Any]:
    """Yield run results replication by replication, every policy within a replication."""
    if isinstance(policies, str):
        policies = [p.strip() for p in policies.split(",") if p.strip()]
    run = runner if runner is not None else _default_runner()
    scenario = _resolve_scenario(scenario)
    total = reps * len(policies)
    done = 0
    for replication in range(reps):
        for policy in policies:
            # Same seed and replication index for every policy: common random numbers.
            yield run(scenario, policy, seed, replication=replication, **run_kwargs)
            done += 1
            if progress is not None:
                progress(done, total)


def compare_runs(
    scenario: Any,
    policies: Sequence[Any],
    reps: int = 5,
    seed: int | None = None,
    *,
    progress: Progress | None = None,
    runner: Runner | None = None,
    **run_kwargs: Any,
) -> list[Any]:
    """Run every policy for every replication and keep the full results.

    Use this when charts need the tables (orders, shipments, ...) as well as the KPIs;
    `kpi_frame` and `summarise` turn the list into the tables `compare` returns. It
    holds every `RunResult` in memory, so prefer `compare` for many or long runs.

    Args:
        scenario: A `Scenario`, or a path / mapping given to `load_scenario`.
        policies: Policy names (or objects with a ``name``), or one comma-separated string.
        reps: Replications per policy. [-]
        seed: Root seed; None uses the scenario's seed.
        progress: Called as ``progress(done, total)`` after each run (counts of runs).
        runner: Function with the signature of `sim.run.run`; defaults to it (tests
            inject fakes here).
        **run_kwargs: Passed to every run, e.g. ``days=2``.

    Returns:
        The results ordered by replication, then by policy.

    Raises:
        ValueError: No policies, a repeated policy, or ``reps < 1``.
        ScenarioError: The scenario path or mapping is invalid.
    """
    _check_arguments(policies, reps, None)
    return list(_iter_runs(scenario, policies, reps, seed, progress, runner, run_kwargs))


def _kpi_row(result: Any) -> dict[str, Any]:
    row = {
        "scenario": result.scenario,
        "policy": result.policy,
        "replication": int(result.replication),
        "seed": result.seed,
    }
    row.update({k: float(v) if v is not None else math.nan for k, v in result.kpis.items()})
    return row


def kpi_frame(results: Sequence[Any]) -> pd.DataFrame:
    """Per-replication KPI table: one row per run, one column per KPI.

    Args:
        results: `RunResult`-like objects (attributes ``scenario``, ``policy``, ``seed``,
            ``replication`` and ``kpis``).

    Returns:
        Columns ``scenario, policy, replication, seed`` followed by the KPI names.
    """
    return pd.DataFrame([_kpi_row(r) for r in results], columns=None if results else ID_COLUMNS)


def summarise(
    frame: pd.DataFrame, baseline: str | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Summarise a per-replication KPI table into means, intervals and paired differences.

    Args:
        frame: Output of `kpi_frame` (one row per policy and replication).
        baseline: Policy the differences are taken against; None = the first policy
            in the table.
        level: Confidence level of every interval. [-]

    Returns:
        One row per (policy, KPI) with the columns `SUMMARY_COLUMNS`. ``diff`` is the
        mean over replications of ``policy - baseline`` (paired by replication) and
        ``diff_low``/``diff_high`` its t-interval; the baseline's own difference is 0.
        Intervals are cut to the values a KPI can take (`sim.kpis.kpi_bounds`: a share's
        mean within [0, 1] and its difference within [-1, 1], other KPIs' means >= 0):
        a t-interval of a share near 0 would otherwise reach below it.

    Raises:
        ValueError: ``baseline`` is not a policy of the table.
    """
    if frame.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    policies = list(dict.fromkeys(frame["policy"]))
    if baseline is None:
        baseline = policies[0]
    elif baseline not in policies:
        raise ValueError(
            f"baseline: {baseline!r} is not one of the compared policies ({', '.join(policies)})"
        )
    kpis = [c for c in frame.columns if c not in ID_COLUMNS]
    scenario = frame["scenario"].iloc[0]
    base = frame[frame["policy"] == baseline].set_index("replication")[kpis]
    rows = []
    for policy in policies:
        mine = frame[frame["policy"] == policy].set_index("replication")[kpis]
        common = mine.index.intersection(base.index)  # replications run by both policies
        for kpi in kpis:
            lo, hi = kpi_bounds(kpi)
            mean, low, high, n = t_interval(mine[kpi].to_numpy(dtype=float), level)
            low, high = _within(low, lo, hi), _within(high, lo, hi)
            diffs = mine.loc[common, kpi].to_numpy(float) - base.loc[common, kpi].to_numpy(float)
            diff, diff_low, diff_high, _ = t_interval(diffs, level)
            diff_low, diff_high = (
                _within(diff_low, lo - hi, hi - lo),
                _within(diff_high, lo - hi, hi - lo),
            )
            rows.append(
                {
                    "scenario": scenario,
                    "policy": policy,
                    "kpi": kpi,
                    "n": n,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "baseline": baseline,
                    "diff": diff,
                    "diff_low": diff_low,
                    "diff_high": diff_high,
                }
            )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def compare(
    scenario: Any,
    policies: Sequence[Any],
    reps: int = 5,
    seed: int | None = None,
    baseline: str | None = None,
    progress: Progress | None = None,
    *,
    runner: Runner | None = None,
    **run_kwargs: Any,
) -> pd.DataFrame:
    """Compare policies on one scenario: KPI means, 95% intervals and paired differences.

    Replication ``r`` of every policy runs as ``run(scenario, policy, seed,
    replication=r)``: common random numbers across policies, independent streams across
    replications. Only the KPIs of each run are kept.

    Args:
        scenario: A `Scenario`, or a path / mapping given to `load_scenario`.
        policies: Policy names (or objects with a ``name``), or one comma-separated string.
        reps: Replications per policy. [-]
        seed: Root seed; None uses the scenario's seed.
        baseline: Policy the differences are taken against; None = the first policy.
        progress: Called as ``progress(done, total)`` after each run (counts of runs).
        runner: Function with the signature of `sim.run.run`; defaults to it.
        **run_kwargs: Passed to every run, e.g. ``days=2``.

    Returns:
        A tidy table, one row per (policy, KPI), columns `SUMMARY_COLUMNS`.

    Raises:
        ValueError: No policies, a repeated policy, ``reps < 1`` or an unknown baseline
            (checked before anything runs).
        ScenarioError: The scenario path or mapping is invalid.
    """
    labels = _check_arguments(policies, reps, baseline)
    rows = [
        _kpi_row(r)
        for r in _iter_runs(scenario, policies, reps, seed, progress, runner, run_kwargs)
    ]
    frame = pd.DataFrame(rows)
    # Results are labelled by the runner; keep the caller's baseline label usable.
    if baseline is not None and baseline not in set(frame["policy"]):
        baseline = frame["policy"].iloc[labels.index(baseline)]
    return summarise(frame, baseline)
