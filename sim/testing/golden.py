"""Golden baselines: seed-pinned KPI means with tolerance bands, in ``tests/golden/*.json``.

These are regression tests, never the only check. `check_golden` only reads the files;
they change only through ``python -m sim.testing update [NAME ...]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import RuleError
from engine.routing.rules import policy_file_digest, policy_file_spec, policy_spec_from
from sim.scenario import ScenarioError
from sim.sweep.store import atomic_write_bytes
from sim.sweep.tasks import code_version
from sim.testing.paired import Runner, _load, replicate

__all__ = ["GOLDEN_DIR", "check_golden", "golden_dir", "golden_path", "main", "update_golden"]

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "tests" / "golden"
"""The workbench's own golden folder; ``FULFIL_GOLDEN_DIR`` or ``--dir`` choose another."""
DIGEST = "policy_file_sha256"
"""Key of the SHA-256 of a rules-file policy's file, as recorded by `update_golden`."""


def golden_dir() -> Path:
    """The folder of golden files named without a path: ``FULFIL_GOLDEN_DIR`` if set."""
    return Path(os.environ.get("FULFIL_GOLDEN_DIR") or GOLDEN_DIR)


def golden_path(name: str | Path, folder: str | Path | None = None) -> Path:
    """A golden file from a name (``default_closest``, in `folder`, default `golden_dir`) or
    a ``.json`` path."""
    path = Path(name)
    if path.suffix == ".json":
        return path
    return Path(folder if folder is not None else golden_dir()) / f"{name}.json"


def _names_file(source: str, folder: Path) -> bool:
    """Whether `source` (a scenario, or a policy spec ``FILE[:NAME]``) names a ``.yaml`` or
    ``.yml`` file that is there when read from `folder` (which may not exist yet)."""
    spec = policy_file_spec(policy_spec_from(source, folder))
    return spec is not None and Path(spec[0]).is_file()


def _from(base: Path, source: str) -> str:
    """`source` with its file path (stored relative to the golden folder `base`) resolved;
    unchanged when it names no file there."""
    return policy_spec_from(source, base) if _names_file(source, base) else source


def _relative(base: Path, source: str) -> str:
    """`source` with its file path (from the current folder) made relative to `base`, so
    that the golden file works from any folder; unchanged when it names no file."""
    return (
        policy_spec_from(source, Path(), relative_to=base)
        if _names_file(source, Path())
        else source
    )


def _measure(golden: dict[str, Any], base: Path, runner: Runner | None) -> tuple[dict, dict]:
    scenario = _load(_from(base, golden["scenario"]))
    runs = replicate(
        scenario,
        _from(base, golden["policy"]),
        golden["reps"],
        seed=golden["seed"],
        days=golden["days"],
        runner=runner,
    )
    keys = list(runs[0])
    values = {k: float(np.mean([r[k] for r in runs])) for k in keys}
    sds = {k: float(np.std([r[k] for r in runs], ddof=1)) if len(runs) > 1 else 0.0 for k in keys}
    return values, sds


def _band(golden: dict[str, Any], kpi: str) -> float:
    tol = {
        **golden.get("tolerance", {}),
        **golden.get("tolerance", {}).get("kpis", {}).get(kpi, {}),
    }
    value = golden["kpis"][kpi]
    sd = golden.get("sd", {}).get(kpi, 0.0)
    noise = tol.get("sigmas", 4.0) * sd / math.sqrt(golden["reps"])
    return max(tol.get("abs", 0.0), tol.get("rel", 0.0) * abs(value), noise)


def check_golden(name: str | Path, *, runner: Runner | None = None) -> dict[str, float]:
    """Re-measure a golden case and compare every KPI with its tolerance band.

    A KPI passes when ``|measured - golden| <= max(abs, rel * |golden|, sigmas * sd /
    sqrt(reps))`` with the file's tolerances (``sd`` is the replication spread recorded
    when the file was updated). This never writes the file.

    Only the KPIs are checked; when they fail and the policy's rules file no longer has the
    SHA-256 recorded with them, the message says the file changed (files recorded before
    the digest was kept check as before, without that hint).

    Returns:
        The measured KPI means.

    Raises:
        AssertionError: KPIs outside their bands (all listed) or missing.
    """
    path = golden_path(name)
    golden = json.loads(path.read_text(encoding="utf-8"))
    recorded = golden.get(DIGEST)  # absent in files written before it was recorded
    digest = policy_file_digest(_from(path.parent, golden["policy"])) if recorded else None
    measured, _ = _measure(golden, path.parent, runner)
    problems = []
    for kpi, expected in golden["kpis"].items():
        got = measured.get(kpi, math.nan)
        if math.isnan(expected) and math.isnan(got):
            continue
        band = _band(golden, kpi)
        if not abs(got - expected) <= band:
            problems.append(f"{kpi} {got:.6g} vs golden {expected:.6g} (band +/-{band:.3g})")
    if problems:
        changed = ""
        if recorded and digest != recorded:  # the likely cause, in the same line
            now = f"{digest[:12]} now" if digest else "unreadable now"
            changed = (
                f". The rules file of policy {golden['policy']!r} changed since the golden "
                f"was recorded (SHA-256 {recorded[:12]} then, {now})"
            )
        raise AssertionError(
            f"{path.name}: "
            + "; ".join(problems)
            + changed
            + f". If intended: python -m sim.testing update {path.stem}"
        )
    return measured


