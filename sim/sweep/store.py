"""The sweep's output folder: a Parquet dataset of runs, detail tables, failures, manifest.

Layout of ``OUT/``::

    runs/part-<key>.parquet        one row per finished run of the plan (the dataset;
                                   one schema for every file, see `sim.sweep.rows`)
    details/<key>/<table>.parquet  per-run tables (orders, shipments, ...)
    failures/<key>.json            every failed attempt of a run: error and traceback
    manifest.json                  every planned run's key, inputs and status
    sweep.yaml                     the sweep file as given
    summary.parquet, summary.csv   per case and policy: KPI means and 95% half-widths
    frontier.html                  the Pareto frontier, interactive (plotly)
    set_aside/runs, set_aside/details   finished runs not in the current plan
    .lock                          held (flock) by the process writing the folder

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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.outdir import entries, listed, run_output
from sim.sweep.rows import ID_COLUMNS, RowLayout, outcome_columns
from sim.sweep.tasks import SYNTHETIC, RunOutcome, RunTask

try:  # POSIX; elsewhere two sweeps on one folder are not kept apart
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "OutFolderError",
    "ResultStore",
    "atomic_write_bytes",
    "atomic_write_table",
    "plan_entry",
]

TMP_PREFIX = ".tmp-"
#: Where rows of runs that are not in the current plan are kept, out of ``runs/``.
SET_ASIDE = "set_aside"
#: The names a sweep writes at the top of its folder (the layout above).
LAYOUT = frozenset(
    {
        "runs",
        "details",
        "failures",
        "manifest.json",
        "sweep.yaml",
        "summary.parquet",
        "summary.csv",
        "frontier.html",
        SET_ASIDE,
        ".lock",
        ".scratch",
    }
)


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


def atomic_write_table(path: Path, frame: pd.DataFrame | pa.Table) -> None:
    """Write a DataFrame or an Arrow table as Parquet via a temporary file and an atomic
    rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    table = (
        frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    )
    pq.write_table(table, tmp)
    os.replace(tmp, path)


class OutFolderError(Exception):
    """The output folder cannot take this sweep; ``str()`` is one line ``OUT: reason``.

    Attributes:
        out: The output folder.
        reason: Why, and what to do.
    """

    def __init__(self, out: str | Path, reason: str) -> None:
        self.out, self.reason = str(out), reason
        super().__init__(f"{self.out}: {reason}")


def describe_runner(runner: str | None) -> str:
    """How a `runner_identity` reads in messages."""
    if runner is None:
        return "the simulation"
    if runner == SYNTHETIC:
        return "--runner synthetic"
    return f"--runner {runner}"


