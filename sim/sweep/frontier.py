"""Summary table and Pareto frontier of a sweep.

Each point is one case x policy, at the mean over its replications. A point is on the
frontier when no other point is at least as good on every objective and strictly better
on one (all objectives are minimised): cost per order, click-to-door p90 and stockout rate.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.kpis import KPI_NAMES

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "OBJECTIVES",
    "frontier_figure",
    "load_sweep_results",
    "pareto_mask",
    "summarise",
    "write_frontier_html",
]

#: Objectives of the frontier, all minimised.
OBJECTIVES = ("cost_per_order", "click_to_door_hours_p90", "stockout_rate")
_LABELS = {
    "cost_per_order": "cost per order (USD)",
    "click_to_door_hours_p90": "click-to-door p90 (h)",
    "stockout_rate": "stockout rate",
}


def pareto_mask(frame: pd.DataFrame, objectives: Sequence[str] = OBJECTIVES) -> np.ndarray:
    """Which rows are Pareto-optimal when every objective is minimised.

    Rows with a NaN objective are never on the frontier. Identical rows are all kept.

    Args:
        frame: One row per point.
        objectives: Columns to minimise.

    Returns:
        Boolean array, True for frontier rows. O(n^2) comparisons, fine for 10^4 points.
    """
    values = frame[list(objectives)].to_numpy(dtype=float)
    valid = ~np.isnan(values).any(axis=1)
    mask = np.zeros(len(frame), dtype=bool)
    idx = np.flatnonzero(valid)
    points = values[idx]
    for j, i in enumerate(idx):
        p = points[j]
        dominated = (points <= p).all(axis=1) & (points < p).any(axis=1)
        mask[i] = not dominated.any()
    return mask


def summarise(runs: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per case and policy: KPI means over replications, intervals for the objectives.

    Args:
        runs: The sweep's results table (one row per run).
        level: Confidence level of the ``<objective>_ci`` half-widths. [-]

    Returns:
        One row per case x policy with the identifying and override columns, ``seed`` and
        ``days`` when the runs have them, ``reps``, each KPI's mean (same name),
        ``<objective>_ci`` for the three `OBJECTIVES` only (Student-t half-width, NaN with
        one replication) and ``on_frontier``.
    """
    if runs.empty:
        return pd.DataFrame(columns=["case", "label", "policy", "reps", *OBJECTIVES, "on_frontier"])
    kpis = [k for k in KPI_NAMES if k in runs.columns]
    paths = list(
        dict.fromkeys(
            p
            for text in runs.get("overrides", pd.Series(dtype=str)).unique()
            for p in json.loads(text)
        )
    )
    paths = [p for p in paths if p in runs.columns]
    paths += [c for c in ("seed", "days") if c in runs.columns]  # the same for the whole sweep
    by = ["case", "label", "policy"]
    grouped = runs.groupby(by, sort=True, dropna=False)
    summary = grouped[kpis].mean()
    summary.insert(0, "reps", grouped.size())
    for name in OBJECTIVES:
        if name in runs.columns:
            summary[f"{name}_ci"] = grouped[name].agg(lambda x: _half_width(x, level))
    summary = summary.reset_index()
    firsts = grouped[paths].first().reset_index() if paths else None
    if firsts is not None:
        summary = firsts.merge(summary, on=by)
        summary = summary[[*by, *paths, *[c for c in summary.columns if c not in (*by, *paths)]]]
    have = [o for o in OBJECTIVES if o in summary.columns]
    summary["on_frontier"] = pareto_mask(summary, have) if have else False
    return summary


def _half_width(values: pd.Series, level: float) -> float:
    from scipy import stats

    x = values.dropna().to_numpy(dtype=float)
    if x.size < 2:
        return math.nan
    return float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))


