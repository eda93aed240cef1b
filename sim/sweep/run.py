"""Run a sweep: validate, expand, skip what is done, execute the rest, summarise.

Resuming is by key: a run whose row is in ``OUT/runs/`` is done and never runs again, so
the same command after Ctrl-C, a kill or a crashed worker finishes only the missing runs.
A failing run is recorded in ``OUT/failures/`` and retried up to ``max_retries`` times in
the same invocation while the other runs go on. Before anything runs, the folder is locked
for this process, refused when it holds another sweep, and brought in line with the plan
(`ResultStore.conform`).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm  # text bar: tqdm.auto warns in notebooks without ipywidgets

from sim.sweep.executors import Executor, SerialExecutor, make_executor
from sim.sweep.frontier import OBJECTIVES, summarise, write_frontier_html
from sim.sweep.rows import RowLayout
from sim.sweep.spec import Loader, Sweep, load_sweep
from sim.sweep.store import (
    OutFolderError,
    ResultStore,
    atomic_write_bytes,
    atomic_write_table,
)
from sim.sweep.tasks import (
    Runner,
    RunOutcome,
    RunTask,
    code_version,
    execute,
    expand,
    resolve_runner,
    runner_identity,
)

__all__ = ["SweepReport", "run_sweep"]


@dataclass
class SweepReport:
    """What a sweep invocation did.

    Attributes:
        out: The output folder.
        total: Runs in the sweep. [runs]
        skipped: Runs already done before this invocation. [runs]
        ran: Runs finished by this invocation. [runs]
        failed: Runs still failing after their retries. [runs]
        attempts: Attempts made by this invocation, retries included. [attempts]
        elapsed_s: Wall time of the execution phase, starting workers included. [s]
        executor: Where the runs went.
        summary: Per case x policy table (`summarise`).
        failed_runs: The runs still failing: key, case, label, policy, replication, error
            (`failures`: key -> error).
        notes: What this invocation changed in the folder besides running (one line each).
    """

    out: Path
    total: int
    skipped: int
    ran: int
    failed: int
    attempts: int
    elapsed_s: float
    executor: str
    summary: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    failed_runs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> dict[str, str]:
        """Key -> last error of the runs still failing."""
        return {run["key"]: run["error"] for run in self.failed_runs}

    @property
    def runs_per_s(self) -> float:
        """Throughput of this invocation. [runs/s]"""
        return self.ran / self.elapsed_s if self.elapsed_s > 0 else float("nan")

    @property
    def complete(self) -> bool:
        """True when every run of the sweep is done."""
        return self.skipped + self.ran == self.total


def _info(sweep: Sweep, executor: str, runner: str | None, layout: RowLayout) -> dict[str, Any]:
    return {
        "sweep": sweep.spec.name,
        "runner": runner,
        "file": sweep.file,
        "spec": sweep.spec.model_dump(mode="json"),
        "seed": sweep.seed,
        "cases": len(sweep.cases),
        "code_version": code_version(),
        "executor": executor,
        "row_layout": layout.describe(),
    }


def run_sweep(
    sweep: str | Path | Mapping[str, Any] | Sweep,
    out: str | Path,
    *,
    executor: str | Executor = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    runner: str | Runner | None = None,
    progress: bool = True,
    dask_processes: bool = True,
    loader: Loader | None = None,
    manifest_every_s: float = 5.0,
) -> SweepReport:
    """Run every missing run of a sweep and write its results, summary and frontier.

    Notes about the folder (runs set aside because they are not in the plan, finished runs
    that run again for detail tables asked for since) are printed on stderr, one line each,
    and kept in `SweepReport.notes`.

    Args:
        sweep: A sweep file, its content as a dict, or a loaded `Sweep`.
        out: Output folder (created; reused to resume).
        executor: ``serial``, ``process``, ``dask``, or an `Executor` instance.
        workers: Local worker processes (process pool or LocalCluster); default all cores.
        scheduler: Dask scheduler address (``tcp://HOST:PORT``) for ``dask``; default
            ``DASK_SCHEDULER_ADDRESS``, else a LocalCluster.
        runner: The run function, ``"module:attr"`` or ``"synthetic"``; default `sim.run`.
        progress: Show a progress bar with ETA (on stderr).
        dask_processes: LocalCluster workers as processes (True) or threads.
        loader: Scenario loader for validation (tests); default `sim.load_scenario`.
        manifest_every_s: Least time between manifest rewrites while running. [s]

    Returns:
        A `SweepReport`.

    Raises:
        SweepError: the sweep file is invalid (nothing has run).
        sim.cli.UsageError: ``runner`` names nothing callable (nothing has run).
        OutFolderError: ``out`` is empty, holds another sweep or another runner's results
            or, holding no sweep's, other files, or another process is writing there
            (nothing has run).
    """
    if not str(out).strip():
        raise OutFolderError(out, "no folder given; name a results folder")
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep, loader=loader)
    run_fn = resolve_runner(runner)
    tasks = expand(sweep, runner=runner)
    ResultStore(out, create=False).check_owner(sweep.spec.name, runner_identity(runner))
    store = ResultStore(out)  # checked before anything is created in it, and again held
    with store.lock():
        store.check_owner(sweep.spec.name, runner_identity(runner))
        return _run_held(
            sweep, store, tasks, run_fn, runner, executor, progress, manifest_every_s,
            {"workers": workers, "scheduler": scheduler, "dask_processes": dask_processes},
        )  # fmt: skip


def _prepare(
    store: ResultStore, sweep: Sweep, tasks: list[RunTask], layout: RowLayout
) -> tuple[list[RunTask], list[str]]:
    """Bring the folder in line with the plan; returns the runs to do and notes on what
    changed (one line each)."""
    store.clean_temporary()
    aside, back = store.conform(tasks, layout)
    store.copy_spec(sweep.file)
    notes = []
    if aside:
        notes.append(
            f"set aside {aside} finished runs that are not in this sweep's plan (another code "
            f"version, days, seed or grid) in {store.aside_dir}"
        )
    if back:
        notes.append(f"took back {back} finished runs of this plan from {store.aside_dir}")
    todo, missing = store.to_run(tasks, sweep.spec.details)
    if missing:
        tables = sorted({name for names in missing.values() for name in names})
        notes.append(
            f"{len(missing)} finished runs lack the detail tables {', '.join(tables)} "
            "(asked for since they ran); they run again"
        )
    return todo, notes


def _run_held(
    sweep: Sweep,
    store: ResultStore,
    tasks: list[RunTask],
    run_fn: Runner,
    runner: str | Runner | None,
    executor: str | Executor,
    progress: bool,
    manifest_every_s: float,
    options: dict[str, Any],
) -> SweepReport:
    """`run_sweep` once the folder is held."""
    layout = RowLayout.of(tasks)
    todo, notes = _prepare(store, sweep, tasks, layout)
    for note in notes:
        print(f"{store.out}: {note}", file=sys.stderr)
    name = executor if isinstance(executor, str) else executor.name
    info = _info(sweep, name, runner_identity(runner), layout)
    store.write_manifest(info, tasks)

    start = time.perf_counter()  # the execution phase, worker start-up included
    owned = isinstance(executor, str)
    ex: Executor | None = None
    loop = _Loop(store, tasks, info, run_fn, sweep, layout, manifest_every_s)
    bar = tqdm(
        total=len(tasks),
        initial=len(tasks) - len(todo),
        unit="run",
        disable=not progress,
        desc=sweep.spec.name,
        dynamic_ncols=True,
    )
    try:
        if not todo:  # nothing to run: do not start workers
            ex = SerialExecutor()
        elif isinstance(executor, str):
            ex = make_executor(executor, scratch=store.scratch, **options)
        else:
            ex = executor
        described = ex.describe() if todo else name
        loop.drive(ex, todo, bar)
    finally:
        elapsed = time.perf_counter() - start
        bar.close()
        if owned:
            if ex is not None:
                ex.close()
            store.remove_scratch()
        store.write_manifest(info, tasks)
    summary = _write_summary(store, tasks)
    by_key = {t.key: t for t in tasks}
    return SweepReport(
        out=store.out,
        total=len(tasks),
        skipped=len(tasks) - len(todo),
        ran=loop.ran,
        failed=len(loop.failing),
        attempts=loop.attempts,
        elapsed_s=elapsed,
        executor=described,
        summary=summary,
        failed_runs=[
            {**_run_id(by_key[key]), "error": error} for key, error in loop.failing.items()
        ],
        notes=notes,
    )


def _run_id(task: RunTask) -> dict[str, Any]:
    return {
        "key": task.key,
        "case": task.case,
        "label": task.label,
        "policy": task.policy,
        "replication": task.replication,
    }


@dataclass
class _Loop:
    """Keeps ``slots`` runs in flight, commits results, retries failures.

    When a worker is lost (a crashed process breaks the whole pool), every run in flight
    fails with it and none can be blamed, so they run again one at a time without being
    charged an attempt; a run that loses its worker while running alone is charged.
    """

    store: ResultStore
    tasks: list[RunTask]
    info: dict[str, Any]
    runner: Runner
    sweep: Sweep
    layout: RowLayout
    manifest_every_s: float
    ran: int = 0
    attempts: int = 0
    failing: dict[str, str] = field(default_factory=dict)

    def drive(self, ex: Executor, todo: list[RunTask], bar: tqdm) -> None:
        """Run ``todo`` on ``ex`` until every task is done or out of attempts."""
        details = tuple(self.sweep.spec.details)
        max_attempts = 1 + self.sweep.spec.max_retries
        pending: deque[tuple[RunTask, int]] = deque((t, 1) for t in todo)
        suspects: deque[tuple[RunTask, int]] = deque()  # in flight when a worker was lost
        inflight: dict[Any, tuple[RunTask, int, bool]] = {}  # handle -> task, attempt, alone
        last_manifest = time.monotonic()

        def submit(task: RunTask, attempt: int, alone: bool) -> None:
            handle = ex.submit(execute, task, self.runner, details, attempt)
            inflight[handle] = (task, attempt, alone)
            self.attempts += 1

        try:
            while pending or suspects or inflight:
                if not any(alone for _, _, alone in inflight.values()):
                    if suspects:
                        if not inflight:  # alone, so that a lost worker is its own doing
                            submit(*suspects.popleft(), alone=True)
                    else:
                        slots = ex.slots
                        while pending and len(inflight) < slots:
                            submit(*pending.popleft(), alone=False)
                for handle in ex.wait(inflight):
                    task, attempt, alone = inflight.pop(handle)
                    outcome, lost = _outcome(ex, handle, task, attempt)
                    if outcome.ok:
                        self.store.commit(task, outcome, self.layout, details)
                        self.failing.pop(task.key, None)
                        self.ran += 1
                        bar.update(1)
                        continue
                    if lost and not alone:  # not charged: run it again, alone
                        suspects.append((task, attempt))
                        continue
                    self.store.record_failure(task, outcome)
                    if attempt < max_attempts:
                        (suspects if lost else pending).append((task, attempt + 1))
                    else:
                        self.failing[task.key] = outcome.error
                    bar.set_postfix(failed=len(self.failing), refresh=False)
                if time.monotonic() - last_manifest > self.manifest_every_s:
                    self.store.write_manifest(self.info, self.tasks)
                    last_manifest = time.monotonic()
        except KeyboardInterrupt:
            ex.cancel(inflight)
            raise


def _write_summary(store: ResultStore, tasks: list[RunTask]) -> pd.DataFrame:
    """Write summary.parquet/.csv and frontier.html for the sweep's current runs."""
    summary = summarise(store.load_runs([t.key for t in tasks]))
    if not summary.empty:
        atomic_write_table(store.out / "summary.parquet", summary)
        atomic_write_bytes(store.out / "summary.csv", summary.to_csv(index=False).encode())
        if set(OBJECTIVES) <= set(summary):
            write_frontier_html(summary, store.out / "frontier.html")
    return summary


def _outcome(ex: Executor, handle: Any, task: RunTask, attempt: int) -> tuple[RunOutcome, bool]:
    """The worker's outcome, and whether the worker itself was lost (then the outcome is a
    failed one made here)."""
    try:
        return ex.result(handle), False
    except Exception as exc:  # noqa: BLE001 - a lost worker fails this attempt only
        error = " ".join(f"worker lost: {type(exc).__name__}: {exc}".split())[:500]
        return RunOutcome(key=task.key, ok=False, error=error, attempt=attempt), True
