"""Policy regression helpers for pytest: statistics, not luck.

For people who own routing policies::

    from sim.testing import assert_not_worse, assert_kpi_within, check_golden

    def test_min_split_packs_fewer_packages():
        assert_not_worse("min_split", "closest", "default", kpi="packages_per_order",
                         margin=0.0, reps=10, days=3)

`assert_not_worse` runs both policies for ``reps`` paired replications with common random
numbers (same seed and replication index, so both face the same customers) and makes a
one-sided paired t-test of non-inferiority (Law, *Simulation Modeling and Analysis*, 5th
ed., 10.2; Wellek, *Testing Statistical Hypotheses of Equivalence and Noninferiority*).
With ``d_r`` = how much worse the candidate is than the baseline in replication ``r`` and
``delta = margin * |baseline mean|``::

    H0: E[d] >= delta   (worse by at least the margin)   vs   H1: E[d] < delta

It passes when H0 is rejected at the stated confidence, i.e. when the one-sided upper
confidence bound ``mean(d) + t(confidence, n-1) * s_d / sqrt(n)`` is below ``delta``.
``margin=0`` therefore demands that the candidate be significantly *better*.

Golden baselines live in ``tests/golden/*.json`` with tolerance bands; `check_golden` only
reads them. They change only through the explicit command::

    python -m sim.testing update [NAME ...]      # re-measure and rewrite golden files
    python -m sim.testing check [NAME ...]       # check without writing
    python -m sim.testing new NAME --scenario default --policy closest --days 3 --reps 2

The ``policy_regression`` pytest fixture bundles the helpers with a shared run cache; put
``pytest_plugins = ["sim.testing"]`` in your top-level conftest (this repository imports
the fixture in ``tests/regression/conftest.py``).
"""

import contextlib

from sim.testing.golden import GOLDEN_DIR, check_golden, golden_path, update_golden
from sim.testing.paired import (
    PairedTest,
    assert_better,
    assert_kpi_within,
    assert_not_worse,
    higher_is_better_for,
    paired_test,
    replicate,
)

__all__ = [
    "GOLDEN_DIR",
    "PairedTest",
    "PolicyRegression",
    "assert_better",
    "assert_kpi_within",
    "assert_not_worse",
    "check_golden",
    "golden_path",
    "higher_is_better_for",
    "paired_test",
    "policy_regression",
    "replicate",
    "update_golden",
]

with contextlib.suppress(ImportError):  # the fixture needs pytest, a dev dependency
    from sim.testing.plugin import PolicyRegression, policy_regression
