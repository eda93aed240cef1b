"""Comparisons for the workbench app: runs on local cores, results shaped for the page.

Pure Python (no Streamlit), so the app stays thin and these pieces are tested directly.
`compare_policies` is `sim.compare.compare_runs` + `summarise` with three differences: runs
go to worker processes when they are big enough, only the KPIs and the chart tables of
replication 0 come back, which keeps a long comparison's memory small, and runs already
kept in a `RunStore` are not run again.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import math
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from types import SimpleNamespace
from typing import Any

import pandas as pd

from engine.errors import RoutingError, RuleError
from engine.routing.rules import load_policy_file, policy_file_digest
from sim.kpis import HIGHER_IS_BETTER, KPI_UNITS, LOWER_IS_BETTER
from sim.run_store import RunStore

__all__ = [
    "CHART_TABLES",
    "DEFAULT_POLICIES",
    "DEFAULT_REPS",
    "KPI_UNITS",
    "Comparison",
    "RunFailed",
    "RunStore",
    "compare_policies",
    "describe_policy",
    "extra_policies",
    "extra_policy",
    "format_values",
    "kpi_decimals",
    "kpi_table",
    "labelled",
    "online_orders",
    "policy_file_digest",
    "policy_labels",
    "rules_policies",
    "runs_to_run",
    "time_left",
    "workers_for",
]

#: The page's first comparison: these policies (those that exist), this many replications.
#: Three strategies that differ on the default scenario: nearest location, cheapest landed
#: cost, stores first (4 days, seed 42: 11.97 / 11.25 / 12.16 USD per order, p90 click to
#: door 95 / 103 / 115 h). `min_split` and `ranked` route there exactly as `closest` does
#: (no order needs a split), `dc_first` as `cost`.
DEFAULT_POLICIES = ("closest", "cost", "store_first")
DEFAULT_REPS = 3

#: Tables of replication 0 kept for the charts.
CHART_TABLES = ("orders", "shipments", "inventory", "utilisation")

#: Below this many online orders over all runs, starting worker processes costs more than
#: it saves. The environment variable ``FULFIL_PARALLEL_MIN_ORDERS`` overrides it.
PARALLEL_MIN_ORDERS = 20_000

Progress = Callable[[float, int], None]
"""``progress(done, total)``: runs done out of ``total``; fractional while runs are under way."""

#: Environment variable with the policies `fulfil app --policy` adds: a JSON list of specs.
APP_POLICIES_ENV = "FULFIL_APP_POLICIES"


def rules_policies(folder: str | os.PathLike[str]) -> dict[str, str]:
    """The policies of the rules files in `folder`, as ``FILE[:NAME]`` specs (paths from
    the current folder, as the runs read them) -> description. A file that does not
    load is left out (``fulfil check FILE`` says why)."""
    specs: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            policies = load_policy_file(path, register=False)
        except RuleError:
            continue
        file = os.path.relpath(path)
        for policy in policies:
            spec = file if len(policies) == 1 else f"{file}:{policy.name}"
            specs[spec] = policy.description
    return specs


def describe_policy(spec: str) -> str:
    """One-line description of a registered policy or a rules-file spec ``FILE[:NAME]``
    (``""`` when it has none, or when it needs parameters to be built)."""
    from engine.routing import get_policy
    from engine.routing.rules import load_policy_spec, policy_file_spec

    try:
        policy = load_policy_spec(spec) if policy_file_spec(spec) else get_policy(spec)
    except Exception:  # a policy that needs parameters still gets offered
        return ""
    return str(getattr(policy, "description", "") or "")


def _label_forms(spec: str) -> list[str]:
    """Ways to show a policy, shortest first, the spec itself last: a rules file's
    ``FILE:NAME`` as ``NAME``, then ``STEM:NAME``; a one-policy ``FILE`` as its stem."""
    from engine.routing.rules import policy_file_spec

    rules = policy_file_spec(spec)
    if rules is None:
        return [spec]
    stem = Path(rules[0]).stem
    if rules[1] is None:
        return [stem, spec]
    return [rules[1], f"{stem}:{rules[1]}", spec]


def policy_labels(policies: Sequence[str]) -> dict[str, str]:
    """Short names of policies for chart axes, legends and table headers: spec -> label.

    A rules-file spec ``scenarios/policies/store_rules.yaml:cheapest_dc`` shows as its
    policy's name ``cheapest_dc`` (a one-policy file as its stem); labels that would
    collide grow to ``store_rules:cheapest_dc``, then to the whole spec, so no two
    policies share a label. Other policies keep their name. The spec still names the run
    wherever it identifies one (URL, downloads, the run store).
    """
    forms = {p: _label_forms(p) for p in dict.fromkeys(policies)}
    level = dict.fromkeys(forms, 0)
    while True:
        labels = {p: forms[p][level[p]] for p in forms}
        seen = Counter(labels.values())
        clashing = [p for p in forms if seen[labels[p]] > 1 and level[p] < len(forms[p]) - 1]
        if not clashing:
            return labels
        for p in clashing:
            level[p] += 1


def labelled(frame: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """`frame` with its ``policy`` and ``baseline`` columns written as `labels` (from
    `policy_labels`; values not in it stay); categorical columns stay categorical."""
    out = frame.copy(deep=False)
    for column in ("policy", "baseline"):
        if column not in out.columns:
            continue
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            new = [labels.get(str(c), str(c)) for c in values.cat.categories]
            if len(set(new)) == len(new):
                out[column] = values.cat.rename_categories(new)
                continue
        out[column] = values.astype(str).map(lambda v: labels.get(v, v))
    return out


def extra_policy(given: str) -> tuple[str, str]:
    """A policy `fulfil app --policy` adds, checked: a rules file ``FILE[:NAME]`` anywhere
    (read once) or a Python ``module:NAME`` policy (imported, which registers its policies;
    `sim.policy_modules`). A registered name is not one: the page offers it already.

    Returns:
        ``(spec, description)``: a rules file's spec names it from the current folder, as
        `rules_policies` names them and the runs read it (one name per file).

    Raises:
        RoutingError: why the policy cannot be added, in one line.
    """
    from engine.routing.rules import policy_file_spec, policy_spec_from
    from sim.policy_modules import import_policy, module_spec, policy_problem, rules_policy

    spec = given.strip()
    if not spec:
        raise RoutingError("empty policy name")
    module = module_spec(spec)
    if module is not None:
        import_policy(spec)
        return spec, describe_policy(module[1])
    if policy_file_spec(spec) is None:
        raise RoutingError(
            policy_problem(spec)
            or f"{spec!r} is offered already; --policy adds a rules file FILE.yaml[:NAME] "
            "or a Python module:NAME"
        )
    try:
        policy = rules_policy(spec)
    except RuleError as exc:
        raise RoutingError(str(exc)) from None
    return policy_spec_from(spec, os.getcwd(), relative_to=os.getcwd()), policy.description


def extra_policies(specs: Sequence[str]) -> tuple[dict[str, str], set[str], list[str]]:
    """The policies `fulfil app --policy` adds (`extra_policy`), for the page.

    Returns:
        ``(described, hidden, problems)``: spec -> one-line description for the specs that
        can run; the registry names the modules registered, which the page must offer
        only by their spec (worker processes import the module from the spec); and one
        line per spec that cannot run, saying why.
    """
    from sim.policy_modules import registered_by

    described: dict[str, str] = {}
    hidden: set[str] = set()
    problems: list[str] = []
    for given in dict.fromkeys(specs):
        try:
            spec, description = extra_policy(given)
        except RoutingError as exc:
            problems.append(str(exc))
        else:
            described[spec] = description
        hidden |= registered_by(given.strip())
    return described, hidden, problems


class RunFailed(Exception):
    """A simulation run raised; the message is its one-line error."""


@dataclass
class Comparison:
    """A finished comparison.

    Attributes:
        summary: `sim.compare.summarise` table: one row per (policy, KPI).
        per_run: `sim.compare.kpi_frame` table: one row per (policy, replication).
        tables: Chart tables (`CHART_TABLES`) of replication 0 of every policy.
        elapsed_s: Wall-clock time of the comparison's runs. [s]
        runs: Number of simulation runs, reused ones included. [-]
        workers: Processes the runs used (1 = in this process). [-]
        reused: Runs taken from a `RunStore` instead of run again. [-]
    """

    summary: pd.DataFrame
    per_run: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    elapsed_s: float = 0.0
    runs: int = 0
    workers: int = 1
    reused: int = 0

    def against(self, baseline: str) -> Comparison:
        """The same runs with the differences taken against `baseline` (no run again).

        Raises:
            ValueError: `baseline` is not one of the compared policies.
        """
        from sim.compare import summarise

        return dataclasses.replace(self, summary=summarise(self.per_run, baseline))


def online_orders(data: Mapping[str, Any]) -> float:
    """Expected online orders of one run of a resolved scenario, before peaks. [orders]"""
    from sim.levers import lever

    per_day = lever("online").read(data) or 0
    return float(per_day) * float(data.get("horizon_days", 1))


def workers_for(orders: float, runs: int) -> int:
    """Worker processes for `runs` runs of `orders` orders each: all cores (at most one
    per run) when the runs are big enough (``PARALLEL_MIN_ORDERS`` orders in all), else 1
    (in this process)."""
    big = orders * runs >= _parallel_threshold()
    return max(1, min(os.cpu_count() or 1, runs)) if big else 1


def _parallel_threshold() -> int:
    text = os.environ.get("FULFIL_PARALLEL_MIN_ORDERS", "")
    return int(text) if text.strip().lstrip("-").isdigit() else PARALLEL_MIN_ORDERS


class _Reported:
    """Runs one task with `sim.sweep.tasks.simulation_runner` and reports how far it got:
    ``sink(key, fraction of the horizon done)`` once per simulated day. Without a sink
    (in a worker process) the reports go to the queue the pool gave the worker."""

    def __init__(self, key: str, sink: Callable[[str, float], None] | None = None) -> None:
        self.key, self.sink = key, sink

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from sim.sweep import tasks

        key, sink = self.key, self.sink or _to_queue
        return tasks.simulation_runner(*args, progress=lambda f: sink(key, f), **kwargs)


_worker_queue: Any = None  # set in each worker process by `_listen_to`


def _to_queue(key: str, fraction: float) -> None:
    _worker_queue.put((key, fraction))


def _listen_to(queue: Any) -> None:
    """Pool initializer: the worker reports run progress to `queue`."""
    global _worker_queue
    _worker_queue = queue


class _Tally:
    """Runs done plus the fractions of the runs under way, for ``progress(done, total)``."""

    def __init__(self, total: int, progress: Progress) -> None:
        self.total, self.progress = total, progress
        self.finished: set[str] = set()
        self.running: dict[str, float] = {}

    def partial(self, key: str, fraction: float) -> None:
        if key not in self.finished:
            self.running[key] = min(max(fraction, self.running.get(key, 0.0)), 1.0)

    def finish(self, key: str) -> None:
        self.finished.add(key)
        self.running.pop(key, None)

    def report(self) -> None:
        self.progress(len(self.finished) + sum(self.running.values()), self.total)


def _details(task: Any) -> tuple[str, ...]:
    """The tables a comparison keeps of a run: the chart tables of replication 0."""
    return CHART_TABLES if task.replication == 0 else ()


def _run_tasks(
    tasks: list[Any],
    workers: int,
    progress: Progress,
    on_finish: Callable[[str, Any], None] = lambda key, outcome: None,
) -> dict[str, Any]:
    """Execute sweep tasks, in this process or on ``workers`` processes; outcome per key.

    ``progress(done, total)`` is called after each run (``done`` a whole number) and, while
    runs are under way, with ``done`` counting their simulated share of the horizon.
    ``on_finish(key, outcome)`` is called as each run ends, before the progress report
    (which may stop the rest).
    """
    from sim.sweep import tasks as sweep
    from sim.sweep.executors import stop_pool

    outcomes: dict[str, Any] = {}
    tally = _Tally(len(tasks), progress)
    if workers <= 1:

        def sink(key: str, fraction: float) -> None:
            tally.partial(key, fraction)
            tally.report()

        for task in tasks:
            outcomes[task.key] = sweep.execute(task, _Reported(task.key, sink), _details(task))
            on_finish(task.key, outcomes[task.key])
            tally.finish(task.key)
            tally.report()
        return outcomes
    # "spawn": clean interpreters, no locks forked from a server's threads.
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    pool = cf.ProcessPoolExecutor(
        workers, mp_context=context, initializer=_listen_to, initargs=(queue,)
    )
    try:
        handles = {pool.submit(sweep.execute, t, _Reported(t.key), _details(t)): t for t in tasks}
        pending = set(handles)
        while pending:
            finished, pending = cf.wait(pending, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            for key, fraction in _drain(queue):
                tally.partial(key, fraction)
            for handle in finished:
                key = handles[handle].key
                outcomes[key] = handle.result()
                on_finish(key, outcomes[key])
                tally.finish(key)
            tally.report()
    except BaseException:
        stop_pool(pool)  # interrupted (e.g. the page started a new run): do not finish the old one
        raise
    finally:
        queue.close()
    pool.shutdown(wait=True)
    return outcomes


def _drain(queue: Any) -> list[tuple[str, float]]:
    """Every report waiting in `queue`, without blocking."""
    reports = []
    while True:
        try:
            reports.append(queue.get_nowait())
        except Empty:
            return reports


def time_left(done: float, total: int, elapsed_s: float) -> float | None:
    """Seconds until ``total`` runs are done at the pace so far; None before the pace is
    known (under 2% done). [s]"""
    if total <= 0 or done < 0.02 * total:
        return None
    return max(0.0, elapsed_s * (total - done) / done)


def compare_policies(
    data: Mapping[str, Any],
    policies: Sequence[str],
    reps: int,
    seed: int,
    baseline: str | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    store: RunStore | None = None,
    max_workers: int | None = None,
) -> Comparison:
    """Run every policy ``reps`` times with common random numbers and summarise.

    Replication ``r`` of every policy runs as ``run(scenario, policy, seed, replication=r)``,
    as in `sim.compare.compare_runs`, so the policies face the same demand and the
    differences are paired. Results do not depend on where the runs execute, nor on
    whether a run was reused from `store`.

    Args:
        data: The resolved scenario (``Scenario.resolved()``).
        policies: Policy names.
        reps: Replications per policy. [-]
        seed: Root seed. [-]
        baseline: Policy the differences are taken against; None = the first.
        progress: Called as ``progress(done, total)`` after each run and, about twice a
            second while runs are under way, with ``done`` counting the simulated share of
            the runs in progress (e.g. 3.4 of 9); ``total`` counts the runs to run, not
            those reused.
        workers: Worker processes (at most one per run to run); None = all cores when
            the runs are big enough (``PARALLEL_MIN_ORDERS``), else 1 (in this process).
        store: Finished runs to reuse, and to keep each run in as it ends (so a stopped
            comparison loses none of its finished runs); None runs everything.
        max_workers: At most this many processes, whatever `workers` says (the page's
            limit for the free memory, `sim.footprint`); None = no limit.

    Returns:
        The `Comparison`.

    Raises:
        RunFailed: a run raised (its message is the one-line error).
        ValueError: no policies, a repeated policy, ``reps < 1`` or an unknown baseline.
    """
    from sim.compare import kpi_frame, summarise
    from sim.records import concat

    if not policies or len(set(policies)) != len(policies):
        raise ValueError("policies: give each policy once, at least one")
    if reps < 1:
        raise ValueError(f"reps: must be at least 1, got {reps}")
    if baseline is not None and baseline not in policies:
        raise ValueError(f"baseline: {baseline!r} is not one of the compared policies")
    data = dict(data)
    tasks = _tasks(data, policies, reps, seed)
    store = RunStore() if store is None else store  # a store of its own: nothing to reuse
    keys, kept = _kept(tasks, store)
    todo = [t for t in tasks if t.key not in kept]
    workers = workers_for(online_orders(data), len(todo)) if workers is None else workers
    if max_workers is not None:
        workers = min(workers, max_workers)
    workers = max(1, min(int(workers), len(todo)))  # no more processes than runs to run
    started = time.perf_counter()
    outcomes = _run_tasks(
        todo, workers, progress or (lambda done, total: None),
        lambda key, outcome: store.put(keys[key], outcome),
    )  # fmt: skip
    outcomes.update(kept)
    elapsed = time.perf_counter() - started
    failed = [o for o in outcomes.values() if not o.ok]
    if failed:
        raise RunFailed(failed[0].error)
    results = [
        SimpleNamespace(
            scenario=data.get("name", ""),
            policy=t.policy,
            seed=t.seed,
            replication=t.replication,
            kpis=outcomes[t.key].kpis,
            **outcomes[t.key].details,
        )
        for t in tasks
    ]
    per_run = kpi_frame(results)
    tables: dict[str, pd.DataFrame] = {}
    for name in CHART_TABLES:
        parts = [getattr(r, name, None) for r in results if r.replication == 0]
        parts = [p for p in parts if isinstance(p, pd.DataFrame) and not p.empty]
        if parts:
            tables[name] = concat(parts)  # categorical columns stay categorical
    return Comparison(
        summary=summarise(per_run, baseline),
        per_run=per_run,
        tables=tables,
        elapsed_s=elapsed,
        runs=len(tasks),
        workers=workers,
        reused=len(kept),
    )


def _tasks(data: dict[str, Any], policies: Sequence[str], reps: int, seed: int) -> list[Any]:
    """The comparison's runs as sweep tasks, replication by replication."""
    from sim.sweep.tasks import RunTask

    return [
        RunTask(
            key=f"r{rep}-{policy}", case=0, label="", overrides={}, policy=policy, seed=int(seed),
            replication=rep, days=None, scenario=data,
        )
        for rep in range(reps)
        for policy in policies
    ]  # fmt: skip


