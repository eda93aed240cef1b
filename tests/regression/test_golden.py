"""Golden baselines (regression tests, never the only check): ``tests/golden/*.json``.

Update them only on purpose: ``python -m sim.testing update [NAME ...]``.
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
