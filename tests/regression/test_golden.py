"""Golden baselines (regression tests, never the only check): ``tests/golden/*.json``.

Update them only on purpose: ``python -m sim.testing update [NAME ...]``.

Tolerance rule (each file's ``note`` says it for its KPIs): a KPI passes when ``|measured -
golden| <= max(abs, rel * |golden|, sigmas * sd / sqrt(reps))``, ``tolerance.kpis.NAME``
overriding the file's tolerance for one KPI. The check re-runs the same seeds, so the band
is the sampling noise of the mean with small floors; a KPI fixed by the seed alone (the
demand: ``orders``, ``units_demanded``) is exact. Cases run long enough for the rare events
(stockouts, restocked returns) to occur, so that their KPIs are not all zeros.
"""

from __future__ import annotations

import pytest

from sim.testing import GOLDEN_DIR

GOLDEN = sorted(GOLDEN_DIR.glob("*.json"))


def test_golden_files_exist():
    assert GOLDEN, f"no golden files in {GOLDEN_DIR}"


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden(policy_regression, path):
    policy_regression.golden(path)