def update_golden(name: str | Path, *, runner: Runner | None = None, **case: Any) -> Path:
    """Re-measure a golden case and rewrite its file (the explicit update; see module doc),
    with the SHA-256 of the policy's rules file when it is one (``policy_file_sha256``).

    Args:
        name: Golden name or path.
        runner: Run function; default `sim.run`.
        **case: For a new file: ``scenario`` (path relative to the golden folder or a
            name), ``policy``, ``seed``, ``days``, ``reps``; optional ``tolerance``.
    """
    path = golden_path(name)
    golden = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    golden.update({k: v for k, v in case.items() if v is not None})
    golden.setdefault(
        "note",
        "Regression baseline (seed-pinned KPI means), not a truth. Change only with "
        f"'python -m sim.testing update {path.stem}'.",
    )
    golden.setdefault("tolerance", {"rel": 0.02, "abs": 0.002, "sigmas": 4.0})
    missing = [k for k in ("scenario", "policy", "seed", "days", "reps") if k not in golden]
    if missing:
        raise ValueError(f"{path.name}: new golden file needs {', '.join(missing)}")
    digest = policy_file_digest(_from(path.parent, golden["policy"]))
    values, sds = _measure(golden, path.parent, runner)
    golden.pop(DIGEST, None)
    if digest is not None:  # a rules-file policy: `check_golden` says when the file changed
        golden[DIGEST] = digest
    golden.update(
        kpis=values,
        sd=sds,
        code_version=code_version(),
        updated=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    text = json.dumps(golden, indent=1, allow_nan=True) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def _paths(args: argparse.Namespace) -> list[Path]:
    """The golden files named on the command line, or every one in the folder; a folder
    that does not exist or holds none is a UsageError (a check of nothing must not pass)."""
    from sim.cli import UsageError

    folder = Path(args.dir) if args.dir else golden_dir()
    if args.names:
        return [golden_path(name, folder) for name in args.names]
    if not folder.is_dir():
        raise UsageError(str(folder), "", "no such golden folder")
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise UsageError(str(folder), "", "holds no golden files (*.json)")
    return paths


def _new(args: argparse.Namespace, runner: Runner | None) -> Path:
    """Check the inputs of ``new`` (UsageError naming the option), then measure the file."""
    from sim.cli import UsageError, check_policy_name, int_option, load_scenario_file
    from sim.scenario.schema import MAX_HORIZON_DAYS, MAX_REPLICATIONS, MAX_SEED

    path = golden_path(args.name, args.dir)
    if path.exists():
        raise UsageError(str(path), "", "exists; use 'update' to re-measure it")
    for option, value, low, high in (
        ("--seed", args.seed, 0, MAX_SEED),
        ("--days", args.days, 1, MAX_HORIZON_DAYS),
        ("--reps", args.reps, 1, MAX_REPLICATIONS),
    ):
        int_option(args.name, option, str(value), low, high)
    if Path(args.scenario).is_file():
        load_scenario_file(args.scenario)
    else:
        _load(args.scenario)  # a library name
    check_policy_name(args.name, "--policy", args.policy)
    case = {k: getattr(args, k) for k in ("seed", "days", "reps")}
    case["scenario"] = _relative(path.parent, args.scenario)
    case["policy"] = _relative(path.parent, args.policy)
    return update_golden(path, runner=runner, **case)


def main(argv: Sequence[str] | None = None, *, runner: Runner | None = None) -> int:
    """``python -m sim.testing {update,check,new}``; see the module docstring.

    Returns:
        Exit status: 0 when everything passed, 1 when a check failed, 2 for bad input.
    """
    parser = argparse.ArgumentParser(prog="python -m sim.testing", description="Golden baselines.")
    sub = parser.add_subparsers(dest="command", required=True)
    where = "golden folder (default: $FULFIL_GOLDEN_DIR, else the workbench's tests/golden)"
    for cmd in ("update", "check"):
        p = sub.add_parser(cmd, help=f"{cmd} golden files (default: all in the golden folder)")
        p.add_argument("names", nargs="*", help="golden names or paths")
        p.add_argument("--dir", help=where)
    new = sub.add_parser("new", help="create a golden file")
    new.add_argument("--dir", help=where)
    new.add_argument("name")
    new.add_argument("--scenario", required=True)
    new.add_argument("--policy", required=True)
    new.add_argument("--seed", type=int, default=42)
    new.add_argument("--days", type=int, default=3)
    new.add_argument("--reps", type=int, default=2)
    args = parser.parse_args(argv)
    from sim.cli import UsageError

    try:  # bad input only: an error inside a run keeps its traceback
        return _main(args, runner)
    except (UsageError, ScenarioError, RuleError) as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return 2


def _main(args: argparse.Namespace, runner: Runner | None) -> int:
    status = 0
    if args.command == "new":
        print(f"wrote {_new(args, runner)}")
        return 0
    for path in _paths(args):
        if not path.is_file():
            print(f"{path}: no such golden file", file=sys.stderr)
            return 2
        if args.command == "update":
            print(f"updated {update_golden(path, runner=runner)}")
            continue
        try:
            check_golden(path, runner=runner)
            print(f"ok {path.name}")
        except AssertionError as exc:
            print(f"FAILED {exc}", file=sys.stderr)
            status = 1
    return status
