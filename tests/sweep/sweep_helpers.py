"""Helpers of the sweep tests: a small sweep file and running the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

SMALL_SWEEP = {
    "name": "small",
    "scenario": "default",
    "grid": {"network.store_defaults.daily_order_limit": [20, 60]},
    "overrides": [
        {"demand.channels.web.methods.bopis": 0.05, "demand.channels.web.methods.ship": 0.92},
        {"demand.channels.web.methods.bopis": 0.30, "demand.channels.web.methods.ship": 0.67},
    ],
    "policies": ["closest", "min_split"],
    "replications": 2,
    "days": 2,
}


def write_sweep(folder: Path, **changes: object) -> Path:
    """Write SMALL_SWEEP (with ``changes``) as YAML into ``folder``; returns the path."""
    data = {**SMALL_SWEEP, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


#: Pinned code version for the sweep tests: other people editing sim/ while the tests run
#: must not change the run keys between two invocations (see `code_version`).
PINNED_CODE = "0.0.0+sweep-tests"


def cli_env() -> dict[str, str]:
    """Environment for subprocesses: the test runners importable, no stray scheduler."""
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    env["FULFIL_CODE_VERSION"] = PINNED_CODE
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")])
    return env


def sweep_cli(*args: str, timeout: float = 120, **kw: object) -> subprocess.CompletedProcess:
    """Run ``python -m sim.sweep ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "sim.sweep", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=kw.pop("env", None) or cli_env(),
        cwd=kw.pop("cwd", ROOT),
        **kw,
    )


def children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.add(int(status.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text().split("State:\t", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def marks(folder: Path, what: str) -> list[tuple[int, str, str]]:
    """``(pid, policy, run)`` of the runs that left a ``what`` mark (``started`` or
    ``finished``) in ``folder`` (see `sweep_test_runners`)."""
    found = []
    for path in Path(folder).glob(f"{what}-*"):
        pid, rest = path.name.removeprefix(f"{what}-").split("-", 1)
        policy, run = rest.rsplit("-", 1)
        found.append((int(pid), policy, run))
    return found
