"""Paired replications with common random numbers, and the statistical assertions.

See `sim.testing` for the method and its references.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from engine.routing.rules import policy_file_digest, policy_file_spec
from sim.kpis import HIGHER_IS_BETTER, KPI_NAMES, LOWER_IS_BETTER

__all__ = [
    "PairedTest",
    "assert_better",
    "assert_kpi_within",
    "assert_not_worse",
    "higher_is_better_for",
    "paired_test",
    "replicate",
]

Runner = Callable[..., Any]
_CACHE: dict[tuple[Any, ...], dict[str, float]] = {}


def higher_is_better_for(kpi: str, higher_is_better: bool | None = None) -> bool:
    """Direction of a KPI: given, or inferred from its name.

    Raises:
        ValueError: the KPI has no natural direction (e.g. ``orders``) and none was given.
    """
    if higher_is_better is not None:
        return bool(higher_is_better)
    if kpi in HIGHER_IS_BETTER:
        return True
    if kpi in LOWER_IS_BETTER:
        return False
    if kpi not in KPI_NAMES:
        raise ValueError(f"unknown KPI {kpi!r} (known: {', '.join(KPI_NAMES)})")
    raise ValueError(f"{kpi}: say higher_is_better=True or False; it cannot be inferred")


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}")


def _kpi_values(runs: list[dict[str, float]], kpi: str) -> list[float]:
    """`kpi` of each run; ValueError naming the KPIs the runs have when it is not one."""
    if runs and kpi not in runs[0]:
        raise ValueError(f"unknown KPI {kpi!r} (known: {', '.join(runs[0])})")
    return [r[kpi] for r in runs]


@dataclass(frozen=True)
class PairedTest:
    """Outcome of a paired non-inferiority test (all KPI values in the KPI's unit).

    Attributes:
        kpi: KPI name.
        candidate: Candidate policy.
        baseline: Baseline policy.
        n: Paired replications.
        higher_is_better: Direction of the KPI.
        candidate_mean: Mean of the candidate.
        baseline_mean: Mean of the baseline.
        worse_by: Mean of ``d`` (positive = candidate worse).
        delta: Allowed worsening, ``margin * |baseline_mean|``.
        upper_bound: One-sided upper confidence bound of ``E[d]``.
        p_value: P-value of H0 ``E[d] >= delta``.
        confidence: Confidence level. [-]
        passed: True when H0 is rejected (the candidate is not worse than allowed).
    """

    kpi: str
    candidate: str
    baseline: str
    n: int
    higher_is_better: bool
    candidate_mean: float
    baseline_mean: float
    worse_by: float
    delta: float
    upper_bound: float
    p_value: float
    confidence: float
    passed: bool

    def __str__(self) -> str:
        if self.delta == 0:  # margin 0: the claim is "better than"
            verdict = "better than" if self.passed else "NOT shown to be better than"
        else:
            verdict = "not worse than" if self.passed else "NOT shown to be within the margin of"
        return (
            f"{self.candidate} is {verdict} {self.baseline} on {self.kpi}: "
            f"{self.candidate_mean:.6g} vs {self.baseline_mean:.6g}, worse by {self.worse_by:+.4g} "
            f"(one-sided {self.confidence:.0%} upper bound {self.upper_bound:+.4g}) against an "
            f"allowed {self.delta:+.4g}; paired t-test p={self.p_value:.3g}, n={self.n}"
        )


def paired_test(
    candidate: Sequence[float],
    baseline: Sequence[float],
    *,
    kpi: str = "kpi",
    names: tuple[str, str] = ("candidate", "baseline"),
    margin: float = 0.01,
    confidence: float = 0.95,
    higher_is_better: bool = False,
) -> PairedTest:
    """One-sided paired t-test that the candidate is not worse by ``margin`` or more.

    Args:
        candidate: KPI per replication for the candidate.
        baseline: KPI per replication for the baseline, paired by position.
        kpi: KPI name, for messages.
        names: ``(candidate, baseline)`` policy names, for messages.
        margin: Allowed worsening as a fraction of ``|baseline mean|``. [-]
        confidence: Confidence level, in (0, 1). [-]
        higher_is_better: Direction of the KPI.

    Raises:
        ValueError: fewer than 2 pairs, lengths differ, or a value is NaN.
    """
    _check_confidence(confidence)
    c = np.asarray(candidate, dtype=float)
    b = np.asarray(baseline, dtype=float)
    if c.shape != b.shape or c.size < 2:
        raise ValueError(f"{kpi}: need at least 2 paired replications, got {c.size} and {b.size}")
    if np.isnan(c).any() or np.isnan(b).any():
        raise ValueError(f"{kpi}: undefined (NaN) in some replications; choose another KPI")
    d = (b - c) if higher_is_better else (c - b)
    n = int(d.size)
    delta = margin * abs(float(b.mean()))
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        # Identical differences (e.g. the policies coincide): no sampling noise left.
        p_value, bound = (0.0 if mean < delta else 1.0), mean
    else:
        se = sd / math.sqrt(n)
        p_value = float(stats.t.cdf((mean - delta) / se, n - 1))
        bound = mean + float(stats.t.ppf(confidence, n - 1)) * se
    return PairedTest(
        kpi=kpi,
        candidate=names[0],
        baseline=names[1],
        n=n,
        higher_is_better=higher_is_better,
        candidate_mean=float(c.mean()),
        baseline_mean=float(b.mean()),
        worse_by=mean,
        delta=delta,
        upper_bound=bound,
        p_value=p_value,
        confidence=confidence,
        passed=p_value < 1.0 - confidence,
    )


def _load(scenario: Any) -> Any:
    if isinstance(scenario, str | Path | dict):
        from sim.scenario import load_scenario

        return load_scenario(scenario)
    return scenario


def _policy_identity(policy: Any) -> Any:
    """What a policy argument means now, for the run cache: a name with the factory it is
    registered to (re-registering it changes the key), a rules file with its content, or
    the policy object itself."""
    if not isinstance(policy, str):
        return ("object", id(policy), policy)  # the cache keeps it alive: ids stay unique
    digest = policy_file_digest(policy)
    if digest is not None:
        file, name = policy_file_spec(policy)  # type: ignore[misc]
        return ("file", str(Path(file).resolve()), name, digest)
    from engine.routing import policy_factory
    from sim.policy_modules import import_policy, module_spec

    name = import_policy(policy) if module_spec(policy) else policy
    return ("name", policy, policy_factory(name))


def _fingerprint(scenario: Any) -> str:
    data = scenario.resolved() if hasattr(scenario, "resolved") else repr(scenario)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def replicate(
    scenario: Any,
    policy: str,
    reps: int,
    *,
    seed: int | None = None,
    days: int | None = None,
    runner: Runner | None = None,
) -> list[dict[str, float]]:
    """KPIs of replications ``0..reps-1`` (cached per process, so paired tests share runs;
    the cache follows what a policy name means now: a re-registered name or an edited
    rules file is run again).

    Args:
        scenario: A `Scenario`, a scenario name or path, or a dict.
        policy: Policy name.
        reps: Replications. [runs]
        seed: Base seed; default the scenario's.
        days: Run length; default the scenario's horizon. [days]
        runner: ``runner(scenario, policy, seed, *, days, replication)``; default `sim.run`
            (whose results are cached; an injected runner's are not).

    Returns:
        One KPI dict per replication, in order.
    """
    scenario = _load(scenario)
    seed = int(seed if seed is not None else getattr(scenario, "seed", 0))
    if runner is None:
        from sim.run import run as runner_fn
    else:
        runner_fn = runner
    # Only runs of the real model are cached: an injected runner may change behaviour.
    fingerprint = _fingerprint(scenario) if runner is None else None
    out = []
    identity = _policy_identity(policy)
    for rep in range(reps):
        key = (fingerprint, identity, seed, rep, days)
        if fingerprint is None or key not in _CACHE:
            result = runner_fn(scenario, policy, seed, days=days, replication=rep)
            kpis = {k: float(v) for k, v in dict(result.kpis).items()}
            if fingerprint is None:
                out.append(kpis)
                continue
            _CACHE[key] = kpis
        out.append(_CACHE[key])
    return out


def assert_not_worse(
    candidate: str,
    baseline: str,
    scenario: Any,
    kpi: str = "cost_per_order",
    margin: float = 0.01,
    reps: int = 10,
    confidence: float = 0.95,
    higher_is_better: bool | None = None,
    days: int | None = None,
    *,
    seed: int | None = None,
    runner: Runner | None = None,
) -> PairedTest:
    """Assert, by a one-sided paired t-test, that ``candidate`` is not worse than ``baseline``.

    Args:
        candidate: Policy under test.
        baseline: Reference policy.
        scenario: A `Scenario`, a scenario name or path, or a dict.
        kpi: KPI compared.
        margin: Allowed worsening as a fraction of the baseline mean (0.01 = 1%); 0 demands
            a significant improvement. [-]
        reps: Paired replications (common random numbers). [runs]
        confidence: Confidence level of the test. [-]
        higher_is_better: Direction; inferred from the KPI name when None.
        days: Run length; short horizons keep tests fast. [days]
        seed: Base seed; default the scenario's.
        runner: Run function (tests inject fakes); default `sim.run`.

    Returns:
        The `PairedTest` (its ``str`` is a one-line report).

    Raises:
        AssertionError: the data do not show the candidate within the margin.
        ValueError: bad arguments, or the KPI is undefined in some replication.
    """
    direction = higher_is_better_for(kpi, higher_is_better)
    _check_confidence(confidence)
    runs = {
        p: _kpi_values(replicate(scenario, p, reps, seed=seed, days=days, runner=runner), kpi)
        for p in (candidate, baseline)
    }
    result = paired_test(
        runs[candidate],
        runs[baseline],
        kpi=kpi,
        names=(candidate, baseline),
        margin=margin,
        confidence=confidence,
        higher_is_better=direction,
    )
    if not result.passed:
        raise AssertionError(str(result))
    return result


def assert_better(
    candidate: str, baseline: str, scenario: Any, kpi: str, **kwargs: Any
) -> PairedTest:
    """`assert_not_worse` with ``margin=0``: the candidate must be significantly better."""
    return assert_not_worse(candidate, baseline, scenario, kpi, margin=0.0, **kwargs)


def assert_kpi_within(
    scenario: Any,
    policy: str,
    kpi: str,
    low: float,
    high: float,
    reps: int = 5,
    confidence: float = 0.95,
    days: int | None = None,
    *,
    seed: int | None = None,
    runner: Runner | None = None,
) -> tuple[float, float, float]:
    """Assert that a KPI's mean over replications lies in ``[low, high]``.

    Fails only when the data show it outside: when the two-sided ``confidence`` interval
    of the mean lies entirely below ``low`` or above ``high``. So a correct band fails
    with probability at most ``1 - confidence``, and more replications sharpen the test.

    Returns:
        ``(mean, ci_low, ci_high)`` in the KPI's unit.

    Raises:
        AssertionError: the interval lies outside the band.
        ValueError: an unknown KPI, ``low > high``, fewer than 2 replications (no interval
            to judge by), a confidence outside (0, 1), or the KPI undefined (NaN) in some
            replication.
    """
    _check_confidence(confidence)
    if not low <= high:
        raise ValueError(f"{kpi}: the band's low ({low!r}) is above its high ({high!r})")
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 2:
        raise ValueError(f"{kpi}: need at least 2 replications for an interval, got {reps!r}")
    values = np.array(
        _kpi_values(replicate(scenario, policy, reps, seed=seed, days=days, runner=runner), kpi)
    )
    if np.isnan(values).any():
        raise ValueError(f"{kpi}: undefined (NaN) in some replications")
    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1))
    half /= math.sqrt(values.size)
    lo, hi = mean - half, mean + half
    if hi < low or lo > high:
        raise AssertionError(
            f"{policy} {kpi} = {mean:.6g} ({confidence:.0%} CI {lo:.6g}..{hi:.6g}, n={values.size}) "
            f"is outside [{low:.6g}, {high:.6g}]"
        )
    return mean, lo, hi
