"""The ``fulfil sweep`` command (also ``python -m sim.sweep``).

Exit status: 0 when every run is done, 1 when some runs still fail after their retries,
2 for bad input (one line naming the file, field and reason), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from sim.outdir import unwritable
from sim.sweep.executors import EXECUTORS, SCHEDULER_ENV
from sim.sweep.spec import SweepError

__all__ = ["add_arguments", "main", "plan_line", "sweep_command"]

DESCRIPTION = (
    "Run a grid of scenarios x policies x replications on local cores or a Dask cluster. "
    "Results stream into DIR as a Parquet dataset; rerun the same command to resume."
)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the sweep arguments to ``parser`` (used by ``fulfil sweep``)."""
    parser.add_argument("sweep_file", metavar="SWEEP.yaml", help="sweep file (see docs/sweeps.md)")
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="results folder: a new or empty folder, or this sweep's own (reused to resume); "
        "another sweep's folder, a `fulfil run` output or a folder of other files is refused",
    )
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="where runs execute (default: process; dask when --scheduler is given)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="local worker processes for process/dask LocalCluster (default: all cores)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help=f"Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: ${SCHEDULER_ENV}, "
        "else a LocalCluster)",
    )
    parser.add_argument(
        "--runner",
        default=None,
        metavar="MODULE:ATTR",
        help="advanced: run function to use instead of sim.run ('synthetic' checks the "
        "machinery and a cluster without simulating)",
    )
    parser.add_argument(
        "--plan", action="store_true", help="validate and show the plan; run nothing"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    return parser


_SCHEDULER = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?(\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+):\d+$")


def _interrupt_on_terminate() -> Any:
    """Treat SIGTERM like Ctrl-C while the sweep runs (workers are stopped, the sweep can
    resume); returns the handler to restore, None off the main thread."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, interrupt)


def _fail(message: str) -> int:
    print(f"fulfil sweep: {message}", file=sys.stderr)
    return 2


def _other_format(file: str) -> str | None:
    """What to say of a scenario or a policy rules file given as the sweep file (one line),
    or None when `file` is neither."""
    from pathlib import Path

    from sim.file_kind import file_kind
    from sim.scenario.loader import available_scenarios

    kind = file_kind(file)
    if not Path(file).exists() and file in available_scenarios():
        return (
            f"{file}: is a named scenario, not a sweep file; run it with "
            f"`fulfil run {file} --policy NAME` or name it as `scenario: {file}` in a sweep file"
        )
    if kind == "scenario":
        return (
            f"{file}: is a scenario, not a sweep file; run it with "
            f"`fulfil run {file} --policy NAME` or name it as `scenario:` in a sweep file"
        )
    if kind == "rules":
        return (
            f"{file}: is a policy rules file, not a sweep file; "
            "name it under `policies:` in a sweep file"
        )
    return None


def sweep_command(args: argparse.Namespace) -> int:
    """Run ``fulfil sweep`` with parsed arguments; returns the exit status."""
    from sim.cli import UsageError
    from sim.scenario import ScenarioError
    from sim.sweep.run import run_sweep
    from sim.sweep.spec import load_sweep
    from sim.sweep.store import OutFolderError
    from sim.sweep.tasks import resolve_runner

    executor = args.executor or ("dask" if args.scheduler else "process")
    if args.scheduler and executor != "dask":
        return _fail("--scheduler needs --executor dask")
    if not args.out.strip():
        return _fail("--out: no folder given; name a results folder")
    if args.workers is not None and args.workers < 1:
        return _fail("--workers must be at least 1")
    given = ("--scheduler", args.scheduler) if args.scheduler else (
        f"${SCHEDULER_ENV}", os.environ.get(SCHEDULER_ENV) if executor == "dask" else None
    )  # fmt: skip
    if given[1] and not _SCHEDULER.match(given[1]):
        return _fail(f"{given[0]}: expected an address like tcp://HOST:PORT, got {given[1]!r}")
    try:
        sweep = load_sweep(args.sweep_file)
    except (SweepError, ScenarioError) as exc:
        print(_other_format(args.sweep_file) or str(exc), file=sys.stderr)
        return 2
    try:
        resolve_runner(args.runner)  # before --plan and before --out is created
    except UsageError as exc:
        return _fail(str(exc))
    if args.plan:
        problem = unwritable(args.out, create=False)  # as a run checks it, creating nothing
        if problem:
            return _fail(f"--out {args.out}: {problem}")
        try:
            return _plan(sweep, args)
        except OutFolderError as exc:
            return _fail(f"--out {args.out}: {exc.reason}")
    problem = unwritable(args.out)
    if problem:
        return _fail(f"--out {args.out}: {problem}")
    previous = _interrupt_on_terminate()
    try:
        report = run_sweep(
            sweep,
            args.out,
            executor=executor,
            workers=args.workers,
            scheduler=args.scheduler,
            runner=args.runner,
            progress=not args.no_progress and sys.stderr.isatty(),
        )
    except KeyboardInterrupt:
        print(
            f"interrupted; run the same command to finish the sweep in {args.out}", file=sys.stderr
        )
        return 130
    except (OSError, TimeoutError) as exc:
        return _fail(" ".join(f"{type(exc).__name__}: {exc}".split()))
    except UsageError as exc:  # e.g. --runner (also checked above)
        return _fail(str(exc))
    except OutFolderError as exc:
        return _fail(f"--out {args.out}: {exc.reason}")
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    outcome = {
        "sweep": sweep.spec.name,
        "out": str(report.out),
        "total": report.total,
        "skipped": report.skipped,
        "ran": report.ran,
        "failed": report.failed,
        "elapsed_s": round(report.elapsed_s, 3),
        "runs_per_s": round(report.runs_per_s, 3) if report.ran else None,
        "executor": report.executor,
        "failures": report.failures,
    }
    if args.json:
        print(json.dumps(outcome, indent=1))
    else:
        print(
            f"{sweep.spec.name}: {report.skipped + report.ran}/{report.total} runs done "
            f"(ran {report.ran}, already done {report.skipped}, failing {report.failed}) "
            f"in {report.elapsed_s:.1f} s on {report.executor}"
        )
        front = report.summary[report.summary.get("on_frontier", False) == True]  # noqa: E712
        if not front.empty:
            cols = ["label", "policy", "cost_per_order", "click_to_door_hours_p90", "stockout_rate"]
            print("Pareto frontier (all minimised):")
            print(front[cols].sort_values("cost_per_order").to_string(index=False))
        written = [
            f"{what}: {report.out}/{name}"
            for what, name in (
                ("results", "runs"),
                ("summary", "summary.csv"),
                ("frontier", "frontier.html"),
            )
            if what == "results" or (report.out / name).is_file()
        ]
        print("  ".join(written))
        for run in report.failed_runs:
            print(
                f"failed {run['key']} (case {run['case']} [{run['label']}], policy "
                f"{run['policy']}, replication {run['replication']}): {run['error']}",
                file=sys.stderr,
            )
    return 0 if report.failed == 0 else 1


def _plan(sweep: Any, args: argparse.Namespace) -> int:
    """``--plan``: what is done and what is left in ``--out``, writing nothing.

    Raises:
        OutFolderError: the folder holds another sweep or another runner's results, or
            other files and no sweep's.
    """
    from sim.sweep.store import ResultStore
    from sim.sweep.tasks import code_version, expand, runner_identity

    tasks = expand(sweep, runner=args.runner)
    store = ResultStore(args.out, create=False)
    store.check_owner(sweep.spec.name, runner_identity(args.runner))
    todo, missing = store.to_run(tasks, sweep.spec.details)  # as a run would decide
    left = len(todo)
    others = store.done_keys() - {t.key for t in tasks}
    versions = store.code_versions(others)
    plan = {
        "sweep": sweep.spec.name,
        "out": str(args.out),
        "cases": len(sweep.cases),
        "policies": len(sweep.spec.policies),
        "replications": sweep.spec.replications,
        "total": len(tasks),
        "done": len(tasks) - left,
        "to_run": left,
        "not_in_plan": len(others),
    }
    if args.json:
        print(json.dumps(plan, indent=1))
        return 0
    print(f"{sweep.spec.name}: {plan_line(sweep)}; {len(tasks) - left} done, {left} to run")
    if others:
        here = code_version()
        old = sorted(v for v in versions if v != here)
        why = (
            f"made by another code version ({', '.join(old)}; this code is {here})"
            if old
            else "of other settings (days, seed or cases no longer in the grid)"
        )
        print(
            f"{args.out}/runs holds {len(others)} runs not in this plan, {why}; "
            "a run sets them aside in set_aside/"
        )
    if missing:
        print(f"{len(missing)} done runs lack detail tables asked for since; a run redoes them")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.sweep SWEEP.yaml --out DIR ...``: exactly ``fulfil sweep ...``."""
    from sim.cli import main as fulfil

    return fulfil(["sweep", *(sys.argv[1:] if argv is None else argv)])


def plan_line(sweep: Any) -> str:
    """``3 cases x 2 policies x 5 replications = 30 runs`` of a loaded sweep."""
    spec = sweep.spec
    runs = len(sweep.cases) * len(spec.policies) * spec.replications
    return (
        f"{len(sweep.cases)} cases x {len(spec.policies)} policies x {spec.replications} "
        f"replications = {runs} runs"
    )
