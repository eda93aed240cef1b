"""Output folders of the CLI (`fulfil run --out`, `fulfil sweep --out`).

A folder holds one command's output: `fulfil run --out` writes into a missing or empty
folder or one an earlier run wrote (and then removes the earlier run's files it does not
write again), `fulfil sweep --out` into a missing or empty folder or its own sweep's. Any
other folder is refused before anything runs, so nothing the user had there is touched.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path

__all__ = [
    "RUN_FILES",
    "TABLES",
    "clear_run",
    "entries",
    "listed",
    "run_out_problem",
    "run_output",
    "unwritable",
]

#: The tables `fulfil run --out` writes, each as ``NAME.parquet``.
TABLES = ("orders", "lines", "shipments", "events", "inventory", "utilisation")
#: The files of a run that only a run writes: its tables and ``kpis.json``.
_RESULT_FILES = frozenset({*(f"{name}.parquet" for name in TABLES), "kpis.json"})
#: Every file name `fulfil run --out` may write; the rules files only for a rules-file policy.
RUN_FILES = _RESULT_FILES | {"run.json", "scenario.yaml", "policy.yaml", "routing_policy.yaml"}


def unwritable(folder: str | Path, *, create: bool = True) -> str | None:
    """Why files cannot be written in ``folder``, or None when they can.

    Checked before a long run, so that a bad ``--out`` fails at once, not after the run.

    Args:
        folder: The output folder.
        create: Create ``folder`` when missing (a run); False only checks that it could be
            created (``fulfil sweep --plan``, which writes nothing).
    """
    path = Path(folder)
    if not create and not path.is_dir():
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        if existing is None:
            return None
        if not existing.is_dir():
            code = errno.EEXIST if existing == path else errno.ENOTDIR
            return f"cannot write there ({os.strerror(code)})"
        if not os.access(existing, os.W_OK | os.X_OK):
            return f"cannot write there ({os.strerror(errno.EACCES)})"
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        return f"cannot write there ({exc.strerror or exc})"
    return None


def entries(folder: str | Path) -> list[str]:
    """The names in `folder`, sorted; none when it is missing or not a folder."""
    try:
        return sorted(p.name for p in Path(folder).iterdir())
    except OSError:
        return []


def _our_run_json(folder: Path) -> bool:
    """``folder/run.json`` is the one `fulfil run --out` writes."""
    try:
        meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(meta, dict)
        and {"scenario", "policy", "seed", "reproduce"} <= meta.keys()
        and str(meta["reproduce"]).startswith("fulfil run ")
    )


def run_output(folder: str | Path) -> bool:
    """`folder` holds the output of `fulfil run --out`: its ``run.json``, or only the
    tables and ``kpis.json`` a run writes (a run stopped while writing). YAML files of a
    run's names without its ``run.json`` may be the user's own (a scenario kept next to
    its results): such a folder is not a run's."""
    names = entries(folder)
    return bool(names) and (_our_run_json(Path(folder)) or set(names) <= _RESULT_FILES)


def listed(names: list[str], most: int = 3) -> str:
    """Up to `most` of `names`, and how many more."""
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"


def run_out_problem(folder: str | Path) -> str | None:
    """Why `fulfil run --out` must not write into `folder`, or None when it may: a missing
    or empty folder, or one an earlier run wrote."""
    from sim.sweep.store import ResultStore

    names = entries(folder)
    if not names or run_output(folder):
        return None
    store = ResultStore(folder, create=False)
    found = store.owner()
    if found is not None or not store.foreign():
        what = f"sweep {found[0]!r}" if found else "a sweep"
        return (
            f"holds the results of {what}, not of a run; "
            "use a new or empty folder, or one an earlier `fulfil run --out` wrote"
        )
    return (
        f"holds files that are not a run's output ({listed(names)}); "
        "use a new or empty folder, or one an earlier `fulfil run --out` wrote"
    )


def clear_run(folder: str | Path) -> list[str]:
    """Remove the files an earlier `fulfil run --out` wrote in `folder`, so that the next
    run's files are not mixed with them; returns the names removed.

    Only files of the names a run writes go, and only when the folder's ``run.json`` is a
    run's: nothing else in the folder is touched.
    """
    path = Path(folder)
    if not _our_run_json(path):
        return []
    removed = []
    for name in sorted(RUN_FILES & set(entries(path))):
        if (path / name).is_file():
            (path / name).unlink()
            removed.append(name)
    return removed