def frontier_figure(df: pd.DataFrame) -> go.Figure:
    """Cost per order vs click-to-door p90, coloured by stockout rate; frontier outlined.

    Args:
        df: A summary table (`summarise`); ``on_frontier`` is computed when missing.

    Returns:
        A plotly figure: one marker symbol per policy, dominated points faded, frontier
        points large with a black outline; hover shows the case, policy and objectives.
    """
    import plotly.graph_objects as go

    df = df.copy()
    if "on_frontier" not in df:
        df["on_frontier"] = pareto_mask(df)
    symbols = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star", "pentagon"]
    low, high = df["stockout_rate"].min(), df["stockout_rate"].max()
    fig = go.Figure()
    scale_shown = False
    for i, (policy, part) in enumerate(df.groupby("policy", sort=True)):
        for on in (False, True):
            pts = part[part["on_frontier"] == on]
            if pts.empty:
                continue
            fig.add_trace(
                go.Scatter(
                    x=pts["cost_per_order"],
                    y=pts["click_to_door_hours_p90"],
                    mode="markers",
                    name=f"{policy} ({'frontier' if on else 'dominated'})",
                    legendgroup=str(policy),
                    marker={
                        "symbol": symbols[i % len(symbols)],
                        "size": 14 if on else 8,
                        "opacity": 1.0 if on else 0.35,
                        "color": pts["stockout_rate"],
                        "cmin": low,
                        "cmax": high,
                        "colorscale": "Viridis",
                        "showscale": not scale_shown,
                        "colorbar": {"title": "stockout rate"},
                        "line": {"width": 2 if on else 0, "color": "black"},
                    },
                    customdata=np.stack([pts["label"], pts["stockout_rate"]], axis=1),
                    hovertemplate=(
                        f"<b>{policy}</b><br>%{{customdata[0]}}<br>"
                        "cost per order: $%{x:.3f}<br>click-to-door p90: %{y:.2f} h<br>"
                        "stockout rate: %{customdata[1]:.4f}<extra></extra>"
                    ),
                )
            )
            scale_shown = True
    n_front = int(df["on_frontier"].sum())
    fig.update_layout(
        title=f"Pareto frontier: {n_front} of {len(df)} case x policy points (all minimised)",
        xaxis_title=_LABELS["cost_per_order"],
        yaxis_title=_LABELS["click_to_door_hours_p90"],
        legend_title="policy",
        template="plotly_white",
    )
    return fig


def write_frontier_html(summary: pd.DataFrame, path: str | Path) -> Path:
    """Write the frontier figure as a self-contained HTML file (works offline)."""
    path = Path(path)
    html = frontier_figure(summary).to_html(include_plotlyjs=True, full_html=True)
    from sim.sweep.store import atomic_write_bytes

    atomic_write_bytes(path, html.encode("utf-8"))
    return path


def load_sweep_results(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A sweep's summary and its frontier, from its output folder (for the app).

    Args:
        folder: The ``--out`` folder of ``fulfil sweep``.

    Returns:
        ``(summary_df, frontier_df)``: one row per case x policy, and the frontier rows
        sorted by cost per order.

    Raises:
        FileNotFoundError: the folder holds no sweep results.
        ValueError: its manifest cannot be read, or no run has finished yet.
    """
    from sim.sweep.store import ResultStore

    folder = Path(folder)
    if not (folder / "runs").is_dir():
        raise FileNotFoundError(f"{folder}: not a sweep results folder (no runs/)")
    store = ResultStore(folder, create=False)
    keys = None
    manifest = folder / "manifest.json"
    if manifest.is_file():
        info = json.loads(manifest.read_text(encoding="utf-8"))
        runs = info.get("runs") if isinstance(info, dict) else None
        if not isinstance(runs, list) or not all(isinstance(r, dict) and "key" in r for r in runs):
            raise ValueError(f"{manifest}: no list of runs with their keys")
        keys = [r["key"] for r in runs]
    results = store.load_runs(keys)
    if results.empty or "cost_per_order" not in results.columns:
        raise ValueError(f"{folder}: no finished runs yet (a sweep shows once runs are committed)")
    summary = summarise(results)
    frontier = summary[summary["on_frontier"]].sort_values("cost_per_order", ignore_index=True)
    return summary, frontier
