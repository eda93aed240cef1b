"""Run tasks: one independent simulation run per case x policy x replication.

Each task carries everything a worker needs (the resolved scenario as plain data), so a
worker on another machine needs the code but not the sweep's files. Its key is a hash of
the resolved scenario, the policy, the seed, the replication, the run length and the code
version: the same key means the same result, which is what makes resuming safe.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import socket
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from engine.routing.rules import policy_file_digest
from sim.sweep.spec import Sweep

__all__ = [
    "RunOutcome",
    "SYNTHETIC",
    "RunTask",
    "Runner",
    "code_version",
    "execute",
    "expand",
    "resolve_runner",
    "runner_identity",
    "simulation_runner",
    "task_key",
]

#: ``runner(scenario_data, policy, seed, *, days, replication) -> result`` where the result
#: has ``.kpis`` (dict of floats) and DataFrame attributes named like the detail tables.
Runner = Callable[..., Any]
PACKAGE = "fulfil-workbench"
#: `runner_identity` of ``--runner synthetic``.
SYNTHETIC = "sim.sweep.synthetic:SyntheticRunner"
CODE_VERSION_ENV = "FULFIL_CODE_VERSION"


@dataclass(frozen=True)
class RunTask:
    """One run of the sweep.

    Attributes:
        key: Content hash identifying the run and its result (20 hex digits).
        case: Index of the case in the sweep.
        label: The case's short label.
        overrides: The case's dotted-path overrides.
        policy: Routing policy name.
        seed: Base seed (common to all policies, for common random numbers).
        replication: Replication index; `run` spawns its stream from the seed. [0..]
        days: Run length, or None for the scenario's horizon. [days]
        scenario: The resolved scenario as plain data.
        sweep: Name of the sweep.
        code_version: Version of the code that must run it.
    """

    key: str
    case: int
    label: str
    overrides: dict[str, Any]
    policy: str
    seed: int
    replication: int
    days: int | None
    scenario: dict[str, Any] = field(repr=False)
    sweep: str = ""
    code_version: str = ""

    @property
    def scenario_name(self) -> str:
        """The base scenario's name."""
        return str(self.scenario.get("name", ""))


@dataclass
class RunOutcome:
    """What a worker sends back for one attempt of a task.

    Attributes:
        key: The task key.
        ok: True when the run finished.
        kpis: KPI name -> value (empty when failed).
        details: Detail table name -> DataFrame (empty when failed).
        error: ``Type: message`` of the failure, one line.
        traceback: Full traceback text of the failure.
        elapsed_s: Wall time of the attempt on the worker. [s]
        worker: ``host:pid`` of the worker process.
        attempt: 1 for the first attempt.
    """

    key: str
    ok: bool
    kpis: dict[str, float] = field(default_factory=dict)
    details: dict[str, pd.DataFrame] = field(default_factory=dict)
    error: str = ""
    traceback: str = ""
    elapsed_s: float = 0.0
    worker: str = ""
    attempt: int = 1


def _source_files(root: Path) -> list[tuple[str, Path]]:
    """``(path relative to the repository, path)`` of the .py and .csv files under ``root``."""
    files = [
        p
        for p in root.rglob("*")
        if p.suffix in (".py", ".csv") and "__pycache__" not in p.parts and p.is_file()
    ]
    return sorted((p.relative_to(root.parent).as_posix(), p) for p in files)


_CODE_VERSION: list[str] = []


def code_version(fresh: bool = False) -> str:
    """Package version plus a hash of the engine/ and sim/ sources (and sim's data).

    The environment variable ``FULFIL_CODE_VERSION``, when set, replaces the computed value
    everywhere (driver and workers): pin it to a release or commit id in CI, or to resume
    a sweep after an edit you know leaves results unchanged. Pinning is your promise that
    the code is the same; nothing checks it.

    Args:
        fresh: Hash the files again instead of reusing this process's first answer. A
            worker keeps its first answer: that is the code it imported.

    Returns:
        E.g. ``"0.1.0+3f2a9c1d0b7e"``.
    """
    pinned = os.environ.get(CODE_VERSION_ENV)
    if pinned:
        return pinned
    if _CODE_VERSION and not fresh:
        return _CODE_VERSION[0]
    import engine
    import sim

    digest = hashlib.sha256()
    for package in (engine, sim):
        for rel, path in _source_files(Path(package.__file__).parent):
            data = path.read_bytes()
            digest.update(f"{rel}\0{len(data)}\0".encode())
            digest.update(data)
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = "0"
    _CODE_VERSION[:] = [f"{version}+{digest.hexdigest()[:12]}"]
    return _CODE_VERSION[0]


