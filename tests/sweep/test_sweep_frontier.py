"""Pareto frontier on hand-made tables, the summary, the figure and the app's loader."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import write_sweep

from sim.sweep import (
    frontier_figure,
    load_sweep,
    load_sweep_results,
    pareto_mask,
    run_sweep,
    summarise,
)

OBJ = ["cost_per_order", "click_to_door_hours_p90", "stockout_rate"]


def _table(rows: list[tuple[float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=OBJ)


def test_pareto_mask_on_a_hand_made_table():
    table = _table(
        [
            (10.0, 50.0, 0.02),  # 0 frontier: cheapest
            (12.0, 40.0, 0.02),  # 1 frontier: faster
            (12.0, 45.0, 0.03),  # 2 dominated by 1 (slower and more stockouts, same cost)
            (11.0, 60.0, 0.01),  # 3 frontier: fewest stockouts
            (13.0, 60.0, 0.04),  # 4 dominated by everything
            (10.0, 50.0, 0.02),  # 5 duplicate of 0: both stay on the frontier
            (9.0, math.nan, 0.0),  # 6 undefined objective: never on the frontier
        ]
    )
    assert pareto_mask(table).tolist() == [True, True, False, True, False, True, False]


def test_pareto_mask_two_objectives_and_single_point():
    table = _table([(1.0, 5.0, 0.0), (2.0, 4.0, 0.0), (3.0, 3.0, 0.0), (3.0, 5.0, 0.0)])
    assert pareto_mask(table, OBJ[:2]).tolist() == [True, True, True, False]
    assert pareto_mask(table.iloc[:1]).tolist() == [True]


def test_pareto_mask_matches_brute_force_definition():
    rng = np.random.default_rng(7)
    table = _table([tuple(rng.integers(0, 5, size=3).astype(float)) for _ in range(60)])
    values = table.to_numpy()
    expected = [not any((q <= p).all() and (q < p).any() for q in values) for p in values]
    assert pareto_mask(table).tolist() == expected


def _runs() -> pd.DataFrame:
    rows = []
    for case, label in enumerate(["a=1", "a=2"]):
        for policy in ("closest", "cost"):
            for rep, noise in enumerate((-1.0, 1.0)):
                cost = 10.0 + case + (policy == "cost") * -1.0 + noise
                rows.append(
                    {
                        "key": f"{case}{policy}{rep}",
                        "case": case,
                        "label": label,
                        "policy": policy,
                        "replication": rep,
                        "a": case + 1,
                        "overrides": json.dumps({"a": case + 1}),
                        "cost_per_order": cost,
                        "click_to_door_hours_p90": 50.0 - 5 * (policy == "closest"),
                        "stockout_rate": 0.01 * (case + 1),
                        "fill_rate": 0.9,
                    }
                )
    return pd.DataFrame(rows)


def test_summary_means_intervals_and_frontier():
    summary = summarise(_runs())
    assert len(summary) == 4
    assert list(summary.columns[:4]) == ["case", "label", "policy", "a"]
    row = summary[(summary["case"] == 0) & (summary["policy"] == "cost")].iloc[0]
    assert row["reps"] == 2
    assert row["cost_per_order"] == pytest.approx(9.0)
    # Two replications 8 and 10: half-width t(0.975, 1) * s / sqrt(2) = 12.7062 * 1.4142 / 1.4142
    assert row["cost_per_order_ci"] == pytest.approx(12.7062, abs=1e-3)
    # Case a=2 is dominated by a=1 for each policy (dearer, more stockouts, same speed).
    assert summary.set_index(["case", "policy"])["on_frontier"].to_dict() == {
        (0, "closest"): True,
        (0, "cost"): True,
        (1, "closest"): False,
        (1, "cost"): False,
    }


def test_frontier_figure_outlines_frontier_points():
    fig = frontier_figure(summarise(_runs()))
    names = [t.name for t in fig.data]
    assert names == [
        "closest (dominated)",
        "closest (frontier)",
        "cost (dominated)",
        "cost (frontier)",
    ]
    frontier = [t for t in fig.data if "frontier" in t.name]
    assert all(t.marker.line.width == 2 for t in frontier)
    assert fig.layout.xaxis.title.text == "cost per order (USD)"


def test_load_sweep_results_reads_an_output_folder(tmp_path: Path):
    out = tmp_path / "out"
    report = run_sweep(write_sweep(tmp_path), out, runner="synthetic", progress=False)
    summary, frontier = load_sweep_results(out)
    pd.testing.assert_frame_equal(summary, report.summary)
    assert len(summary) == 8 and summary["reps"].eq(2).all()
    sweep = load_sweep(write_sweep(tmp_path))
    assert summary["seed"].eq(sweep.seed).all() and summary["days"].eq(2).all()
    # The frontier, by brute force over the summary's rows: a point is on it when no other
    # point is at least as good on every objective and better on one (all minimised).
    points = {(r.case, r.policy): tuple(r[o] for o in OBJ) for _, r in summary.iterrows()}

    def dominated(p: tuple) -> bool:
        return any(
            all(a <= b for a, b in zip(q, p, strict=True)) and q != p for q in points.values()
        )

    expected = {key for key, p in points.items() if not dominated(p)}
    assert 1 <= len(expected) < len(points)  # synthetic KPIs: some points are dominated
    assert set(zip(frontier["case"], frontier["policy"], strict=True)) == expected
    assert len(frontier) == len(expected)
    assert summary.set_index(["case", "policy"])["on_frontier"].to_dict() == {
        key: key in expected for key in points
    }
    assert frontier["cost_per_order"].is_monotonic_increasing
    html = (out / "frontier.html").read_text(encoding="utf-8")
    assert "plotly" in html.lower() and "Pareto frontier" in html
    with pytest.raises(FileNotFoundError, match="not a sweep results folder"):
        load_sweep_results(tmp_path)
