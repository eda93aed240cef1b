"""Batch sweeps: grids of scenarios x policies x replications, locally or on Dask.

Typical use::

    from sim.sweep import run_sweep, load_sweep_results, frontier_figure

    report = run_sweep("scenarios/sweeps/sfs_limit_x_bopis.yaml", "out/sfs", executor="process")
    summary, frontier = load_sweep_results("out/sfs")
    frontier_figure(summary).show()

See ``docs/sweeps.md`` for the file format, resuming and running on a cluster.
"""

from __future__ import annotations

import importlib
from typing import Any

# Names -> defining module. Imported on first use so that workers, which only need
# `sim.sweep.tasks`, start without loading plotly and scipy.
_EXPORTS = {
    "OBJECTIVES": "frontier",
    "frontier_figure": "frontier",
    "load_sweep_results": "frontier",
    "pareto_mask": "frontier",
    "summarise": "frontier",
    "SweepReport": "run",
    "run_sweep": "run",
    "Case": "spec",
    "Sweep": "spec",
    "SweepError": "spec",
    "SweepSpec": "spec",
    "load_sweep": "spec",
    "RunTask": "tasks",
    "code_version": "tasks",
    "expand": "tasks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim.sweep' has no attribute {name!r}")
    return getattr(importlib.import_module(f"sim.sweep.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    return __all__
