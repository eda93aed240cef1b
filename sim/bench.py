"""Benchmarks behind ``fulfil bench``: simulation throughput and memory, engine latency.

Each simulation case runs in a fresh Python subprocess (``python -m sim.bench --case
NAME``) so that its peak resident memory (`peak_rss_mib`) belongs to
that case alone. The SimPy floor is the same kind of measurement with bare SimPy: one
process per order that requests a `simpy.Resource` and gets from a `simpy.Container`,
the cheapest model that still queues for staff and takes stock; ``floor_ratio`` = large
case orders/s / floor orders/s says how close the full model gets to that floor.

Cases:

- ``default``: ``scenarios/default.yaml`` as it is.
- ``large``: the default scenario with 200 locations, 5,000 SKUs and online demand scaled
  to about 220,000 orders over 14 days (overrides below, no extra file).
- ``million``: the large network with demand scaled to about 1,050,000 orders over 28 days.
- ``app``: the workbench page's first comparison, timed as the page runs it
  (`sim.workbench.compare_policies` on the default scenario: `DEFAULT_POLICIES` x
  `DEFAULT_REPS` replications on all local cores); ``app:D`` simulates D days only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import time
from typing import Any

__all__ = [
    "CASES",
    "case_overrides",
    "engine_benchmark",
    "format_engine",
    "format_sim",
    "peak_rss_mib",
    "run_case",
    "sim_benchmark",
    "simpy_floor",
]

ONLINE_CHANNELS = ("web", "app", "marketplace", "social")
#: case -> (locations, SKUs, horizon days, warm-up days, target online orders); None = as is.
CASES: dict[str, tuple[int, int, int, int, int] | None] = {
    "default": None,
    "large": (200, 5000, 14, 1, 220_000),
    "million": (200, 5000, 28, 1, 1_050_000),
    "quick": None,  # the default scenario over 2 days (smoke test)
}
BENCH_POLICY = "closest"
TARGETS: dict[str, tuple[str, str, float]] = {
    "large_orders_per_s": ("large case throughput [orders/s]", ">=", 20_000.0),
    "floor_ratio": ("floor ratio (large / bare SimPy) [-]", ">=", 0.35),
    "million_peak_rss_mib": ("1,000,000-order peak memory [MiB]", "<", 1_536.0),
    "app_comparison_s": ("app's default 3 x 3 comparison [s]", "<", 60.0),
}
"""Benchmark targets: key -> (label, comparison, value)."""


def engine_benchmark(**kwargs: Any) -> dict[str, Any]:
    """Routing latency of the engine; see `sim.bench_engine.engine_benchmark`."""
    from sim.bench_engine import engine_benchmark as measure

    return measure(**kwargs)


def format_engine(report: dict[str, Any]) -> str:
    """Human-readable table of an engine report; see `sim.bench_engine.format_engine`."""
    from sim.bench_engine import format_engine as fmt

    return fmt(report)


def peak_rss_mib() -> float:
    """Peak resident set size of this process since it started its program. [MiB]

    On Linux this is ``VmHWM`` of ``/proc/self/status``: ``ru_maxrss`` would also count
    the parent's memory at the fork that made this process (Linux keeps the larger of the
    two across ``exec``), so a case started by a big parent would report the parent's
    size. Elsewhere, ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    from sim.footprint import proc_mib

    peak_mib = proc_mib("/proc/self/status", "VmHWM")
    if peak_mib is not None:
        return peak_mib
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024.0


def case_overrides(base: Any, case: str) -> dict[str, Any]:
    """Dotted-path overrides turning the default scenario into a benchmark case.

    The network keeps the default's warehouses and fills up to the location count with
    stores in the largest metros; online channel rates are scaled together so that the
    expected online order count over the horizon is the target, and the warehouses' pickers
    with the daily volume, so that they are as busy as the default's (unscaled, the
    million case's DCs could not keep up: their queues grew all month and the run's
    peak memory with them, 2,486 MiB instead of about 1,400).

    Args:
        base: The default `Scenario`.
        case: A key of `CASES`.

    Returns:
        Overrides for `sim.scenario.load_scenario`.
    """
    spec = CASES[case]
    if spec is None:
        return {"horizon_days": 2, "warmup_days": 0} if case == "quick" else {}
    n_locations, n_skus, days, warmup, target = spec
    warehouses = base.network.warehouses
    n_warehouses = len(warehouses) if isinstance(warehouses, list) else 0
    overrides: dict[str, Any] = {
        "horizon_days": days,
        "warmup_days": warmup,
        "network.stores": {"count": n_locations - n_warehouses, "placement": "largest_metros"},
        "catalogue.skus": n_skus,
        "demand.peaks": [],
    }
    channels = base.demand.channels
    per_day = sum(getattr(channels, c).orders_per_day for c in ONLINE_CHANNELS)
    scale = target / (per_day * days)
    for c in ONLINE_CHANNELS:
        overrides[f"demand.channels.{c}.orders_per_day"] = (
            getattr(channels, c).orders_per_day * scale
        )
    staff = base.network.warehouse_defaults.staff  # `scale` is also the daily volume's
    overrides["network.warehouse_defaults.staff"] = max(staff, math.ceil(staff * scale))
    return overrides


