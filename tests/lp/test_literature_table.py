"""The literature table from raw rows (`python -m sim.literature --from-csv`), without runs."""

from __future__ import annotations

import pandas as pd

from sim.literature.__main__ import main
from sim.literature.benchmark import _met


def _rows(seeds, policies=("closest", "cost", "batch")):
    cost = {"closest": 130.0, "cost": 120.0, "batch": 118.0}
    packages = {"closest": 14, "cost": 12, "batch": 12}
    return pd.DataFrame(
        {
            "scenario": "js_small", "replication": 0, "seed": s, "policy": p,
            "cost": cost[p] + s % 3, "packages": packages[p], "bound": 100.0,
            "bound_seconds": 0.1, "min_packages_static": 10,
            "min_packages_at_routing": 11.0 if p == "closest" else float("nan"),
            "fallbacks": 0, "seconds": 1.0,
        }
        for s in seeds
        for p in policies
    )  # fmt: skip


def test_rows_saved_over_seed_ranges_merge_into_one_table(tmp_path):
    first, rest, out = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "table.md"
    _rows([1000, 1001]).to_csv(first, index=False)
    _rows([1002, 1003, 1004]).to_csv(rest, index=False)
    assert main(["--from-csv", str(first), str(rest), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Regenerate with `python -m sim.literature --reps 5`" in text
    assert "seeds 1000..1004" in text
    body = [line for line in text.splitlines() if line.startswith("| js_small")]
    assert len(body) == 3 and all("| 5 |" in line for line in body)
    assert "too slow" not in text  # every row has all sequences
    assert "`batch` removes 50.0% ± 0.0 (static minimum: met)" in text


def test_a_target_is_borderline_when_the_interval_spans_it():
    assert _met(0.55, 0.02, 0.50) == "met"
    assert _met(0.45, 0.02, 0.50) == "not met"
    assert _met(0.501, 0.02, 0.50).startswith("borderline")
    assert _met(0.60, float("nan"), 0.50) == "met"
