"""Run one scenario with one routing policy: `run(...) -> RunResult`.

A run builds a `World` (engine objects, shelves, pre-generated demand), simulates the
horizon plus a drain period (no new demand, until nothing is in flight), checks that every
unit is accounted for, and returns tidy tables and KPIs.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.audit import Op
from engine.errors import LedgerError, RuleError
from engine.ledger import Ledger
from engine.routing import get_policy, load_policy_spec, policy_file_spec
from engine.routing.context import Policy
from sim.kpis import compute_kpis
from sim.model.arrivals import CHANNELS, METHODS, line_orders
from sim.model.orders import order_id
from sim.model.stock import ConservationError
from sim.model.world import World
from sim.policy_modules import import_policy, module_spec
from sim.records import LOCATION_KINDS, RunMeta, categorical
from sim.scenario.loader import check_policy, load_scenario
from sim.scenario.schema import MAX_HORIZON_DAYS, MAX_SEED, Scenario

__all__ = ["INFLOW_OPS", "ConservationError", "RunResult", "ledger_inflows", "run"]

INFLOW_OPS = (Op.RECEIVE, Op.RETURN, Op.ADJUST_UP)
"""Ledger operations that bring units in: receipts, returns to stock, upward adjustments."""


@dataclass
class RunResult:
    """Everything one run produced.

    The tables' columns (type, unit, meaning), the order and package statuses and the
    event kinds are described in docs/tables.md. Times ``*_h`` are hours since the
    scenario's start, 00:00 UTC of its ``start`` date.

    Attributes:
        scenario: Scenario name.
        policy: Routing policy label.
        seed: Run seed.
        replication: Replication index.
        kpis: KPI name -> value (see `sim.kpis.KPI_NAMES`).
        orders: One row per order: online and wholesale (B2B) orders, told apart by
            ``channel``; the KPIs count online orders created after the warm-up only
            (``in_warmup`` False; `sim.kpis`).
        lines: One row per order line.
        shipments: One row per package (pick at one location).
        events: One row per notable event (stockouts, rejections, returns, ...); the
            columns' meaning per ``kind`` is in docs/tables.md.
        inventory: Time-weighted physical stock per location: one whole-run row per
            location (``day`` NaN) and one row per location and day. [units]
        utilisation: Per location: staff utilisation within the horizon (busy staff-hours /
            staff x open hours), packages picked, mean queue wait [h], share that waited,
            and the walk-in (POS) units customers asked for over the horizon, warm-up
            included, and those they could not buy because the shelf was empty
            (``walk_in_units``, ``walk_in_lost_units``; 0 where nobody walks in:
            warehouses and dark stores). [units]
        conservation: Physical unit totals of the balance that was checked. [units]
        elapsed_s: Wall-clock time of the run. [s]
        end_h: Simulated time when the run ended (horizon plus drain). [h]
        inflows: Units that entered the ledger (`INFLOW_OPS`) per location, SKU and day
            since the start, ledger order (L, S, days), when `run(..., inflows=True)`;
            else None. [units]
    """

    scenario: str
    policy: str
    seed: int
    replication: int
    kpis: dict[str, float]
    orders: pd.DataFrame
    lines: pd.DataFrame
    shipments: pd.DataFrame
    events: pd.DataFrame
    inventory: pd.DataFrame
    utilisation: pd.DataFrame
    conservation: dict[str, int]
    elapsed_s: float
    end_h: float = field(default=float("nan"))
    inflows: np.ndarray | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"RunResult(scenario={self.scenario!r}, policy={self.policy!r}, seed={self.seed}, "
            f"replication={self.replication}, orders={len(self.orders)}, "
            f"elapsed_s={self.elapsed_s:.2f})"
        )


def _whole(name: str, value: Any, low: int, high: int) -> int:
    """`value` as an int from `low` to `high` (``3.0`` counts as 3; bools and text do not).

    Raises:
        ValueError: Naming `name`, the range and the value.
    """
    try:
        whole = not isinstance(value, bool | str) and int(value) == value
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or not low <= value <= high:
        raise ValueError(f"{name}: must be an integer from {low} to {high}, got {value!r}")
    return int(value)


def _resolve_policy(policy: Any, scn: Scenario) -> tuple[Policy, str]:
    """A policy object and its label from a name, a rules file ``FILE[:NAME]``, a Python
    ``module:NAME`` (`sim.policy_modules`) or an object."""
    if policy is None:
        policy = scn.routing.policy
    if not isinstance(policy, str | Path):
        return policy, str(getattr(policy, "name", policy))
    text = str(policy)
    if policy_file_spec(text) is not None:
        rules = load_policy_spec(text)
        _check_locations(rules, scn, text)
        return rules, text
    params = dict(scn.routing.params) if text == scn.routing.policy else {}
    name = import_policy(text) if module_spec(text) else text
    return get_policy(name, **params), text


def _check_locations(policy: Policy, scn: Scenario, file: str) -> None:
    """A rules file's `exclude` filters and `priority` keys name locations of the network.

    The engine itself ignores ids it does not know (a rule may list locations of several
    networks); a run of the workbench treats them as a mistake in the file, as it does
    for ``routing.params.priority``.

    Raises:
        RuleError: naming the file, the policy and the unknown location ids.
    """
    named = [*getattr(policy, "filters", ()), *getattr(policy, "sort", ())]
    ids = [i for rule in named for i in getattr(rule, "ids", ())]
    unknown = sorted(set(ids) - set(scn.network.location_ids()))
    if unknown:
        raise RuleError(
            f"{file}: policy {policy.name!r}: unknown location(s) {', '.join(unknown)} "
            f"(not in scenario {scn.name!r})"
        )


def run(
    scenario: Scenario | str | Path | dict,
    policy: Policy | str | None = None,
    seed: int | None = None,
    *,
    days: int | None = None,
    replication: int = 0,
    progress: Callable[[float], None] | None = None,
    inflows: bool = False,
) -> RunResult:
    """Simulate one scenario under one routing policy.

    Args:
        scenario: A `Scenario`, a scenario name from ``scenarios/``, a YAML path or a dict.
        policy: Registered engine policy name, a rules YAML file path, or a `Policy`;
            None uses the scenario's ``routing.policy``.
        seed: Run seed; None uses the scenario's seed. The same scenario, policy, seed and
            replication always give identical results, in any process.
        days: Simulate this many days instead of ``horizon_days`` (the warm-up shrinks to
            at most half of it). [days]
        replication: Replication index; each index has independent random streams, and
            every policy sees the same demand for the same (seed, replication).
        progress: Called with the fraction of the horizon done, once per simulated day.
        inflows: Also fill `RunResult.inflows` (the hindsight bound's supply).

    Returns:
        The `RunResult`.

    Raises:
        ScenarioError: Invalid scenario file or name, or an unknown ``routing.policy``
            when `policy` is None.
        RoutingError: Unknown policy or bad policy parameters.
        RuleError: Invalid rules file.
        ValueError: `days`, `replication` or `seed` not a whole number in range.
        ConservationError: Units were created or lost (a model bug; never silent).
    """
    t0 = time.perf_counter()
    scn = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    days = None if days is None else _whole("days", days, 1, MAX_HORIZON_DAYS)
    replication = _whole("replication", replication, 0, MAX_SEED)
    seed = scn.seed if seed is None else _whole("seed", seed, 0, MAX_SEED)
    if policy is None:  # the scenario's own: an unknown one names the file and the field
        check_policy(scn, str(scenario) if isinstance(scenario, str | Path) else scn.name)
    pol, label = _resolve_policy(policy, scn)
    w = World.build(scn, pol, seed, replication, days, progress)
    end_h = w.run()
    conservation = check_conservation(w)
    meta = RunMeta(scn.name, label, int(replication), seed)
    inflow = ledger_inflows(w.ledger, w.clock.dt(0.0).timestamp(), end_h) if inflows else None
    build_tables = _tables(w, meta, end_h)
    del w  # only the records and demand are needed from here: free the rest of the world
    gc.collect()  # (it holds reference cycles) before the tables add their columns
    tables = build_tables()
    del build_tables
    kpis = compute_kpis(tables)
    return RunResult(
        scenario=scn.name,
        policy=label,
        seed=seed,
        replication=int(replication),
        kpis=kpis,
        orders=tables["orders"],
        lines=tables["lines"],
        shipments=tables["shipments"],
        events=tables["events"],
        inventory=tables["inventory"],
        utilisation=tables["utilisation"],
        conservation=conservation,
        elapsed_s=time.perf_counter() - t0,
        end_h=end_h,
        inflows=inflow,
    )


def ledger_inflows(ledger: Ledger, start_ts: float, end_h: float) -> np.ndarray:
    """Units that entered the ledger (`INFLOW_OPS`) per location, SKU and day.

    Args:
        ledger: The run's ledger (its audit log is read).
        start_ts: POSIX time of simulated hour 0. [s]
        end_h: Last simulated hour; day indices run 0..ceil(end_h / 24). [h]

    Returns:
        float (L, S, days) in ledger order; later entries fall in the last day. [units]
    """
    cols = ledger.audit.columns()
    inflow = np.isin(cols["op"], [int(o) for o in INFLOW_OPS]) & (cols["sku"] >= 0)
    day = np.floor((cols["timestamp"][inflow] - start_ts) / 86_400.0).astype(np.int64)
    n_days = int(np.ceil(end_h / 24.0)) + 1
    supply = np.zeros((*ledger.shape, n_days))
    np.add.at(
        supply,
        (cols["loc"][inflow], cols["sku"][inflow], np.clip(day, 0, n_days - 1)),
        cols["qty"][inflow],
    )
    return supply


def check_conservation(w: World) -> dict[str, int]:
    """Check the physical balance and the ledger's; raise `ConservationError` if broken.

    Returns:
        Physical totals (initial, received, returned, sold, shipped, picked_up, disposed,
        pipelines, on_hand, in_transit) plus the ledger's ``ledger_on_hand``. [units]
    """
    out = w.stock.check()
    try:
        w.ledger.check_conservation()
        w.ledger.check_reservations()
    except LedgerError as exc:
        raise ConservationError(f"engine ledger: {exc}") from exc
    open_units = sum(p.units for p in w.oms.live_packages.values() if p.status != "released")
    shipped_live = sum(p.units for p in w.oms.live_packages.values() if p.status in ("shipped",))
    pipeline = out["awaiting_carrier"] + out["awaiting_pickup"]
    in_packages = open_units - shipped_live
    # BOPIS parcels travelling to their pickup store are in `transfer`, with replenishment
    if not pipeline <= in_packages <= pipeline + out["transfer"]:
        raise ConservationError(
            f"units in open packages ({in_packages}) do not match the pipelines "
            f"(awaiting carrier + pickup {pipeline}, transfers {out['transfer']})"
        )
    out["ledger_on_hand"] = int(w.ledger.on_hand.sum(dtype=np.int64))
    out["pos_lost_units"] = int(w.pos.lost_by_row.sum())
    return out


def _tables(w: World, meta: RunMeta, end_h: float) -> Callable[[], dict[str, pd.DataFrame]]:
    """Write the rows of what is still in flight; return a function building the tables.

    The small inventory and utilisation tables are built now; the function keeps only the
    recorder, the demand columns the tables show and a few id lists, so the world can be
    freed before it runs.
    """
    oms, d = w.oms, w.demand
    for st in list(oms.live.values()):
        oms.record_order(st)
    for pkg in list(oms.live_packages.values()):
        oms.record_package(pkg)
    location = categorical(np.arange(len(w.loc_ids)), w.loc_ids)
    kind = categorical([LOCATION_KINDS.index(k) for k in w.loc_kinds], LOCATION_KINDS)
    small = {
        "inventory": meta.stamp(_inventory(w, end_h, location, kind)),
        "utilisation": meta.stamp(_utilisation(w, end_h, location, kind)),
    }
    rec, requested_method, warmup_h = w.rec, oms.requested_method, w.warmup_h
    region_ids, loc_ids, sku_ids = w.region_ids, w.loc_ids, w.sku_ids
    time_h, channel, method, region = d.time_h, d.channel, d.method, d.region
    line_start, line_sku, line_qty = d.line_start, d.line_sku, d.line_qty

    def build() -> dict[str, pd.DataFrame]:
        n = len(time_h)
        order_ids = np.array([order_id(i) for i in range(n)], dtype=object)
        counts = np.diff(line_start)
        units_ordered = (
            np.add.reduceat(line_qty, line_start[:-1], dtype=np.int32)
            if n
            else np.zeros(0, dtype=np.int32)
        )
        demand_cols = {
            "channel": categorical(channel, CHANNELS),
            "method": categorical(method, METHODS),
            "requested_method": categorical(requested_method, METHODS),
            "region": categorical(region, region_ids),
            "created_h": time_h,
            "units_ordered": units_ordered,
            "in_warmup": time_h < warmup_h,
        }
        line_cols = {
            "order": line_orders(line_start),
            "line": np.arange(line_sku.size) - np.repeat(line_start[:-1], counts),
            "sku": line_sku,
            "units_ordered": line_qty,
        }
        tables = rec.frames(
            meta, order_ids, demand_cols, line_cols, loc_ids, kind, sku_ids, METHODS
        )
        return tables | small

    return build


def _inventory(
    w: World, end_h: float, location: pd.Categorical, kind: pd.Categorical
) -> pd.DataFrame:
    n_loc = len(w.loc_ids)
    summary = w.stock.summary(end_h)
    whole = pd.DataFrame(
        {
            "location": location,
            "kind": kind,
            "day": np.full(n_loc, np.nan),
            "hours": np.full(n_loc, end_h),
            **summary,
            "ledger_on_hand": w.ledger.on_hand.sum(axis=1, dtype=np.int64),
            "ats": w.ledger.ats("web").sum(axis=1, dtype=np.int64),
        }
    )
    rows = []
    for (day, hours, mean, lo, hi, end), (_, ledger, ats) in zip(
        w.stock.daily(), w.daily, strict=True
    ):
        rows.append(
            pd.DataFrame(
                {
                    "location": location,
                    "kind": kind,
                    "day": np.full(n_loc, float(day)),
                    "hours": np.full(n_loc, hours),
                    "mean_on_hand": mean,
                    "min_on_hand": lo,
                    "max_on_hand": hi,
                    "end_on_hand": end,
                    "ledger_on_hand": ledger,
                    "ats": ats,
                }
            )
        )
    return pd.concat([whole, *rows], ignore_index=True)


def _available_hours(w: World, row: int, end_h: float) -> float:
    cal = w.calendar
    total = 0.0
    for s, e in zip(cal.starts[row], cal.ends[row], strict=True):
        total += max(0.0, min(e, end_h) - max(s, 0.0))
    return total


def _utilisation(
    w: World, end_h: float, location: pd.Categorical, kind: pd.Categorical
) -> pd.DataFrame:
    rows = []
    walk_in, walk_in_lost = w.pos.units_by_row.tolist(), w.pos.lost_by_row.tolist()
    for row, site in enumerate(w.sites):
        hours = _available_hours(w, row, w.horizon_h)
        capacity = site.staff * hours
        rows.append(
            {
                "staff": site.staff,
                "available_hours": hours,
                "busy_staff_hours": site.busy_horizon_h,  # the hours `utilisation` divides
                "utilisation": site.busy_horizon_h / capacity if capacity > 0 else np.nan,
                "packages_picked": site.jobs,
                "mean_wait_h": site.wait_h / site.jobs if site.jobs else np.nan,
                "share_waited": site.waited / site.jobs if site.jobs else np.nan,
                "rejections": site.rejected,
                "walk_in_units": walk_in[row],
                "walk_in_lost_units": walk_in_lost[row],
            }
        )
    table = pd.DataFrame(rows)  # one row per location row: w.sites follows the network
    table.insert(0, "location", location)
    table.insert(1, "kind", kind)
    return table