def plan_entry(task: RunTask) -> dict[str, Any]:
    """What a run is in the sweep as it stands: ``key``, ``case``, ``label``, ``overrides``."""
    return {"key": task.key, "case": task.case, "label": task.label, "overrides": task.overrides}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ResultStore:
    """Reads and writes one sweep's output folder (single writer: the driver, which holds
    `lock` while it writes).

    Args:
        out: The output folder.
        create: Create the folder and its subfolders when missing (False: only read).
    """

    def __init__(self, out: str | Path, *, create: bool = True) -> None:
        self.out = Path(out)
        self.runs_dir = self.out / "runs"
        self.details_dir = self.out / "details"
        self.failures_dir = self.out / "failures"
        self.aside_dir = self.out / SET_ASIDE
        if create:
            for folder in (self.runs_dir, self.details_dir, self.failures_dir):
                folder.mkdir(parents=True, exist_ok=True)

    @property
    def scratch(self) -> Path:
        """A scratch folder for workers' spill files (ignored by git)."""
        return self.out / ".scratch"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder for this process (an exclusive `fcntl.flock` on ``OUT/.lock``,
        released when the process ends, however it ends).

        Raises:
            OutFolderError: another process holds it.
        """
        if fcntl is None:  # pragma: no cover - Windows
            yield
            return
        with open(self.out / ".lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                pid = fh.read().strip() or "?"
                raise OutFolderError(
                    self.out,
                    f"another sweep is writing here (pid {pid}); wait for it to finish "
                    "or use another --out",
                ) from None
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def owner(self) -> tuple[str, str | None] | None:
        """``(sweep name, runner identity)`` of the sweep whose results the folder holds
        (from its manifest, else from a row), or None when it holds none. The runner is
        ``"?"`` when the folder does not say (written before it was recorded)."""
        manifest = self._read_json(self.out / "manifest.json")
        if manifest and isinstance(manifest.get("sweep"), str):
            return manifest["sweep"], manifest.get("runner", "?")
        for path in (*self._row_files(self.runs_dir), *self._row_files(self.aside_dir)):
            try:
                name = pq.read_table(path, columns=["sweep"]).column(0)[0].as_py()
            except (OSError, ValueError, KeyError, IndexError, pa.ArrowException):
                continue
            return str(name), "?"
        return None

    def foreign(self) -> list[str]:
        """The names at the top of the folder that are not a sweep's (sorted)."""
        return [n for n in entries(self.out) if n not in LAYOUT and not n.startswith(TMP_PREFIX)]

    def check_owner(self, sweep: str, runner: str | None) -> None:
        """Refuse a folder that holds another sweep's results, or results of another runner,
        or, holding no sweep's results, holds other files (a run's output, anything else).

        Raises:
            OutFolderError: naming the sweep and runner the folder holds, or what else.
        """
        found = self.owner()
        if found is None:
            self._refuse_other_files()
            return
        name, made_by = found
        if name != sweep:
            reason = f"holds sweep {name!r}, not {sweep!r}"
        elif made_by not in ("?", runner):
            reason = (
                f"holds sweep {name!r} run with {describe_runner(made_by)}, "
                f"not with {describe_runner(runner)}"
            )
        else:
            return
        raise OutFolderError(self.out, f"{reason}; use another --out or delete it")

    def _refuse_other_files(self) -> None:
        """Refuse a folder with no sweep's results that holds anything but a sweep's own
        (empty) layout, so that a sweep never mixes its files with others."""
        others = self.foreign()
        if not others:
            return
        if run_output(self.out):
            reason = "holds the output of `fulfil run`, not a sweep's results"
        else:
            reason = f"holds files that are not a sweep's results ({listed(others)})"
        raise OutFolderError(self.out, f"{reason}; use a new or empty folder")

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

    @staticmethod
    def _row_files(folder: Path) -> list[Path]:
        return [
            p for p in sorted(folder.glob("part-*.parquet")) if not p.name.startswith(TMP_PREFIX)
        ]

    @staticmethod
    def _key(path: Path) -> str:
        return path.name[len("part-") : -len(".parquet")]

    def done_keys(self) -> set[str]:
        """Keys of the runs whose row is committed in ``runs/``."""
        return {self._key(p) for p in self._row_files(self.runs_dir)}

    def code_versions(self, keys: Iterable[str]) -> set[str]:
        """The code versions that made the runs ``keys`` (from their rows)."""
        found = set()
        for key in keys:
            try:
                table = pq.read_table(self.run_path(key), columns=["code_version"])
            except (OSError, KeyError, pa.ArrowException):
                continue
            found.update(str(v) for v in table.column(0).to_pylist())
        return found

    def set_aside_keys(self) -> set[str]:
        """Keys of the finished runs kept in ``set_aside/`` (not in the plan they last saw)."""
        return {self._key(p) for p in self._row_files(self.aside_dir / "runs")}

    def commit(
        self, task: RunTask, outcome: RunOutcome, layout: RowLayout, details: Sequence[str] = ()
    ) -> None:
        """Write a finished run: details first, then its row (the commit marker).

        Args:
            task: The run.
            outcome: Its successful outcome.
            layout: The plan's row layout.
            details: The detail tables the sweep asks for; those the runner did not return
                are noted, so that `to_run` does not ask for them again.
        """
        for name, frame in outcome.details.items():
            atomic_write_table(self.details_dir / task.key / f"{name}.parquet", frame)
        absent = [n for n in details if n not in outcome.details]
        if absent:  # asked for, but the runner has no such table: not to be asked again
            atomic_write_bytes(
                self.details_dir / task.key / "absent.json", json.dumps(absent).encode()
            )
        atomic_write_table(
            self.run_path(task.key), layout.table(task, outcome_columns(task, outcome, _now()))
        )

    def to_run(
        self, tasks: Sequence[RunTask], details: Sequence[str]
    ) -> tuple[list[RunTask], dict[str, list[str]]]:
        """The runs of ``tasks`` a sweep here runs, and which of them are finished but lack
        one of the ``details`` tables (the sweep's ``details`` grew since they ran).

        A run is finished when its row is in ``runs/`` or, as `conform` takes it back, in
        ``set_aside/``; its details are read where `conform` leaves them. So the answer is
        the same before `conform` (``fulfil sweep --plan``, which writes nothing) as after
        it (the sweep itself).

        Returns:
            ``(to run, lacking)``: the runs to run, in ``tasks`` order (those not finished,
            and the finished ones that lack a table); key -> the tables missing.
        """
        done, aside = self.done_keys(), self.set_aside_keys()
        todo, lacking = [], {}
        for task in tasks:
            if task.key not in done and task.key not in aside:
                todo.append(task)
                continue
            folder = self.details_dir / task.key
            if task.key in aside and (self.aside_dir / "details" / task.key).is_dir():
                folder = self.aside_dir / "details" / task.key  # what `conform` brings back
            missing = [name for name in details if not (folder / f"{name}.parquet").is_file()]
            if missing:
                absent = self._read_json_list(folder / "absent.json")
                missing = [name for name in missing if name not in absent]
            if missing:
                todo.append(task)
                lacking[task.key] = missing
        return todo, lacking

    def conform(self, tasks: list[RunTask], layout: RowLayout) -> tuple[int, int]:
        """Make ``runs/`` hold exactly the finished runs of this plan, each row as the plan
        has it (case number, label and lever columns in ``layout``'s schema).

        A row of a run that is not in the plan (another code version, ``days`` or ``seed``,
        or a case no longer in the grid) moves with its details to ``set_aside/``; a row
        there that is in the plan again moves back. Rows are rewritten only when the plan
        changed since the manifest was written.

        Returns:
            ``(set aside, taken back)`` numbers of runs.
        """
        planned = {task.key: task for task in tasks}
        aside = 0
        for key in self.done_keys() - planned.keys():
            self._move(key, self.runs_dir, self.details_dir, self.aside_dir)
            aside += 1
        back = 0
        for key in self.set_aside_keys() & planned.keys():
            self._move(key, self.aside_dir / "runs", self.aside_dir / "details", self.out)
            back += 1
        manifest = self._read_json(self.out / "manifest.json") or {}
        before = (
            {r.get("key"): r for r in manifest.get("runs", []) if isinstance(r, dict)}
            if manifest.get("row_layout") == layout.describe()
            else {}
        )
        for key in sorted(self.done_keys()):
            task = planned[key]
            entry = before.get(key)
            if entry and all(entry.get(k) == v for k, v in plan_entry(task).items()):
                continue
            old = pq.read_table(self.run_path(key)).to_pylist()[0]
            names = list(old)
            outcome = names[names.index("overrides") + 1 :] if "overrides" in names else []
            atomic_write_table(
                self.run_path(task.key), layout.table(task, {name: old[name] for name in outcome})
            )
        return aside, back

    def _move(self, key: str, runs_from: Path, details_from: Path, to: Path) -> None:
        """Move run ``key``'s row and details from one place to another: into ``to/runs`` and
        ``to/details``; the row leaves first and arrives last (it marks the run done)."""
        row = runs_from / f"part-{key}.parquet"
        details = details_from / key
        (to / "runs").mkdir(parents=True, exist_ok=True)
        (to / "details").mkdir(parents=True, exist_ok=True)
        leaving_runs = runs_from == self.runs_dir
        if leaving_runs:
            os.replace(row, to / "runs" / row.name)
        if details.is_dir():
            target = to / "details" / key
            shutil.rmtree(target, ignore_errors=True)
            os.replace(details, target)
        if not leaving_runs:
            os.replace(row, to / "runs" / row.name)

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

    def load_runs(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """The results table: one row per committed run (optionally only ``keys``)."""
        wanted = set(keys) if keys is not None else None
        done = self.done_keys()
        chosen = sorted(done if wanted is None else done & wanted)
        if not chosen:
            return pd.DataFrame(columns=ID_COLUMNS)
        tables = [pq.read_table(self.run_path(k)) for k in chosen]
        table = pa.concat_tables(tables, promote_options="permissive")
        return table.to_pandas().sort_values(["case", "policy", "replication"], ignore_index=True)

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

    @classmethod
    def _read_json_list(cls, path: Path) -> list[Any]:
        found = cls._read_json(path)
        return found if isinstance(found, list) else []

    @staticmethod
    def _read_json(path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
