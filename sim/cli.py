"""The ``fulfil`` command line: run, compare, check, bench and app.

User errors (a bad scenario file, an unknown policy, a bad number) end the command with
exit status 2 and exactly one line on stderr, ``FILE: FIELD: reason``; no traceback.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sim.outdir import TABLES

__all__ = ["UsageError", "build_parser", "check_policy_name", "main"]

APP_PATH = Path(__file__).resolve().parents[1] / "app.py"


class UsageError(Exception):
    """A bad command-line value; ``str()`` is ``FILE: FIELD: reason``."""

    def __init__(self, file: str, field: str, reason: str) -> None:
        self.file, self.field, self.reason = str(file), field, reason
        super().__init__(": ".join(p for p in (self.file, field, reason) if p))


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block) with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {' '.join(message.split())}\n")


# --- value checks -------------------------------------------------------------------------


def int_option(
    file: str, field: str, text: str | None, minimum: int, maximum: int | None = None
) -> int | None:
    """An integer option (None when not given), checked against its range; a bad one is
    a `UsageError` naming the file and the option."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(file, field, f"expected an integer, got {text!r}") from None
    if maximum is not None and not minimum <= value <= maximum:
        raise UsageError(
            file, field, f"must be an integer from {minimum} to {maximum}, got {value}"
        )
    if value < minimum:
        raise UsageError(file, field, f"must be at least {minimum}, got {value}")
    return value


def check_policy_name(file: str, field: str, name: str) -> str:
    """Check a policy spec (`sim.policy_modules.policy_problem`): a registered name, a rules
    file ``FILE[:NAME]`` naming one valid policy, or a Python ``module:NAME``."""
    from sim.policy_modules import policy_problem

    name = name.strip()
    if not name:
        raise UsageError(file, field, "empty policy name")
    problem = policy_problem(name)
    if problem:
        raise UsageError(file, field, problem)
    return name


def _json_value(value: Any) -> Any:
    """JSON-safe scalar: NaN and infinities become null."""
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dumps(obj: Any) -> str:
    def clean(x: Any) -> Any:
        if isinstance(x, dict):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return _json_value(x)

    return json.dumps(clean(obj), allow_nan=False)


class _Bar:
    """Progress callback drawing a tqdm bar on stderr, only when stderr is a terminal.

    Called as ``bar(done)`` or ``bar(done, total)``, in the units the caller counts
    (runs done, or the fraction of the horizon simulated with ``total=1``).
    """

    def __init__(self, desc: str, unit: str, total: float | None = None) -> None:
        self._bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            fraction = "{l_bar}{bar}| [{elapsed}<{remaining}]"
            self._bar = tqdm(
                total=total,
                desc=desc,
                unit=unit,
                file=sys.stderr,
                leave=False,
                bar_format=fraction if total == 1 else None,
            )

    def __call__(self, done: float, total: float | None = None, *_: Any) -> None:
        if self._bar is None:
            return
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


def _warn_idle(file: str, scenario: Any, days: int | None = None) -> None:
    """One stderr line per setting that does little or nothing in the run (not an error)."""
    from sim.scenario.idle import idle_settings

    for field, reason in idle_settings(scenario, days):
        print(f"{file}: warning: {field}: {reason}", file=sys.stderr)


# --- commands -----------------------------------------------------------------------------


#: What `fulfil run`, `compare` and `check` say of a sweep file given as a scenario.
SWEEP_HINT = (
    "is a sweep file, not a scenario; run it with `fulfil sweep {file} --out DIR` "
    "(`--plan` to preview)"
)


def load_scenario_file(file: str) -> Any:
    """`sim.scenario.load_scenario`, with a hint when `file` is a policy rules file or a
    sweep file."""
    from sim.file_kind import file_kind
    from sim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(file)
    except ScenarioError:
        kind = file_kind(file)
        if kind == "rules":
            raise UsageError(
                file, "", f"is a policy rules file, not a scenario; use it as --policy {_use(file)}"
            ) from None
        if kind == "sweep":
            raise UsageError(file, "", SWEEP_HINT.format(file=file)) from None
        raise


