"""A fast, deterministic stand-in for `sim.run`, to check the sweep machinery.

It draws KPIs from a generator seeded by the run's inputs, so the same inputs give the
same KPIs in any process, and it can be told to fail, to fail a few times, or to be slow.
Use it to test a cluster set-up (``fulfil sweep FILE --runner synthetic``) before paying
for real simulations; its numbers mean nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.sweep.frontier import KPI_NAMES

__all__ = ["SyntheticResult", "SyntheticRunner"]


@dataclass
class SyntheticResult:
    """The parts of a `RunResult` a sweep reads."""

    kpis: dict[str, float]
    orders: pd.DataFrame
    shipments: pd.DataFrame


@dataclass
class SyntheticRunner:
    """A picklable runner with configurable delay and failures.

    Args:
        sleep_s: Wall time each run takes. [s]
        fail: Policy -> number of attempts that fail before one succeeds (a large number
            means always). Needs ``state_dir`` to count attempts across processes.
        crash: Like ``fail``, but the worker process dies (``os._exit``) instead of raising:
            a crashed worker. Never use it with the serial executor.
        state_dir: Folder where attempt counters are kept.
    """

    sleep_s: float = 0.0
    fail: dict[str, int] = field(default_factory=dict)
    crash: dict[str, int] = field(default_factory=dict)
    state_dir: str | None = None

    def __call__(
        self,
        scenario: dict[str, Any],
        policy: str,
        seed: int,
        *,
        days: int | None = None,
        replication: int = 0,
    ) -> SyntheticResult:
        text = json.dumps([scenario, policy, seed, replication, days], sort_keys=True, default=str)
        digest = hashlib.sha256(text.encode()).digest()
        if policy in self.fail:
            self._maybe_fail(digest.hex()[:16], self.fail[policy])
        if policy in self.crash:
            try:
                self._maybe_fail("crash-" + digest.hex()[:16], self.crash[policy])
            except RuntimeError:
                os._exit(70)
        if self.sleep_s:
            time.sleep(self.sleep_s)
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        kpis = {name: float(rng.uniform(0.0, 1.0)) for name in KPI_NAMES}
        kpis["cost_per_order"] = float(8.0 + 4.0 * rng.uniform())
        kpis["click_to_door_hours_p90"] = float(40.0 + 50.0 * rng.uniform())
        kpis["stockout_rate"] = float(0.05 * rng.uniform())
        kpis["orders"] = float(rng.integers(100, 200))
        orders = pd.DataFrame(
            {
                "order_id": np.arange(5),
                "policy": policy,
                "replication": replication,
                "seed": seed,
                "units": rng.integers(1, 4, size=5),
            }
        )
        shipments = orders[["order_id"]].assign(package=1, miles=rng.uniform(0, 900, size=5))
        return SyntheticResult(kpis=kpis, orders=orders, shipments=shipments)

    def _maybe_fail(self, run_id: str, failures: int) -> None:
        if self.state_dir is None:
            raise RuntimeError("synthetic failure")
        counter = Path(self.state_dir) / f"{run_id}.attempts"
        counter.parent.mkdir(parents=True, exist_ok=True)
        seen = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(seen + 1))
        if seen < failures:
            raise RuntimeError(f"synthetic failure {seen + 1} of {failures}")
