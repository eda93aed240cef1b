"""Finished runs kept in memory, so a comparison never runs the same simulation twice.

A run is fixed by its resolved scenario, policy, seed, replication and the code that ran
it (`sim.sweep.tasks.task_key`), so its outcome can stand in for running it again. The
workbench keeps one `RunStore` per server: adding a policy or replications to a
comparison runs only the new runs, and a comparison stopped half way (a setting changed)
keeps the runs that finished.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.sweep.tasks import RunOutcome

__all__ = ["DEFAULT_MAX_MIB", "RunStore"]

#: Memory the detail tables of the kept runs may take before the oldest go. [MiB]
DEFAULT_MAX_MIB = 1024


def _table_bytes(outcome: RunOutcome) -> int:
    """Memory of an outcome's detail tables. [bytes]"""
    return sum(int(t.memory_usage(deep=True).sum()) for t in outcome.details.values())


class RunStore:
    """Successful run outcomes by run key, the least recently used dropped first.

    Thread-safe: a page's comparison thread adds runs while another page reads.

    Args:
        max_mib: Memory the kept detail tables may take (KPIs alone count as nothing). [MiB]
        max_runs: Runs kept at most, with or without tables. [-]
    """

    def __init__(self, max_mib: float = DEFAULT_MAX_MIB, max_runs: int = 2_000) -> None:
        if max_mib < 0 or max_runs < 1:
            raise ValueError("RunStore: max_mib must be >= 0 and max_runs >= 1")
        self.max_bytes = int(max_mib * 2**20)
        self.max_runs = int(max_runs)
        self._runs: OrderedDict[str, tuple[RunOutcome, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._runs)

    @property
    def table_mib(self) -> float:
        """Memory of the kept detail tables. [MiB]"""
        return self._bytes / 2**20

    def get(self, key: str, details: Sequence[str] = ()) -> RunOutcome | None:
        """The kept outcome of run `key` if it has every table in `details`, else None."""
        with self._lock:
            kept = self._runs.get(key)
            if kept is None or not set(details) <= set(kept[0].details):
                return None
            self._runs.move_to_end(key)
            return kept[0]

    def put(self, key: str, outcome: RunOutcome) -> None:
        """Keep a successful outcome (failed ones are never kept); replaces one under `key`
        and drops the least recently used runs beyond the limits. An outcome whose tables
        alone exceed the memory limit is not kept."""
        if not outcome.ok:
            return
        size = _table_bytes(outcome)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._runs.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._runs[key] = (outcome, size)
            self._bytes += size
            while self._bytes > self.max_bytes or len(self._runs) > self.max_runs:
                _, (_, dropped) = self._runs.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        """Forget every run."""
        with self._lock:
            self._runs.clear()
            self._bytes = 0
