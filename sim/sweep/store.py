"""The sweep's output folder: a Parquet dataset of runs, detail tables, failures, manifest.

Layout of ``OUT/``::

    runs/part-<key>.parquet        one row per finished run: inputs and KPIs (the dataset)
    details/<key>/<table>.parquet  per-run tables (orders, shipments, ...)
    failures/<key>.json            every failed attempt of a run: error and traceback
    manifest.json                  every planned run's key, inputs and status
    sweep.yaml                     the sweep file as given
    summary.parquet, summary.csv   per case and policy: KPI means and 95% intervals
    frontier.html                  the Pareto frontier, interactive (plotly)

Every file is written to a temporary name and renamed into place (`os.replace` is atomic
on POSIX and Windows), and a run's row is written last, after its details. So a killed
sweep never leaves a half-written run counted as done; the row file *is* the commit.
The manifest is an index rebuilt from the files on every invocation.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.sweep.tasks import RunOutcome, RunTask

__all__ = [
    "ID_COLUMNS",
    "ResultStore",
    "atomic_write_bytes",
    "atomic_write_table",
    "plan_entry",
]

#: Columns that identify a run in the results table, before the override columns.
ID_COLUMNS = ["key", "sweep", "scenario", "case", "label", "policy", "replication", "seed", "days"]
TMP_PREFIX = ".tmp-"


def _tmp_name(path: Path) -> Path:
    return path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex[:8]}-{path.name}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_table(path: Path, frame: pd.DataFrame) -> None:
    """Write a DataFrame as Parquet via a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _cell(value: Any) -> Any:
    """Scalars stay as they are; lists and mappings become JSON text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


_PLANNED = {"key", "case", "label", "overrides"}


def plan_entry(task: RunTask) -> dict[str, Any]:
    """What a run is in the sweep as it stands: ``key``, ``case``, ``label``, ``overrides``."""
    return {"key": task.key, "case": task.case, "label": task.label, "overrides": task.overrides}


def _as_planned(frame: pd.DataFrame, plan: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """`frame` with each planned run's case, label and override columns as `plan` has them."""
    entries = {entry["key"]: entry for entry in plan}
    rows = [entries.get(key) for key in frame["key"]]
    if not entries or any(r is None or not r.keys() >= _PLANNED for r in rows):
        return frame  # not every run is in the plan: leave the rows as committed
    paths = list(dict.fromkeys(p for r in rows for p in r["overrides"]))
    columns = pd.DataFrame([_override_columns(r["overrides"], paths) for r in rows])
    frame["case"] = [r["case"] for r in rows]
    frame["label"] = [r["label"] for r in rows]
    for name in columns.columns:
        frame[name] = columns[name].to_numpy()
    return frame


