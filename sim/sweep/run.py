"""Run a sweep: validate, expand, skip what is done, execute the rest, summarise.

Resuming is by key: a run whose row is in ``OUT/runs/`` is done and never runs again, so
the same command after Ctrl-C, a kill or a crashed worker finishes only the missing runs.
A failing run is recorded in ``OUT/failures/`` and retried up to ``max_retries`` times in
the same invocation while the other runs go on.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from sim.sweep.executors import Executor, SerialExecutor, make_executor
from sim.sweep.frontier import OBJECTIVES, summarise, write_frontier_html
from sim.sweep.spec import Loader, Sweep, load_sweep
from sim.sweep.store import ResultStore, atomic_write_bytes, atomic_write_table, plan_entry
from sim.sweep.tasks import (
    Runner,
    RunOutcome,
    RunTask,
    code_version,
    execute,
    expand,
    resolve_runner,
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
        failures: Key -> last error of the runs still failing.
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
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def runs_per_s(self) -> float:
        """Throughput of this invocation. [runs/s]"""
        return self.ran / self.elapsed_s if self.elapsed_s > 0 else float("nan")

    @property
    def complete(self) -> bool:
        """True when every run of the sweep is done."""
        return self.skipped + self.ran == self.total


def _info(sweep: Sweep, executor: str) -> dict[str, Any]:
    return {
        "sweep": sweep.spec.name,
        "file": sweep.file,
        "spec": sweep.spec.model_dump(mode="json"),
        "seed": sweep.seed,
        "cases": len(sweep.cases),
        "code_version": code_version(),
        "executor": executor,
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
    """
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep, loader=loader)
    run_fn = resolve_runner(runner)
    tasks = expand(sweep, runner=runner)
    store = ResultStore(out)
    store.clean_temporary()
    store.copy_spec(sweep.file)
    done = store.done_keys()
    todo = [t for t in tasks if t.key not in done]
    name = executor if isinstance(executor, str) else executor.name
    info = _info(sweep, name)
    store.write_manifest(info, tasks)

    start = time.perf_counter()  # the execution phase, worker start-up included
    owned = isinstance(executor, str)
    if not todo:  # nothing to run: do not start workers
        ex: Executor = SerialExecutor()
    elif isinstance(executor, str):
        ex = make_executor(
            executor,
            workers=workers,
            scheduler=scheduler,
            scratch=store.scratch,
            dask_processes=dask_processes,
        )
    else:
        ex = executor
    described = ex.describe() if todo else name
    loop = _Loop(store, tasks, info, run_fn, sweep, manifest_every_s)
    bar = tqdm(
        total=len(tasks),
        initial=len(tasks) - len(todo),
        unit="run",
        disable=not progress,
        desc=sweep.spec.name,
        dynamic_ncols=True,
    )
    try:
        loop.drive(ex, todo, bar)
    finally:
        elapsed = time.perf_counter() - start
        bar.close()
        if owned:
            ex.close()
            store.remove_scratch()
        store.write_manifest(info, tasks)
    summary = _write_summary(store, tasks)
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
        failures=loop.failing,
    )


@dataclass
class _Loop:
    """Keeps ``slots`` runs in flight, commits results, retries failures."""

    store: ResultStore
    tasks: list[RunTask]
    info: dict[str, Any]
    runner: Runner
    sweep: Sweep
    manifest_every_s: float
    ran: int = 0
    attempts: int = 0
    failing: dict[str, str] = field(default_factory=dict)

    def drive(self, ex: Executor, todo: list[RunTask], bar: tqdm) -> None:
        """Run ``todo`` on ``ex`` until every task is done or out of attempts."""
        paths, details = self.sweep.paths, tuple(self.sweep.spec.details)
        max_attempts = 1 + self.sweep.spec.max_retries
        pending: deque[tuple[RunTask, int]] = deque((t, 1) for t in todo)
        inflight: dict[Any, tuple[RunTask, int]] = {}
        last_manifest = time.monotonic()
        try:
            while pending or inflight:
                slots = ex.slots
                while pending and len(inflight) < slots:
                    task, attempt = pending.popleft()
                    handle = ex.submit(execute, task, self.runner, details, attempt)
                    inflight[handle] = (task, attempt)
                    self.attempts += 1
                for handle in ex.wait(inflight):
                    task, attempt = inflight.pop(handle)
                    outcome = _outcome(ex, handle, task, attempt)
                    if outcome.ok:
                        self.store.commit(task, outcome, paths)
                        self.failing.pop(task.key, None)
                        self.ran += 1
                        bar.update(1)
                        continue
                    self.store.record_failure(task, outcome)
                    if attempt < max_attempts:
                        pending.append((task, attempt + 1))
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
    summary = summarise(
        store.load_runs([t.key for t in tasks], plan=[plan_entry(t) for t in tasks])
    )
    if not summary.empty:
        atomic_write_table(store.out / "summary.parquet", summary)
        atomic_write_bytes(store.out / "summary.csv", summary.to_csv(index=False).encode())
        if set(OBJECTIVES) <= set(summary):
            write_frontier_html(summary, store.out / "frontier.html")
    return summary


def _outcome(ex: Executor, handle: Any, task: RunTask, attempt: int) -> RunOutcome:
    """The worker's outcome, or a failed one when the worker itself was lost."""
    try:
        return ex.result(handle)
    except Exception as exc:  # noqa: BLE001 - a lost worker fails this attempt only
        error = " ".join(f"worker lost: {type(exc).__name__}: {exc}".split())[:500]
        return RunOutcome(key=task.key, ok=False, error=error, attempt=attempt)
