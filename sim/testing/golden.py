"""Golden baselines: seed-pinned KPI means with tolerance bands, in ``tests/golden/*.json``.

These are regression tests, never the only check. `check_golden` only reads the files;
they change only through ``python -m sim.testing update [NAME ...]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sim.sweep.store import atomic_write_bytes
from sim.sweep.tasks import code_version
from sim.testing.paired import Runner, _load, replicate

__all__ = ["GOLDEN_DIR", "check_golden", "golden_path", "main", "update_golden"]

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "tests" / "golden"


def golden_path(name: str | Path) -> Path:
    """A golden file from a name (``default_closest``) or a path."""
    path = Path(name)
    return path if path.suffix == ".json" else GOLDEN_DIR / f"{name}.json"


def _measure(golden: dict[str, Any], base: Path, runner: Runner | None) -> tuple[dict, dict]:
    source = golden["scenario"]
    candidate = (base / source).resolve()
    scenario = _load(str(candidate) if candidate.is_file() else source)
    runs = replicate(
        scenario,
        golden["policy"],
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

    Returns:
        The measured KPI means.

    Raises:
        AssertionError: KPIs outside their bands (all listed) or missing.
    """
    path = golden_path(name)
    golden = json.loads(path.read_text(encoding="utf-8"))
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
        raise AssertionError(
            f"{path.name}: "
            + "; ".join(problems)
            + f". If intended: python -m sim.testing update {path.stem}"
        )
    return measured


def update_golden(name: str | Path, *, runner: Runner | None = None, **case: Any) -> Path:
    """Re-measure a golden case and rewrite its file (the explicit update; see module doc).

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
    values, sds = _measure(golden, path.parent, runner)
    golden.update(
        kpis=values,
        sd=sds,
        code_version=code_version(),
        updated=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    text = json.dumps(golden, indent=1, allow_nan=True) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def _names(args: Sequence[str]) -> list[str | Path]:
    return list(args) or sorted(GOLDEN_DIR.glob("*.json"))


def main(argv: Sequence[str] | None = None, *, runner: Runner | None = None) -> int:
    """``python -m sim.testing {update,check,new}``; see the module docstring.

    Returns:
        Exit status: 0 when everything passed, 1 when a check failed, 2 for bad input.
    """
    parser = argparse.ArgumentParser(prog="python -m sim.testing", description="Golden baselines.")
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in ("update", "check"):
        p = sub.add_parser(cmd, help=f"{cmd} golden files (default: all in tests/golden)")
        p.add_argument("names", nargs="*", help="golden names or paths")
    new = sub.add_parser("new", help="create a golden file")
    new.add_argument("name")
    new.add_argument("--scenario", required=True)
    new.add_argument("--policy", required=True)
    new.add_argument("--seed", type=int, default=42)
    new.add_argument("--days", type=int, default=3)
    new.add_argument("--reps", type=int, default=2)
    args = parser.parse_args(argv)
    status = 0
    if args.command == "new":
        if golden_path(args.name).exists():
            print(
                f"{golden_path(args.name)}: exists; use 'update' to re-measure it", file=sys.stderr
            )
            return 2
        case = {k: getattr(args, k) for k in ("scenario", "policy", "seed", "days", "reps")}
        print(f"wrote {update_golden(args.name, runner=runner, **case)}")
        return 0
    for name in _names(args.names):
        if not golden_path(name).is_file():
            print(f"{golden_path(name)}: no such golden file", file=sys.stderr)
            return 2
        if args.command == "update":
            print(f"updated {update_golden(name, runner=runner)}")
            continue
        try:
            check_golden(name, runner=runner)
            print(f"ok {golden_path(name).name}")
        except AssertionError as exc:
            print(f"FAILED {exc}", file=sys.stderr)
            status = 1
    return status