def _override_columns(overrides: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """A run's override columns: one per path (None where it keeps the base value) and
    ``overrides``, all of them as JSON text."""
    columns = {path: _cell(overrides.get(path)) for path in paths}
    columns["overrides"] = json.dumps(overrides, sort_keys=True, default=str)
    return columns


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ResultStore:
    """Reads and writes one sweep's output folder (single writer: the driver).

    Args:
        out: The output folder; created if missing.
    """

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.runs_dir = self.out / "runs"
        self.details_dir = self.out / "details"
        self.failures_dir = self.out / "failures"
        for folder in (self.runs_dir, self.details_dir, self.failures_dir):
            folder.mkdir(parents=True, exist_ok=True)

    @property
    def scratch(self) -> Path:
        """A scratch folder for workers' spill files (ignored by git)."""
        return self.out / ".scratch"

    def clean_temporary(self) -> int:
        """Remove temporary files left by a killed writer; returns how many."""
        removed = 0
        for tmp in self.out.rglob(f"{TMP_PREFIX}*"):
            if tmp.is_file():
                tmp.unlink(missing_ok=True)
                removed += 1
        return removed

    def run_path(self, key: str) -> Path:
        """Where the row of run ``key`` lives."""
        return self.runs_dir / f"part-{key}.parquet"

    def done_keys(self) -> set[str]:
        """Keys of the runs whose row is committed."""
        return {
            p.name[len("part-") : -len(".parquet")]
            for p in self.runs_dir.glob("part-*.parquet")
            if not p.name.startswith(TMP_PREFIX)
        }

    def row(self, task: RunTask, outcome: RunOutcome, paths: Iterable[str]) -> dict[str, Any]:
        """The result row of a finished run: its inputs, KPIs and bookkeeping."""
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
        row.update(_override_columns(task.overrides, paths))
        row.update({k: float(v) for k, v in outcome.kpis.items()})
        row.update(
            {
                "elapsed_s": outcome.elapsed_s,
                "attempts": outcome.attempt,
                "worker": outcome.worker,
                "code_version": task.code_version,
                "finished_at": _now(),
            }
        )
        return row

    def commit(self, task: RunTask, outcome: RunOutcome, paths: Iterable[str]) -> None:
        """Write a finished run: details first, then its row (the commit marker)."""
        for name, frame in outcome.details.items():
            atomic_write_table(self.details_dir / task.key / f"{name}.parquet", frame)
        frame = pd.DataFrame([self.row(task, outcome, paths)])
        if frame["days"].isna().all():
            frame["days"] = frame["days"].astype("Int64")
        atomic_write_table(self.run_path(task.key), frame)

    def record_failure(self, task: RunTask, outcome: RunOutcome) -> int:
        """Append a failed attempt to ``failures/<key>.json``; returns attempts recorded."""
        path = self.failures_dir / f"{task.key}.json"
        record = self._read_json(path) or {
            "key": task.key,
            "case": task.case,
            "label": task.label,
            "policy": task.policy,
            "replication": task.replication,
            "seed": task.seed,
            "attempts": [],
        }
        record["attempts"].append(
            {
                "attempt": outcome.attempt,
                "error": outcome.error,
                "traceback": outcome.traceback,
                "worker": outcome.worker,
                "elapsed_s": outcome.elapsed_s,
                "at": _now(),
            }
        )
        atomic_write_bytes(path, json.dumps(record, indent=1).encode())
        return len(record["attempts"])

    def failures(self) -> dict[str, dict[str, Any]]:
        """Failure records by key (runs that later succeeded included)."""
        out = {}
        for path in self.failures_dir.glob("*.json"):
            record = self._read_json(path)
            if record:
                out[record["key"]] = record
        return out

    def load_runs(
        self, keys: Iterable[str] | None = None, *, plan: Sequence[Mapping[str, Any]] = ()
    ) -> pd.DataFrame:
        """The results table: one row per committed run (optionally only ``keys``).

        Args:
            keys: Runs to load; None = every committed run.
            plan: The sweep's runs as it stands now (``key``, ``case``, ``label`` and
                ``overrides`` each, as in the manifest): a run committed under an earlier,
                smaller grid takes its current case number, label and override columns.
        """
        wanted = set(keys) if keys is not None else None
        done = self.done_keys()
        chosen = sorted(done if wanted is None else done & wanted)
        if not chosen:
            return pd.DataFrame(columns=ID_COLUMNS)
        tables = [pq.read_table(self.run_path(k)) for k in chosen]
        table = pa.concat_tables(tables, promote_options="permissive")
        frame = _as_planned(table.to_pandas(), plan)
        return frame.sort_values(["case", "policy", "replication"], ignore_index=True)

    def load_details(self, key: str, name: str) -> pd.DataFrame:
        """One detail table of one run."""
        return pd.read_parquet(self.details_dir / key / f"{name}.parquet")

    def write_manifest(self, info: dict[str, Any], tasks: list[RunTask]) -> dict[str, Any]:
        """Write ``manifest.json``: sweep info, counts and every run's key and status."""
        done = self.done_keys()
        failures = self.failures()
        runs = []
        for task in tasks:
            failure = failures.get(task.key)
            if task.key in done:
                status = "done"
            elif failure:
                status = "failed"
            else:
                status = "pending"
            entry = {
                **plan_entry(task),
                "policy": task.policy,
                "replication": task.replication,
                "seed": task.seed,
                "status": status,
            }
            if failure:
                entry["failed_attempts"] = len(failure["attempts"])
                entry["last_error"] = failure["attempts"][-1]["error"]
            runs.append(entry)
        counts = {s: sum(r["status"] == s for r in runs) for s in ("done", "failed", "pending")}
        manifest = {**info, "updated": _now(), "total": len(runs), **counts, "runs": runs}
        atomic_write_bytes(
            self.out / "manifest.json", json.dumps(manifest, indent=1, default=str).encode()
        )
        return manifest

    def copy_spec(self, file: str) -> None:
        """Keep a copy of the sweep file with the results."""
        if Path(file).is_file():
            atomic_write_bytes(self.out / "sweep.yaml", Path(file).read_bytes())

    def remove_scratch(self) -> None:
        """Delete the scratch folder."""
        shutil.rmtree(self.scratch, ignore_errors=True)

    @staticmethod
    def _read_json(path: Path) -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