def runs_to_run(
    data: Mapping[str, Any], policies: Sequence[str], reps: int, seed: int, store: RunStore
) -> int:
    """How many runs of a comparison (as `compare_policies` takes it) `store` does not hold:
    those that would run now. [-]"""
    tasks = _tasks(dict(data), policies, reps, seed)
    return len(tasks) - len(_kept(tasks, store)[1])


def _kept(tasks: list[Any], store: RunStore) -> tuple[dict[str, str], dict[str, Any]]:
    """The store key of each task, and the outcomes `store` holds for them (task key ->
    outcome, with the tables the comparison keeps of that run)."""
    keys = {t.key: _store_key(t) for t in tasks}
    found = ((t.key, store.get(keys[t.key], _details(t))) for t in tasks)
    return keys, {key: outcome for key, outcome in found if outcome is not None}


def _store_key(task: Any) -> str:
    """The run's key in a `RunStore`: its inputs (a rules file's content included) and the
    code that runs it."""
    from sim.sweep.tasks import _policy_identity, code_version, task_key

    policy = _policy_identity(task.policy)
    return task_key(task.scenario, policy, task.seed, task.replication, task.days, code_version())


#: Which side of each KPI is better, as the KPI table says it.
_BETTER = {k: "higher" for k in HIGHER_IS_BETTER} | {k: "lower" for k in LOWER_IS_BETTER}