def _use(file: str, names: list[str] | None = None) -> str:
    """How `--policy` names the rules file `file`: ``FILE``, or ``FILE:NAME`` of its first
    policy when it holds several (or just ``FILE`` when it does not load). `names`: its
    policies' names, when already read."""
    from engine.errors import RuleError
    from engine.routing.rules import load_policy_file

    if names is None:
        try:
            names = [p.name for p in load_policy_file(file, register=False)]
        except RuleError:
            return file
    return file if len(names) == 1 else f"{file}:{names[0]}"


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a scenario file (or a policy rules file, or a sweep file) fully; print one
    summary line."""
    from sim.file_kind import file_kind
    from sim.scenario import ScenarioError, check_file

    try:
        scenario = check_file(args.file)
    except ScenarioError:
        kind = file_kind(args.file)
        if kind == "rules":
            return _check_rules(args.file)
        if kind == "sweep":
            return _check_sweep(args.file)
        raise
    _warn_idle(args.file, scenario)
    n_locations = len(scenario.network.location_ids())
    n_skus = len(scenario.catalogue.sku_ids())
    print(
        f"{args.file}: ok ({scenario.name}: {n_locations} locations, {n_skus} SKUs, "
        f"{scenario.horizon_days} days)"
    )
    return 0


def _check_rules(file: str) -> int:
    """`fulfil check` of a policy rules file: load every policy in it."""
    from engine.routing.rules import load_policy_file

    names = [p.name for p in load_policy_file(file, register=False)]
    print(f"{file}: ok (policy rules: {', '.join(names)}; use it as --policy {_use(file, names)})")
    return 0


def _check_sweep(file: str) -> int:
    """`fulfil check` of a sweep file: validate it and every case as `fulfil sweep --plan`
    does, without an output folder."""
    from sim.sweep.command import plan_line
    from sim.sweep.spec import SweepError, load_sweep

    try:
        sweep = load_sweep(file)
    except SweepError as exc:
        raise UsageError(exc.file, exc.field, exc.reason) from None
    print(
        f"{file}: ok (sweep {sweep.spec.name}: {plan_line(sweep)}; "
        f"run it with `fulfil sweep {file} --out DIR`)"
    )
    return 0


def _format_kpi(name: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if name in ("orders", "units_demanded", "returns_units", "returns_restocked_units"):
        return f"{value:,.0f}"
    return f"{value:,.4f}"


def _make_dir(out: Path) -> None:
    """Create ``out`` and check that files can be written in it (before a long run)."""
    from sim.outdir import unwritable

    problem = unwritable(out)
    if problem:
        raise UsageError(str(out), "--out", problem)


def as_run(scenario: Any, days: int | None) -> Any:
    """The scenario a run of `days` days (None: its horizon) simulated: its horizon and
    warm-up set to what the run used. Its seed stays: it also fixes the scenario's
    structure (catalogue, stock), so a run seed goes on the command line (``--seed``)."""
    from sim.levers import lever
    from sim.scenario import apply_overrides, load_scenario

    if days is None or days == scenario.horizon_days:
        return scenario
    data = scenario.resolved()
    return load_scenario(apply_overrides(data, lever("days").write(data, int(days))))


def _write_outputs(
    result: Any, scenario: Any, out: Path, meta: dict[str, Any], texts: dict[str, str]
) -> None:
    """Write every table as Parquet, the KPIs and run facts as JSON, the scenario as YAML,
    and `texts` (``{file name: text}``: the rules files the run read); first remove an
    earlier run's files, so that `out` holds this run's alone."""
    from sim.outdir import clear_run

    _make_dir(out)
    clear_run(out)
    for name in TABLES:
        frame = getattr(result, name, None)
        if frame is None:
            continue
        try:
            frame.to_parquet(out / f"{name}.parquet", index=False)
        except (TypeError, ValueError, ImportError, OSError) as exc:
            if isinstance(exc, OSError):
                raise UsageError(str(out), "--out", f"cannot write: {exc.strerror}") from None
            # Mixed-type object columns (free-text details): store them as text.
            text = frame.astype({c: str for c in frame.columns if frame[c].dtype == object})
            text.to_parquet(out / f"{name}.parquet", index=False)
    texts = {
        **texts,
        "kpis.json": _dumps(dict(result.kpis)) + "\n",
        "run.json": _dumps(meta) + "\n",
        "scenario.yaml": scenario.to_yaml(),
    }
    _write_texts(out, texts)


def _rules_copy(spec: str, name: str) -> tuple[str, dict[str, str]]:
    """The copy as `name` of the rules file of the policy spec ``FILE[:NAME]``: the spec
    naming the copy (``name[:NAME]``) and ``{name: text}``; any other spec comes back as
    is, with nothing to write. Read before an earlier run's copy in ``--out`` is removed
    (it may be the file the spec names)."""
    from engine.routing.rules import policy_file_spec

    rules = policy_file_spec(spec)
    if rules is None:
        return spec, {}
    text = Path(rules[0]).read_text(encoding="utf-8")
    return (name if rules[1] is None else f"{name}:{rules[1]}"), {name: text}


def _write_texts(out: Path, texts: dict[str, str]) -> None:
    """Write ``{file name: text}`` into the folder `out`."""
    for name, text in texts.items():
        try:
            (out / name).write_text(text)
        except OSError as exc:
            raise UsageError(str(out / name), "--out", f"cannot write: {exc.strerror}") from None


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario with one policy and print its KPIs."""
    from sim.outdir import run_out_problem
    from sim.scenario import check_policy
    from sim.scenario.schema import MAX_HORIZON_DAYS, MAX_SEED

    scenario = load_scenario_file(args.file)
    file = args.file
    check_policy(scenario, file)
    seed = int_option(file, "--seed", args.seed, 0, MAX_SEED)
    days = int_option(file, "--days", args.days, 1, MAX_HORIZON_DAYS)
    policy = check_policy_name(file, "--policy", args.policy)
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        raise UsageError(args.out, "--out", "exists and is not a directory")
    problem = run_out_problem(out) if out is not None else None
    if problem:
        raise UsageError(args.out, "--out", problem)
    if out is not None:  # fail before a long run, not after it
        _make_dir(out)
    _warn_idle(file, scenario, days)

    from sim.run import run

    with _Bar(f"{scenario.name}/{policy}", "", total=1) as bar:
        result = run(scenario, policy, seed, days=days, progress=bar)
    if out is not None:
        meta = {
            "scenario": result.scenario,
            "policy": result.policy,
            "seed": result.seed,
            "replication": result.replication,
            "days": days if days is not None else scenario.horizon_days,
            "warmup_days": scenario.warmup_for(days),
            "elapsed_s": result.elapsed_s,
            "conservation": dict(getattr(result, "conservation", {}) or {}),
            "reproduce": f"fulfil run scenario.yaml --policy {shlex.quote(policy)} "
            f"--seed {result.seed}",
        }
        from engine.routing.rules import policy_file_digest

        kept, copies = _rules_copy(policy, "policy.yaml")
        if kept != policy:  # the rules file goes with the run, so that it reproduces
            meta["policy_file_sha256"] = policy_file_digest(policy)
            meta["reproduce"] = (
                f"fulfil run scenario.yaml --policy {shlex.quote(kept)} --seed {result.seed}"
            )
        written = as_run(scenario, days)
        routing = written.routing  # its own rules file too, read from scenario.yaml's folder
        own, copy = _rules_copy(routing.policy, "routing_policy.yaml")
        if own != routing.policy:
            written = written.model_copy(
                update={"routing": routing.model_copy(update={"policy": own})}
            )
        _write_outputs(result, written, out, meta, {**copies, **copy})
    if args.json:
        print(_dumps(dict(result.kpis)))
        return 0
    print(
        f"scenario {result.scenario}  policy {result.policy}  seed {result.seed}  "
        f"({result.elapsed_s:.1f} s)"
    )
    from sim.kpis import KPI_UNITS

    width = max(len(k) for k in result.kpis) if result.kpis else 0
    for name, value in result.kpis.items():
        print(f"  {name:<{width}}  {_format_kpi(name, value):>14}  {KPI_UNITS.get(name, '')}")
    if out is not None:
        print(f"tables written to {out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare policies over replications and print means, intervals and differences."""
    from sim.compare import compare
    from sim.scenario import check_policy
    from sim.scenario.schema import MAX_HORIZON_DAYS, MAX_REPLICATIONS, MAX_SEED

    scenario = load_scenario_file(args.file)
    file = args.file
    check_policy(scenario, file)
    names = [p.strip() for p in args.policies.split(",")]
    if not all(names):
        raise UsageError(file, "--policies", f"empty policy name in {args.policies!r}")
    policies = [check_policy_name(file, "--policies", p) for p in names]
    if len(set(policies)) != len(policies):
        raise UsageError(file, "--policies", f"a policy is repeated in {args.policies!r}")
    reps = int_option(file, "--reps", args.reps, 1, MAX_REPLICATIONS)
    seed = int_option(file, "--seed", args.seed, 0, MAX_SEED)
    days = int_option(file, "--days", args.days, 1, MAX_HORIZON_DAYS)
    baseline = args.baseline.strip() if args.baseline is not None else None
    if baseline is not None and baseline not in policies:
        raise UsageError(
            file, "--baseline", f"{baseline!r} is not one of --policies ({', '.join(policies)})"
        )
    extra = {"days": days} if days is not None else {}
    _warn_idle(file, scenario, days)
    with _Bar(f"{scenario.name}", "run", total=reps * len(policies)) as bar:
        table = compare(scenario, policies, reps, seed, baseline, progress=bar, **extra)
    if args.json:
        payload = {
            "scenario": scenario.name,
            "seed": seed if seed is not None else scenario.seed,
            "reps": reps,
            "baseline": baseline or policies[0],
            "results": table.to_dict(orient="records"),
        }
        print(_dumps(payload))
        return 0
    print(
        f"scenario {scenario.name}  reps {reps}  baseline {baseline or policies[0]}  "
        "(95% t-intervals, cut to the values a KPI can take; diff = policy - baseline, "
        "paired by replication)"
    )
    print(_compare_text(table))
    return 0


def _compare_text(table: Any) -> str:
    """The summary as a text table: KPI, unit, policy, then the numbers written as the
    app's KPI table writes them (one number of decimals per KPI, no "-0")."""
    from sim.kpis import KPI_UNITS
    from sim.workbench import format_values, kpi_decimals

    shown = table.sort_values(["kpi", "policy"], key=lambda s: s.map(_order(table, s.name)))
    shown = shown.assign(unit=shown["kpi"].map(lambda k: KPI_UNITS.get(k, "")))
    decimals = kpi_decimals(table)
    columns = ["kpi", "unit", "policy"]
    for group in (["mean", "ci_low", "ci_high"], ["diff", "diff_low", "diff_high"]):
        cells = [
            format_values(r[1:], r[0], decimals[r[0]])
            for r in shown[["kpi", *group]].itertuples(index=False)
        ]
        for j, name in enumerate(group):
            shown[name] = [row[j] for row in cells]
        columns += group
    return shown[columns].to_string(index=False)


def _order(table: Any, column: str) -> Callable[[Any], int]:
    """Sort key keeping the table's first-seen order of a column."""
    rank = {v: i for i, v in enumerate(dict.fromkeys(table[column]))}
    return lambda v: rank[v]


def cmd_bench(args: argparse.Namespace) -> int:
    """Benchmark the engine (routing latency) or the simulation (throughput, memory)."""
    from sim import bench

    if args.engine:
        for flag in ("million", "app"):
            if getattr(args, flag):
                raise UsageError(
                    "", f"--{flag}", "is for the simulation benchmark (without --engine)"
                )
        report = bench.engine_benchmark(quick=args.quick)
        text = bench.format_engine(report)
    else:
        report = bench.sim_benchmark(quick=args.quick, million=args.million, app=args.app)
        text = bench.format_sim(report)
    print(_dumps(report) if args.json else text)
    return 0


def _app_policy(spec: str) -> str:
    """A ``fulfil app --policy`` spec, checked as the app checks it (`extra_policy`)."""
    from engine.errors import RoutingError
    from sim.workbench import extra_policy

    try:
        extra_policy(spec)
    except RoutingError as exc:
        raise UsageError("fulfil app", "--policy", str(exc)) from None
    return spec.strip()


def cmd_app(args: argparse.Namespace) -> int:
    """Start the Streamlit workbench on this machine only."""
    from sim.workbench import APP_POLICIES_ENV

    port = int_option("fulfil app", "--port", args.port, 1, 65535)  # the user named no file
    extra = [_app_policy(spec) for spec in args.policy or []]
    if not APP_PATH.is_file():
        raise UsageError(str(APP_PATH), "", "the workbench app is not installed (file not found)")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:  # free, before we start
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds it
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise UsageError(
                "fulfil app", "--port", f"127.0.0.1:{port} is in use; choose another port"
            ) from None
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
        "--server.enableStaticServing=true",  # static/: the network map's base layer
        "--global.disableWidgetStateDuplicationWarning=true",  # levers reset by design
    ]
    if extra:
        os.environ[APP_POLICIES_ENV] = json.dumps(extra)
    print(f"fulfil app: http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    # Replace this process with Streamlit so that Ctrl-C and kill reach the server itself.
    os.execv(sys.executable, command)
    return 0  # not reached


# --- parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``fulfil`` argument parser with one sub-parser per command."""
    parser = _Parser(
        prog="fulfil",
        description="Fulfilment workbench: simulate, compare and benchmark routing policies.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "check",
        help="validate a scenario (or a policy rules or sweep) file",
        description=cmd_check.__doc__,
    )
    p.add_argument(
        "file", metavar="FILE", help="scenario YAML file, named scenario, rules file or sweep file"
    )
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("run", help="run one scenario with one policy", description=cmd_run.__doc__)
    p.add_argument("file", metavar="FILE", help="scenario YAML file or named scenario")
    p.add_argument(
        "--policy",
        required=True,
        metavar="POLICY",
        help="a policy name, a rules file FILE.yaml[:NAME] or a Python module:NAME "
        "(docs/policies.md)",
    )
    p.add_argument("--seed", metavar="N", help="random seed (default: the scenario's)")
    p.add_argument(
        "--days",
        metavar="D",
        help="simulate D days instead of the horizon (warm-up: at most D // 2 of them)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="write tables (Parquet), KPIs and scenario into DIR: a new or empty folder, or "
        "one an earlier run wrote, whose files are replaced and those this run does not "
        "write (such as policy.yaml) removed; any other folder is refused, untouched",
    )
    p.add_argument("--json", action="store_true", help="print the KPIs as one JSON object")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser(
        "compare",
        help="compare policies with confidence intervals",
        description=cmd_compare.__doc__,
    )
    p.add_argument("file", metavar="FILE", help="scenario YAML file or named scenario")
    p.add_argument(
        "--policies",
        required=True,
        metavar="A,B,C",
        help="comma-separated policies (as --policy of run)",
    )
    p.add_argument(
        "--reps", default="5", metavar="R", help="replications per policy, 1 to 1000 (default 5)"
    )
    p.add_argument("--baseline", metavar="NAME", help="policy for differences (default: first)")
    p.add_argument("--seed", metavar="N", help="root seed (default: the scenario's)")
    p.add_argument(
        "--days",
        metavar="D",
        help="simulate D days instead of the horizon (warm-up: at most D // 2 of them)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser(
        "bench", help="benchmark engine or simulation", description=cmd_bench.__doc__
    )
    p.add_argument("--engine", action="store_true", help="routing latency of the engine alone")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="small, fast version (smoke test)")
    p.add_argument("--million", action="store_true", help="also run a 1,000,000-order case")
    p.add_argument(
        "--app", action="store_true", help="also time the app's default 3 x 3 comparison"
    )
    p.set_defaults(handler=cmd_bench)

    p = sub.add_parser("app", help="start the Streamlit workbench", description=cmd_app.__doc__)
    p.add_argument("--port", default="8501", metavar="P", help="port on 127.0.0.1 (default 8501)")
    p.add_argument(
        "--policy",
        action="append",
        metavar="SPEC",
        help="also offer this policy: a rules file FILE.yaml[:NAME] or a Python module:NAME "
        "(repeatable; read from the current folder)",
    )
    p.set_defaults(handler=cmd_app)

    # `fulfil sweep`: arguments and behaviour live in sim.sweep.command (docs/sweeps.md).
    from sim.sweep.command import DESCRIPTION as SWEEP_DESCRIPTION
    from sim.sweep.command import add_arguments as add_sweep_arguments
    from sim.sweep.command import sweep_command

    p = sub.add_parser(
        "sweep", help="grid of scenarios x policies on cores or Dask", description=SWEEP_DESCRIPTION
    )
    add_sweep_arguments(p)
    p.set_defaults(handler=sweep_command)

    # `fulfil bound`: arguments and behaviour live in sim.bound_report (hindsight bound).
    from sim.bound_report import DESCRIPTION as BOUND_DESCRIPTION
    from sim.bound_report import add_arguments as add_bound_arguments
    from sim.bound_report import bound_command

    p = sub.add_parser(
        "bound", help="policies' cost beside the hindsight bound", description=BOUND_DESCRIPTION
    )
    add_bound_arguments(p)
    p.set_defaults(handler=bound_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fulfil`` console script; returns the exit status."""
    from engine.errors import RoutingError, RuleError
    from sim.scenario import ScenarioError

    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (ScenarioError, UsageError, RuleError) as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return 2
    except RoutingError as exc:  # a policy that cannot be built from what the user gave
        where = f"{args.file}: " if getattr(args, "file", None) else ""
        print(where + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fulfil: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `fulfil ... | head -1`: the reader left, stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