def task_key(
    scenario: dict[str, Any],
    policy: str,
    seed: int,
    replication: int,
    days: int | None,
    code: str,
    runner: str | None = None,
) -> str:
    """Content hash of one run's inputs.

    Args:
        scenario: Resolved scenario data.
        policy: Policy name.
        seed: Base seed.
        replication: Replication index.
        days: Run length or None. [days]
        code: Code version (`code_version`).
        runner: `runner_identity` of the run function; None for the simulation itself.

    Returns:
        20 hex digits of a SHA-256 over a canonical JSON of the inputs.
    """
    payload = {
        "scenario": scenario,
        "policy": policy,
        "seed": seed,
        "replication": replication,
        "days": days,
        "code": code,
    }
    if runner is not None:  # another model's results never stand in for the simulation's
        payload["runner"] = runner
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def expand(
    sweep: Sweep, *, code: str | None = None, runner: str | Runner | None = None
) -> list[RunTask]:
    """All run tasks of a sweep, case by case, then policy, then replication.

    Args:
        sweep: A validated sweep.
        code: Code version to key the runs with; default `code_version()`.
        runner: The run function the tasks are for (as `run_sweep` takes it); its
            `runner_identity` is part of every key.

    Returns:
        Tasks with unique keys (the sweep loader rejects cases that coincide).
    """
    code = code if code is not None else code_version(fresh=True)
    made_by = runner_identity(runner)
    spec = sweep.spec
    tasks = []
    for case in sweep.cases:
        for policy in spec.policies:
            for rep in range(spec.replications):
                ident = _policy_identity(policy)
                key = task_key(case.scenario, ident, sweep.seed, rep, spec.days, code, made_by)
                tasks.append(
                    RunTask(
                        key=key,
                        case=case.index,
                        label=case.label,
                        overrides=dict(case.overrides),
                        policy=policy,
                        seed=sweep.seed,
                        replication=rep,
                        days=spec.days,
                        scenario=case.scenario,
                        sweep=spec.name,
                        code_version=code,
                    )
                )
    return tasks


def _policy_identity(policy: str) -> str:
    """A policy name, or a rules-file spec ``FILE[:NAME]`` plus a hash of the file."""
    digest = policy_file_digest(policy)
    return policy if digest is None else f"{policy}#{digest[:16]}"


def simulation_runner(
    scenario: dict[str, Any],
    policy: str,
    seed: int,
    *,
    days: int | None = None,
    replication: int = 0,
    progress: Callable[[float], None] | None = None,
) -> Any:
    """The real runner: validate the scenario data and call `sim.run` (``progress`` gets
    the fraction of the horizon done, once per simulated day)."""
    from sim.run import run
    from sim.scenario import load_scenario

    return run(
        load_scenario(scenario), policy, seed, days=days, replication=replication,
        progress=progress,
    )  # fmt: skip


def runner_identity(spec: str | Runner | None) -> str | None:
    """What keys a run function's results apart: None for the simulation (`sim.run`),
    else ``"module:name"`` (``"synthetic"`` is `sim.sweep.synthetic.SyntheticRunner`)."""
    if isinstance(spec, str):
        if spec == "synthetic":
            return SYNTHETIC
        return None if resolve_runner(spec) is simulation_runner else spec
    if spec is None or spec is simulation_runner:
        return None
    named = spec if hasattr(spec, "__qualname__") else type(spec)
    return f"{named.__module__}:{named.__qualname__}"


def resolve_runner(spec: str | Runner | None) -> Runner:
    """A runner from a callable, ``"module:attr"`` (called if it is a class), or None.

    ``"synthetic"`` names `sim.sweep.synthetic.SyntheticRunner` (a fast stand-in model for
    checking the sweep machinery and a cluster without running simulations).

    Raises:
        sim.cli.UsageError: the module cannot be imported, has no such attribute, or the
            attribute is not callable (``str()`` is one line starting ``--runner: ``).
    """
    from sim.cli import UsageError

    if spec is None:
        return simulation_runner
    if callable(spec):
        return spec
    if spec == "synthetic":
        spec = SYNTHETIC
    module, _, attr = spec.partition(":")
    attr = attr or "runner"
    try:
        found = importlib.import_module(module)
    except (ImportError, ValueError) as exc:  # ValueError: an empty module name
        reason = f"cannot import module {module!r} ({exc}); expected MODULE:ATTR"
        raise UsageError("", "--runner", reason) from None
    obj = getattr(found, attr, None)
    if obj is None:
        raise UsageError("", "--runner", f"module {module!r} has no attribute {attr!r}")
    if not callable(obj):
        raise UsageError("", "--runner", f"{module}:{attr} is not callable")
    return obj() if isinstance(obj, type) else obj


def execute(task: RunTask, runner: Runner, details: Sequence[str], attempt: int = 1) -> RunOutcome:
    """Run one task on a worker and never raise: errors come back in the outcome.

    Args:
        task: The task.
        runner: The runner (see `Runner`).
        details: Detail tables to send back.
        attempt: Attempt number, 1 for the first.

    Returns:
        The outcome; ``ok`` is False when the runner raised or the worker's code differs.
    """
    start = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        here = code_version()
        if task.code_version and here != task.code_version:
            raise RuntimeError(
                f"worker code version {here} differs from the sweep's {task.code_version}; "
                "install the same code on every worker"
            )
        result = runner(
            task.scenario, task.policy, task.seed, days=task.days, replication=task.replication
        )
        kpis = {k: float(v) for k, v in dict(result.kpis).items()}
        tables = {}
        for name in details:
            table = getattr(result, name, None)
            if isinstance(table, pd.DataFrame):
                tables[name] = table
    except Exception as exc:  # noqa: BLE001 - a failing run must not stop the sweep
        return RunOutcome(
            key=task.key,
            ok=False,
            error=" ".join(f"{type(exc).__name__}: {exc}".split())[:500],
            traceback=traceback.format_exc(),
            elapsed_s=time.perf_counter() - start,
            worker=worker,
            attempt=attempt,
        )
    return RunOutcome(
        key=task.key,
        ok=True,
        kpis=kpis,
        details=tables,
        elapsed_s=time.perf_counter() - start,
        worker=worker,
        attempt=attempt,
    )