#: KPI units counted in whole things: shown without decimals when whole.
_COUNTS = ("orders", "units", "packages")

#: The columns of a `sim.compare.summarise` row that the KPI table shows.
_SHOWN = ("mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high")


def _decimals(kpi: str, means: Iterable[float], shown: Iterable[float]) -> int:
    """Decimals of every number of one KPI: none for a count whose `shown` values are all
    whole, three for a share, else four significant digits of the largest mean (0 to 3
    decimals), so a mean, its interval and a difference read alike."""
    unit = KPI_UNITS.get(kpi)
    finite = [float(v) for v in shown if not pd.isna(v)]
    if unit in _COUNTS and all(v.is_integer() for v in finite):
        return 0
    if unit == "share":
        return 3
    scale = max((abs(float(m)) for m in means if not pd.isna(m)), default=0.0)
    if not math.isfinite(scale) or scale < 1.0:
        return 3
    return min(3, max(0, 3 - math.floor(math.log10(scale))))


def kpi_decimals(summary: pd.DataFrame) -> dict[str, int]:
    """Decimals per KPI of a `sim.compare.summarise` table, one number for the KPI's whole
    row (every policy's mean and interval, every difference and its interval): none for
    whole counts, three for shares, else four significant digits of the largest mean
    (``107.3`` and ``12.60``, not ``107`` beside ``1.287``)."""
    columns = [c for c in _SHOWN if c in summary.columns]
    return {
        str(kpi): _decimals(str(kpi), rows["mean"], rows[columns].to_numpy(float).ravel())
        for kpi, rows in summary.groupby("kpi", sort=False, observed=True)
    }