def run_case(case: str, policy: str = BENCH_POLICY) -> dict[str, Any]:
    """Run one benchmark case in this process and measure it.

    Args:
        case: A key of `CASES`, or ``"floor"`` for the bare-SimPy floor.
        policy: Routing policy of the run.

    Returns:
        ``orders``, ``elapsed_s``, ``orders_per_s`` and ``peak_rss_mib`` of this process.
    """
    if case.startswith("floor"):
        n = int(case.partition(":")[2] or 200_000)
        report = simpy_floor(n)
        report["peak_rss_mib"] = round(peak_rss_mib(), 1)
        return report
    if case.startswith("app"):
        days = case.partition(":")[2]
        return app_comparison(int(days) if days else None)
    from sim.run import run
    from sim.scenario import load_scenario

    base = load_scenario("default")
    scenario = (
        load_scenario("default", overrides=case_overrides(base, case))
        if case != "default"
        else base
    )
    t0 = time.perf_counter()
    result = run(scenario, policy, scenario.seed)
    elapsed = time.perf_counter() - t0
    n_orders = len(result.orders)
    return {
        "case": case,
        "orders": n_orders,
        "locations": len(scenario.network.location_ids()),
        "skus": len(scenario.catalogue.sku_ids()),
        "days": scenario.horizon_days,
        "elapsed_s": round(elapsed, 3),
        "orders_per_s": round(n_orders / elapsed, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


def app_comparison(days: int | None = None) -> dict[str, Any]:
    """Time the workbench page's first comparison on the default scenario.

    Args:
        days: Simulate this many days instead of the scenario's horizon (smoke tests).

    Returns:
        ``runs``, ``workers``, ``orders`` (online orders over all runs, as the page
        estimates them), ``elapsed_s`` (wall clock of the whole comparison, worker start-up
        included) and ``policies``.
    """
    from sim import workbench as wb
    from sim.levers import levers_to_overrides
    from sim.scenario import apply_overrides, load_scenario

    data = load_scenario("default").resolved()
    if days is not None:
        data = load_scenario(
            apply_overrides(data, levers_to_overrides(data, {"days": days}))
        ).resolved()
    t0 = time.perf_counter()
    result = wb.compare_policies(data, wb.DEFAULT_POLICIES, wb.DEFAULT_REPS, int(data["seed"]))
    elapsed = time.perf_counter() - t0
    return {
        "case": "app" if days is None else f"app:{days}",
        "policies": list(wb.DEFAULT_POLICIES),
        "runs": result.runs,
        "workers": result.workers,
        "orders": int(wb.online_orders(data) * result.runs),
        "elapsed_s": round(elapsed, 3),
    }


def simpy_floor(n_orders: int = 200_000, staff: int = 50, seed: int = 0) -> dict[str, Any]:
    """Bare-SimPy throughput: one process per order with a Resource request and a Container get.

    Orders arrive as a Poisson stream; each queues for one of ``staff`` pickers, takes one
    unit from a stock container and holds the picker for an exponential pick time. Load is
    0.8 so queues form but stay stable.

    Args:
        n_orders: Orders to simulate. [-]
        staff: Capacity of the picker resource. [-]
        seed: Seed of this measurement's own generator.

    Returns:
        ``orders``, ``elapsed_s``, ``orders_per_s``.
    """
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    pickers = simpy.Resource(env, capacity=staff)
    stock = simpy.Container(env, init=n_orders, capacity=n_orders)
    pick_hours = 0.1
    arrival_rate = 0.8 * staff / pick_hours  # orders per hour
    done = [0]

    def order():
        with pickers.request() as request:
            yield request
            yield stock.get(1)
            yield env.timeout(rng.expovariate(1.0 / pick_hours))
        done[0] += 1

    def source():
        for _ in range(n_orders):
            yield env.timeout(rng.expovariate(arrival_rate))
            env.process(order())

    t0 = time.perf_counter()
    env.process(source())
    env.run()
    elapsed = time.perf_counter() - t0
    return {
        "orders": done[0],
        "elapsed_s": round(elapsed, 3),
        "orders_per_s": round(done[0] / elapsed, 1),
    }


def _subprocess_case(case: str) -> dict[str, Any]:
    """Run `run_case` in a fresh interpreter and return its JSON report."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim.bench", "--case", case],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"case": case, "error": f"exit {proc.returncode}: {tail}"}
    return json.loads(lines[-1])


def sim_benchmark(quick: bool = False, million: bool = False, app: bool = False) -> dict[str, Any]:
    """Simulation throughput and peak memory per case, each in its own subprocess.

    Args:
        quick: Run a 2-day default scenario and a 20,000-order floor only (smoke test).
        million: Also run the 1,000,000-order case (slow; reports its peak memory).
        app: Also time the workbench page's first comparison (the ``app`` case).

    Returns:
        ``orders_per_s`` and ``peak_rss_mib`` (case -> value), ``simpy_floor_orders_per_s``,
        ``floor_ratio`` (large case / floor; the quick case in quick mode), ``cases``
        (the full report of every case), ``python`` (version and the interpreter's real path),
        ``app`` (the ``app`` case's report, with `app`) and, unless quick, ``targets`` (`check_targets`).
    """
    names = ["quick"] if quick else ["default", "large"] + (["million"] if million else [])
    cases = {name: _subprocess_case(name) for name in names}
    reference = cases["quick" if quick else "large"]
    floor_n = 20_000 if quick else max(int(reference.get("orders", 0)), 200_000)
    floor = _subprocess_case(f"floor:{floor_n}")
    ok = {k: v for k, v in cases.items() if "error" not in v}
    floor_rate = floor.get("orders_per_s")
    ratio = (
        round(reference["orders_per_s"] / floor_rate, 3)
        if floor_rate and "orders_per_s" in reference
        else None
    )
    report = {
        "orders_per_s": {k: v["orders_per_s"] for k, v in ok.items()},
        "peak_rss_mib": {k: v["peak_rss_mib"] for k, v in ok.items()},
        "simpy_floor_orders_per_s": floor_rate,
        "floor_ratio": ratio,
        "cases": cases,
        "floor": floor,
        "python": f"{platform.python_version()} ({os.path.realpath(sys.executable)})",
    }
    if app:
        report["app"] = _subprocess_case("app:2" if quick else "app")
    if not quick:
        report["targets"] = check_targets(report)
    return report


def check_targets(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each `TARGETS` entry measured in `report`: ``value`` (None when its case did not
    run), ``target``, ``comparison`` and ``met`` (None when not measured)."""
    measured = {
        "large_orders_per_s": report["orders_per_s"].get("large"),
        "floor_ratio": report["floor_ratio"],
        "million_peak_rss_mib": report["peak_rss_mib"].get("million"),
        "app_comparison_s": report.get("app", {}).get("elapsed_s"),
    }
    out = {}
    for key, (_, comparison, target) in TARGETS.items():
        value = measured[key]
        met = None if value is None else (value >= target if comparison == ">=" else value < target)
        out[key] = {"value": value, "comparison": comparison, "target": target, "met": met}
    return out


def format_sim(report: dict[str, Any]) -> str:
    """Human-readable summary of a `sim_benchmark` report."""
    lines = [f"{'case':<12}{'orders':>10}{'orders/s':>12}{'peak MiB':>10}{'seconds':>9}"]
    for name, r in report["cases"].items():
        if "error" in r:
            lines.append(f"{name:<12}  failed: {r['error']}")
            continue
        lines.append(
            f"{name:<12}{r['orders']:>10,}{r['orders_per_s']:>12,.0f}"
            f"{r['peak_rss_mib']:>10,.0f}{r['elapsed_s']:>9.1f}"
        )
    floor = report["floor"]
    lines.append(
        f"{'simpy floor':<12}{floor.get('orders', 0):>10,}"
        f"{report['simpy_floor_orders_per_s'] or 0:>12,.0f}   floor ratio {report['floor_ratio']}"
    )
    app = report.get("app")
    if app is not None:
        lines.append(
            f"app comparison: failed: {app['error']}"
            if "error" in app
            else f"app comparison: {app['runs']} runs on {app['workers']} workers "
            f"in {app['elapsed_s']:.1f} s"
        )
    for key, t in report.get("targets", {}).items():
        verdict = {True: "met", False: "missed", None: "not measured"}[t["met"]]
        value = "" if t["value"] is None else f"{t['value']:,}"
        label = TARGETS[key][0]
        lines.append(f"target: {label} {t['comparison']} {t['target']:,g}: {verdict} {value}")
    if "python" in report:
        lines.append(f"python {report['python']}")
    return "\n".join(lines)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.bench")
    parser.add_argument("--case", required=True, help="case name, or floor:N")
    args = parser.parse_args(argv)
    print(json.dumps(run_case(args.case)))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
