"""The row of one finished run in a sweep's ``runs/`` dataset: its columns and their types.

Every row file of one plan has the same schema (`RowLayout`), so
``pandas.read_parquet("OUT/runs")`` reads them as one table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sim.sweep.tasks import RunOutcome, RunTask

__all__ = ["ID_COLUMNS", "RowLayout", "outcome_columns"]

#: Columns that identify a run in the results table, before the override columns.
ID_COLUMNS = ["key", "sweep", "scenario", "case", "label", "policy", "replication", "seed", "days"]

#: Arrow types of the row columns that are not levers or KPIs (KPIs are float64).
_FIXED_TYPES = {
    "key": pa.string(),
    "sweep": pa.string(),
    "scenario": pa.string(),
    "case": pa.int64(),
    "label": pa.string(),
    "policy": pa.string(),
    "replication": pa.int64(),
    "seed": pa.int64(),
    "days": pa.int64(),
    "overrides": pa.string(),
    "elapsed_s": pa.float64(),
    "attempts": pa.int64(),
    "worker": pa.string(),
    "code_version": pa.string(),
    "finished_at": pa.string(),
}


def _lever_type(values: Sequence[Any]) -> pa.DataType:
    """One column type for a lever's values across the whole plan: bool, int64 when every
    value is a whole number, float64 when every value is a number, else text."""
    given = [v for v in values if v is not None]
    if given and all(isinstance(v, bool) for v in given):
        return pa.bool_()
    numbers = [v for v in given if isinstance(v, int | float) and not isinstance(v, bool)]
    if given and len(numbers) == len(given):
        return pa.int64() if all(isinstance(v, int) for v in numbers) else pa.float64()
    return pa.string()


def _lever_cell(value: Any, kind: pa.DataType) -> Any:
    """A lever value as its column stores it (text columns hold JSON for non-text)."""
    if value is None:
        return None
    if pa.types.is_string(kind):
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return float(value) if pa.types.is_floating(kind) else value


@dataclass(frozen=True)
class RowLayout:
    """The columns of every row file of one sweep plan, so that all of them share one schema
    (``pandas.read_parquet("OUT/runs")`` reads them as one table).

    A row is: the id columns (`ID_COLUMNS`), one column per lever (every dotted path the
    plan overrides, in the order they first appear; empty where a case keeps the base
    value), ``overrides`` (the case's overrides as JSON text), then the outcome: KPIs
    (float64) and bookkeeping (``elapsed_s`` [s], ``attempts``, ``worker``,
    ``code_version``, ``finished_at``).

    Attributes:
        levers: Dotted path -> Arrow type, decided from the values of the whole plan.
    """

    levers: dict[str, pa.DataType]

    @classmethod
    def of(cls, tasks: Iterable[RunTask]) -> RowLayout:
        """The layout of a plan's rows."""
        values: dict[str, list[Any]] = {}
        for task in tasks:
            for path, value in task.overrides.items():
                values.setdefault(path, []).append(value)
        return cls({path: _lever_type(found) for path, found in values.items()})

    def describe(self) -> dict[str, str]:
        """Lever -> type name (kept in the manifest to tell when rows must be rewritten)."""
        return {path: str(kind) for path, kind in self.levers.items()}

    def table(self, task: RunTask, outcome: Mapping[str, Any]) -> pa.Table:
        """The one-row table of ``task`` with ``outcome`` (KPIs and bookkeeping columns)."""
        row: dict[str, Any] = {
            "key": task.key,
            "sweep": task.sweep,
            "scenario": task.scenario_name,
            "case": task.case,
            "label": task.label,
            "policy": task.policy,
            "replication": task.replication,
            "seed": task.seed,
            "days": task.days,
        }
        for path, kind in self.levers.items():
            row[path] = _lever_cell(task.overrides.get(path), kind)
        row["overrides"] = json.dumps(task.overrides, sort_keys=True, default=str)
        row.update({k: v for k, v in outcome.items() if k not in row})
        types = {**_FIXED_TYPES, **self.levers}
        schema = pa.schema([pa.field(name, types.get(name, pa.float64())) for name in row])
        return pa.Table.from_pylist([row], schema=schema)


def outcome_columns(task: RunTask, outcome: RunOutcome, finished_at: str) -> dict[str, Any]:
    """The KPIs and bookkeeping of a finished run, as its row holds them (`finished_at`:
    ISO 8601 UTC time the run's row is written)."""
    return {
        **{k: float(v) for k, v in outcome.kpis.items()},
        "elapsed_s": outcome.elapsed_s,
        "attempts": outcome.attempt,
        "worker": outcome.worker,
        "code_version": task.code_version,
        "finished_at": finished_at,
    }