def _number(value: float, decimals: int) -> str:
    if pd.isna(value):
        return "–"
    value = float(value) + 0.0  # -0.0 becomes 0.0
    text = f"{value:,.{decimals}f}"
    return text.lstrip("-") if float(text.replace(",", "")) == 0 else text  # no "-0.000"


def format_values(values: Sequence[float], kpi: str, decimals: int | None = None) -> list[str]:
    """Values of one KPI (means, intervals, differences) as the KPI table writes them,
    all with `decimals` decimals (None: as `kpi_decimals` chooses them from these values);
    NaN as "–", and no minus sign on a value that rounds to zero."""
    if decimals is None:
        decimals = _decimals(kpi, values, values)
    return [_number(v, decimals) for v in values]


def _cell(mean: float, low: float, high: float, kpi: str, decimals: int | None = None) -> str:
    """``"mean [low, high]"`` of `kpi`, or the mean alone when the interval is unknown."""
    if decimals is None:
        decimals = _decimals(kpi, [mean], [mean, low, high])
    if pd.isna(low) or pd.isna(high):
        return format_values([mean], kpi, decimals)[0]
    m, lo, hi = format_values([mean, low, high], kpi, decimals)
    return f"{m} [{lo}, {hi}]"


def kpi_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The KPI table as the planner reads it.

    Args:
        summary: `sim.compare.summarise` output.

    Returns:
        One row per KPI (index ``KPI``), a ``unit`` column, a ``better`` column (``higher``
        or ``lower`` is better; empty for counts and shares without a better side), then
        per policy its mean with the 95% interval, ``"12.04 [11.90, 12.20]"`` (as
        `summarise` cut it to the values the KPI can take), and for every policy but the
        baseline a ``"<policy> − <baseline>"`` column with the paired difference and its
        interval. Every number of a KPI has the same decimals (`kpi_decimals`), and a
        value that rounds to zero shows no minus sign.
    """
    decimals = kpi_decimals(summary)
    rows: dict[str, dict[str, str]] = {}
    for rec in summary.itertuples(index=False):
        unit = KPI_UNITS.get(rec.kpi, "")
        row = rows.setdefault(rec.kpi, {"unit": unit, "better": _BETTER.get(rec.kpi, "")})
        places = decimals[str(rec.kpi)]
        row[str(rec.policy)] = _cell(rec.mean, rec.ci_low, rec.ci_high, rec.kpi, places)
        if rec.policy != rec.baseline:
            row[f"{rec.policy} − {rec.baseline}"] = _cell(
                rec.diff, rec.diff_low, rec.diff_high, rec.kpi, places
            )
    order = [k for k in KPI_UNITS if k in rows] + [k for k in rows if k not in KPI_UNITS]
    table = pd.DataFrame.from_dict({k: rows[k] for k in order}, orient="index")
    table.index.name = "KPI"
    return table
