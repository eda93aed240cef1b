"""What a comparison will take before it starts: orders to simulate and memory to hold them.

A run keeps every order it simulates in memory until its tables are built, so memory grows
with the horizon and the demand. The page says how big a comparison is before it runs,
and refuses one that cannot fit in the machine's free memory instead of letting the
machine run out of it many minutes later.

The memory model is fitted to `fulfil bench` peaks (Debian Python 3.11, 2026-11):
the default scenario (139,307 orders, 88,000 location-SKU pairs) peaks at 360 MiB, the
large case (220,240 orders, 1,000,000 pairs) at 610 MiB and the million-order case
(1,052,617 orders, 1,000,000 pairs) at 1,396 MiB. Solving for the three terms gives about
212 MiB of interpreter and libraries, 0.94 MiB per 1,000 orders and 199 bytes per pair;
the constants below round them up to 230 MiB, 1 MiB and 200 bytes, and the base is raised
by 40 MiB, to 270 MiB, for a fresh install: there the kernel maps the libraries' newly
written files with huge pages, and a 3-day default run peaks at 288 MiB instead of 247 (the
same 167 MiB of its own, `RssAnon`, and 42 MiB more of mapped library files, `RssFile`).
The model assumes the locations keep up with their orders: when demand outgrows the pick staff, orders wait in
queues and a run takes more (a week of the default with 30,000 orders a day instead of
5,000 peaked 68% above its estimate).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from sim.model.arrivals import ORDER_CHANNELS, peak_factor
from sim.model.clock import Clock
from sim.scenario.schema import Scenario

__all__ = [
    "RUN_BASE_MIB",
    "MIB_PER_ORDER",
    "MIB_PER_PAIR",
    "KEPT_MIB_PER_ORDER",
    "USABLE_SHARE",
    "Footprint",
    "available_memory_mib",
    "expected_orders",
    "footprint",
    "proc_mib",
]

RUN_BASE_MIB = 270.0
"""Peak memory of a run before its orders: interpreter, libraries, scenario. [MiB]"""

MIB_PER_ORDER = 1.0 / 1000
"""Peak memory a run needs per simulated order (online and wholesale). [MiB/order]"""

MIB_PER_PAIR = 200.0 / 2**20
"""Peak memory per location-SKU pair (stock records, ledger arrays). [MiB/pair]"""

USABLE_SHARE = 0.8
"""Share of the free memory a comparison may plan to use: the rest is left for the page,
the system and estimates that come out low (locations falling behind). [-]"""

KEPT_MIB_PER_ORDER = 260.0 / 2**20
"""Memory the page keeps per order of replication 0 of each policy (the chart tables:
orders and shipments, measured 246 bytes per order on the default scenario). [MiB/order]"""


def expected_orders(scn: Scenario, days: int | None = None) -> float:
    """Expected online and wholesale orders of one run, peaks and weekdays included.

    The sum of the arrival rates of `sim.model.arrivals` over the horizon, with each day
    taken as a UTC day (customers' local dates differ by a few hours; the difference is
    well under 1% over a week).

    Args:
        scn: The scenario.
        days: Days of arrivals; None = ``scn.horizon_days``. [days]

    Returns:
        The expected number of orders. [orders]
    """
    days = scn.horizon_days if days is None else int(days)
    profile = np.asarray(scn.demand.day_profile) / np.mean(scn.demand.day_profile)
    weekday = profile[(scn.start.weekday() + np.arange(days)) % 7]
    clock = Clock(scn.start)
    total = 0.0
    for name in ORDER_CHANNELS:
        per_day = getattr(scn.demand.channels, name).orders_per_day
        if per_day > 0:  # peak_factor's entries 1..days are the run's days
            total += per_day * float(weekday @ peak_factor(scn, clock, name, days)[1:-1])
    return total


@dataclass(frozen=True)
class Footprint:
    """The size of a comparison.

    Attributes:
        runs: Runs to simulate now (those not kept from earlier comparisons). [-]
        at_once: Runs simulated at the same time (worker processes). [-]
        orders: Expected orders of one run. [orders]
        run_mib: Estimated peak memory of one run. [MiB]
        kept_mib: Estimated memory of the chart tables the page keeps. [MiB]
        available_mib: Memory the machine has free now; None = unknown. [MiB]
        reused: Runs of the comparison kept from earlier ones (not run again). [-]
    """

    runs: int
    at_once: int
    orders: float
    run_mib: float
    kept_mib: float
    available_mib: float | None
    reused: int = 0

    @property
    def need_mib(self) -> float:
        """Estimated memory the comparison needs at its peak. [MiB]"""
        return min(self.at_once, self.runs) * self.run_mib + self.kept_mib

    @property
    def fits(self) -> bool:
        """The comparison fits in `USABLE_SHARE` of the free memory (always True when that
        is unknown)."""
        return self.available_mib is None or self.need_mib <= USABLE_SHARE * self.available_mib

    def describe(self) -> str:
        """One sentence for the page, e.g. ``9 runs of about 139,000 orders each, 2 at a
        time: about 0.8 GB of memory at the peak.``"""
        if not self.runs:
            return f"Nothing to run: {self._runs()}."
        return f"{self._runs()}: about {_gb(self.need_mib)} of memory at the peak."

    def refusal(self) -> str:
        """Why the comparison is not started, and what to change."""
        free = (
            ""
            if self.available_mib is None
            else f"; the machine has {_gb(self.available_mib)} free, of which "
            f"{USABLE_SHARE:.0%} ({_gb(USABLE_SHARE * self.available_mib)}) may be planned"
        )
        return (
            f"This comparison ({self._runs()}) would need about {_gb(self.need_mib)} of "
            f"memory{free}. Shorten the horizon, lower the demand or compare fewer policies."
        )

    def _runs(self) -> str:
        if not self.runs:
            return f"all {self.reused:,} runs are kept from earlier comparisons"
        runs = "1 run" if self.runs == 1 else f"{self.runs:,} runs"
        each = "" if self.runs == 1 else " each"
        at_once = f", {self.at_once} at a time" if min(self.at_once, self.runs) > 1 else ""
        reused = f" ({self.reused:,} more kept from earlier)" if self.reused else ""
        return f"{runs} of about {_rounded(self.orders)} orders{each}{at_once}{reused}"


def footprint(
    scn: Scenario,
    policies: int,
    reps: int,
    at_once: int | None = None,
    to_run: int | None = None,
) -> Footprint:
    """The size of a comparison of `policies` x `reps` runs of `scn`, `at_once` at a time.

    Args:
        scn: The scenario, as it will run.
        policies: Policies compared. [-]
        reps: Replications per policy. [-]
        at_once: Most runs to simulate at the same time; None = as many as
            `sim.workbench.workers_for` starts. Fewer when that many would not fit in
            the free memory (at least 1: `Footprint.fits` says whether that fits). [-]
        to_run: Runs that will run now (the others are kept from earlier comparisons,
            `sim.workbench.runs_to_run`); None = all of them. [-]
    """
    from sim.workbench import workers_for

    orders = expected_orders(scn)
    skus = scn.catalogue.skus
    pairs = len(scn.network.location_ids()) * (skus if isinstance(skus, int) else len(skus))
    run_mib = RUN_BASE_MIB + MIB_PER_ORDER * orders + MIB_PER_PAIR * pairs
    runs = policies * reps if to_run is None else max(0, min(int(to_run), policies * reps))
    at_once = max(1, min(workers_for(orders, runs) if at_once is None else at_once, runs))
    kept_mib = KEPT_MIB_PER_ORDER * orders * policies
    available = available_memory_mib()
    if available is not None:  # fewer runs at a time where all of them would not fit
        room = USABLE_SHARE * available - kept_mib
        at_once = max(1, min(at_once, int(room // run_mib)))
    return Footprint(
        runs=runs,
        at_once=at_once,
        orders=orders,
        run_mib=run_mib,
        kept_mib=kept_mib,
        available_mib=available,
        reused=policies * reps - runs,
    )


def available_memory_mib() -> float | None:
    """Memory the machine can give without swapping, now: ``MemAvailable`` of
    ``/proc/meminfo`` (Linux). The environment variable ``FULFIL_MEMORY_MIB`` overrides
    it. None when neither says. [MiB]"""
    given = os.environ.get("FULFIL_MEMORY_MIB", "").strip()
    if given:
        try:
            value = float(given)
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value > 0:
            return value
    return proc_mib("/proc/meminfo", "MemAvailable")


def proc_mib(path: str, key: str) -> float | None:
    """The ``key:`` line of a Linux ``/proc`` file that counts in kB (KiB), e.g.
    ``MemAvailable`` of ``/proc/meminfo``; None when the file or the line is missing. [MiB]"""
    try:
        with open(path, encoding="ascii") as lines:
            for line in lines:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _rounded(orders: float) -> str:
    """``139,000``: three significant figures, enough for an estimate."""
    if orders < 1000:
        return f"{round(orders):,}"
    digits = int(math.floor(math.log10(orders))) - 2
    return f"{round(orders, -digits):,.0f}"


def _gb(mib: float) -> str:
    """``0.8 GB``, ``34 GB``: decimal gigabytes, as the planner's machine shows them."""
    gb = mib * 2**20 / 1e9
    return f"{gb:.1f} GB" if gb < 10 else f"{gb:,.0f} GB"
