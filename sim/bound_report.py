"""`fulfil bound`: each policy's realised fulfilment cost beside the hindsight bound.

Every policy is simulated on the same demand (same scenario and seed: common random
numbers). The bound (`sim.bound`) is built from the realised orders of those runs:

* demand: the units of every online order not cancelled (wholesale orders, served by the
  wholesale DCs under every policy, are left out of the bound and the realised costs, as
  they are of the KPIs), by destination region (BOPIS orders form one group) and SKU, dated by the latest day any of the runs picked a unit of the order
  (the creation day if none did), so every run's shipments respect the stock rows; a new
  period starts only on days when stock arrives somewhere (days in between are merged,
  which loses nothing), so static stock gives a single-period LP;
* supply: the initial stock plus every inflow the engine's ledger recorded (receipts,
  transfers in, restocked returns, upward counts) by location, SKU and day, taking for
  each cell the largest cumulative supply over the runs (over-stating supply keeps the
  bound valid);
* costs: the rate card's per-item and per-mile prices plus per-unit handling per unit, the
  package fee plus handling per order per package (the cheapest table price when a zone
  table replaces the formula), and the unfilled-unit penalty of `unfilled_penalty`.

A policy's realised fulfilment cost is its online orders' shipping plus handling cost plus
the penalty for every unit of a non-cancelled online order it did not fulfil. The share of the gap closed is
`(cost[baseline] - cost[policy]) / (cost[baseline] - bound)`, the baseline being the
myopic `cost` policy.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from engine.location import Capability
from engine.routing.lp.cover import min_packages
from engine.routing.lp.transport import unfilled_penalty
from sim.bound import BoundProblem, BoundResult, solve_bound
from sim.kpis import online_mask
from sim.scenario.build import build_catalogue, build_network, build_rate_card, initial_stock
from sim.scenario.schema import Scenario

__all__ = [
    "DEFAULT_POLICIES",
    "DESCRIPTION",
    "BoundReport",
    "add_arguments",
    "bound_command",
    "bound_report",
    "realised_cost",
]

DEFAULT_POLICIES = ("closest", "cost", "lookahead", "lp_rounding", "batch")
_LP_POLICIES = ("lookahead", "lp_rounding")


@dataclass
class BoundReport:
    """The bound and every policy's realised cost on the same demand.

    Attributes:
        scenario: Scenario name.
        seed: Run seed.
        baseline: Policy whose gap to the bound is the reference.
        bound: The solved bound.
        rows: One dict per policy: policy, cost, shipping, handling, unfilled_units,
            penalty_cost, packages, ratio (cost / bound), gap_closed, run_seconds.
        penalty: Unfilled-unit penalty. [USD/unit]
    """

    scenario: str
    seed: int
    baseline: str
    bound: BoundResult
    rows: list[dict[str, Any]] = field(default_factory=list)
    penalty: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        b = self.bound
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "baseline": self.baseline,
            "penalty_per_unit": self.penalty,
            "bound": {
                "value": b.value,
                "package_cost": b.package_cost,
                "unit_cost": b.unit_cost,
                "penalty_cost": b.penalty_cost,
                "packages": b.packages,
                "unfilled_units": b.unfilled_units,
                "variables": b.variables,
                "constraints": b.constraints,
                "seconds": b.seconds,
            },
            "policies": self.rows,
        }

    def table(self) -> str:
        """A fixed-width text table."""
        head = f"{'policy':<14}{'cost USD':>14}{'x bound':>9}{'gap closed':>12}{'packages':>10}"
        lines = [
            f"{self.scenario} (seed {self.seed}): hindsight bound {self.bound.value:,.2f} USD "
            f"({self.bound.seconds:.1f} s, {self.bound.variables:,} LP columns)",
            head,
        ]
        for r in self.rows:
            gap = "" if r["gap_closed"] is None else f"{100 * r['gap_closed']:.1f}%"
            lines.append(
                f"{r['policy']:<14}{r['cost']:>14,.2f}{r['ratio']:>9.4f}{gap:>12}"
                f"{r['packages']:>10,}"
            )
        lines.append(f"gap closed = share of the {self.baseline}-to-bound gap")
        return "\n".join(lines)


def realised_cost(orders: Any, penalty: float) -> dict[str, float]:
    """Fulfilment cost of a run's online orders from its orders table (cancelled orders
    left out of the unfilled units; every order counts without a ``channel`` column).

    Returns:
        shipping, handling, unfilled_units, penalty_cost, cost [USD] and packages.
    """
    orders = orders[online_mask(orders)]
    live = orders[orders["status"] != "cancelled"]
    unfilled = float((live["units"] - live["units_fulfilled"]).clip(lower=0).sum())
    shipping = float(orders["shipping_cost"].sum())
    handling = float(orders["handling_cost"].sum())
    return {
        "shipping": shipping,
        "handling": handling,
        "unfilled_units": unfilled,
        "penalty_cost": unfilled * penalty,
        "cost": shipping + handling + unfilled * penalty,
        "packages": int(orders["packages"].sum()),
    }


def _run(scn: Scenario, policy: str, seed: int, days: int | None) -> tuple[Any, np.ndarray]:
    """Simulate one policy; returns its `RunResult` and inflows (L, S, day)."""
    from engine.routing import get_policy
    from sim.run import run

    if policy in _LP_POLICIES:  # the LP policies plan until the end of the simulated days
        start = datetime.combine(scn.start, datetime.min.time(), tzinfo=UTC)
        params = dict(scn.routing.params) if policy == scn.routing.policy else {}
        params.setdefault("until", start + timedelta(days=days or scn.horizon_days))
        result = run(scn, get_policy(policy, **params), seed, days=days, inflows=True)
        result.policy = policy
    else:
        result = run(scn, policy, seed, days=days, inflows=True)
    return result, result.inflows


def _columns(cum: np.ndarray, g: np.ndarray, s: np.ndarray, p: np.ndarray) -> int:
    """LP columns of the cells (g, s, p): one per location that has had s by p."""
    key = np.unique((g.astype(np.int64) * cum.shape[1] + s) * cum.shape[2] + p)
    sku, per = (key // cum.shape[2]) % cum.shape[1], key % cum.shape[2]
    return int((cum[:, sku, per] > 0).sum())


def _problem(
    scn: Scenario, results: list[Any], supplies: list[np.ndarray], max_columns: int
) -> BoundProblem:
    """The bound's inputs from the runs of every policy on the same demand.

    When the LP would exceed `max_columns`, days are merged into weeks, then into one
    period, then regions into the nearest of fewer hubs (each group keeps the cheapest
    cost of its members): every step relaxes the LP, so the bound stays valid.
    """
    net = build_network(scn)
    cat = build_catalogue(scn)
    stock, _ = initial_stock(scn, net, cat)
    rates = build_rate_card(scn)
    n_l, n_s = stock.shape
    n_days = max(s.shape[2] for s in supplies)
    cum = np.zeros((n_l, n_s, n_days))
    for sup in supplies:
        pad = np.pad(sup, ((0, 0), (0, 0), (0, n_days - sup.shape[2])))
        cum = np.maximum(cum, np.cumsum(pad, axis=2))
    cum += stock[:, :, None]
    region_ids = [r.id for r in net.regions]
    n_r = len(region_ids)
    hpo, hpu = rates.handling_arrays(net)
    ship, pickup = net.can[Capability.SHIP], net.can[Capability.PICKUP]
    miles = net.region_distances().T  # (L, R)
    if rates.zone_weight_table is None:
        unit_ship, fee_ship = rates.unit_costs(miles) + hpu[:, None], rates.per_package + hpo
    else:  # a table price is per package: charge its cheapest entry per package only
        cheapest = min(p for rows in rates.zone_weight_table.values() for _, p in rows)
        unit_ship, fee_ship = np.zeros(miles.shape) + hpu[:, None], cheapest + hpo
    unit = np.hstack([unit_ship, hpu[:, None]])  # group n_r = BOPIS
    fee = np.hstack([np.broadcast_to(fee_ship[:, None], miles.shape), hpo[:, None]])
    fee[~ship, :n_r] = np.inf
    fee[~pickup, n_r] = np.inf
    orders = results[0].orders
    live = (orders["status"] != "cancelled").to_numpy() & online_mask(orders)
    codes = {r: i for i, r in enumerate(region_ids)}
    region = orders["region"].map(codes).fillna(-1).to_numpy().astype(np.int64)
    group = np.where(orders["method"].to_numpy() == "bopis", n_r, region)
    day = np.floor(orders["created_h"].to_numpy() / 24.0)
    for res in results:  # date each order by the last pick of any run
        picked = res.shipments.groupby("order_id")["picked_h"].max()
        last = orders["order_id"].map(picked).to_numpy(dtype=np.float64)
        day = np.fmax(day, np.floor(last / 24.0))
    day = np.clip(np.nan_to_num(day), 0, n_days - 1).astype(np.int64)
    index = {oid: i for i, oid in enumerate(orders["order_id"])}
    lines = results[0].lines
    lo = lines["order_id"].map(index).to_numpy()
    ls = lines["sku"].map({s: j for j, s in enumerate(cat.skus)}).to_numpy()
    units = lines["units"].to_numpy(dtype=np.float64)
    keep = live[lo] & (units > 0) & (group[lo] >= 0)
    lo, ls, units = lo[keep], ls[keep], units[keep]
    carried = cum[:, :, -1] > 0
    m = np.zeros(len(orders))
    for sel, loc_mask in ((group[lo] < n_r, ship), (group[lo] == n_r, pickup)):
        m += min_packages(lo[sel], ls[sel], len(orders), carried & loc_mask[:, None])
    # periods: a new one starts only on a day when stock arrives somewhere (exact: with no
    # arrival in between, the later stock row implies the earlier one); coarser merges and
    # region hubs only when the LP would exceed the column budget (relaxations)
    arrival = np.zeros(n_days, dtype=bool)
    arrival[1:] = (np.diff(cum, axis=2) != 0).any(axis=(0, 1))
    exact = np.cumsum(arrival)  # day -> exact period
    cluster = np.arange(n_r + 1)
    for width in (1, 7, n_days):
        of_day = exact // width
        ends = np.flatnonzero(np.diff(of_day, append=of_day[-1] + 1))  # last day per period
        if _columns(cum[:, :, ends], group[lo], ls, of_day[day[lo]]) <= max_columns:
            break
    cum_p = cum[:, :, ends]
    lp = of_day[day[lo]]
    hubs = n_r
    while hubs > 1 and _columns(cum_p, cluster[group[lo]], ls, lp) > max_columns:
        hubs = max(1, hubs // 2)
        top = np.argsort(-np.array([r.weight for r in net.regions]), kind="stable")[:hubs]
        lat = np.array([r.lat for r in net.regions])
        lon = np.array([r.lon for r in net.regions])
        gap = (lat[:, None] - lat[top][None]) ** 2 + (lon[:, None] - lon[top][None]) ** 2
        cluster[:n_r] = np.argmin(gap, axis=1)
        cluster[n_r] = hubs
    n_g = int(cluster.max()) + 1
    unit_g = np.full((n_l, n_g), np.inf)
    fee_g = np.full((n_l, n_g), np.inf)
    np.minimum.at(unit_g.T, cluster, unit.T)
    np.minimum.at(fee_g.T, cluster, fee.T)
    lg = cluster[group[lo]]
    n_p = ends.size
    key = (lg * n_s + ls) * n_p + lp
    cells, inverse = np.unique(key, return_inverse=True)
    max_qty = np.ones((n_g, n_s))
    np.maximum.at(max_qty, (lg, ls), units)
    og = cluster[np.clip(group, 0, None)]
    return BoundProblem(
        unit_cost=unit_g,
        fee=fee_g,
        supply=np.diff(cum_p, axis=2, prepend=0.0),
        cell_group=cells // (n_s * n_p),
        cell_sku=(cells // n_p) % n_s,
        cell_period=cells % n_p,
        cell_units=np.bincount(inverse, weights=units),
        max_qty=max_qty,
        min_packages=np.bincount(og, weights=m * live * (group >= 0), minlength=n_g),
        penalty=unfilled_penalty(rates, net, np.flatnonzero(ship)),
        orders=int(live.sum()),
    )


def bound_report(
    scn: Scenario,
    policies: tuple[str, ...] = DEFAULT_POLICIES,
    seed: int | None = None,
    days: int | None = None,
    baseline: str = "cost",
    time_limit_s: float = 120.0,
    max_columns: int = 600_000,
) -> BoundReport:
    """Simulate every policy on the same demand and compare it with the hindsight bound.

    Args:
        scn: The scenario.
        policies: Registered policy names.
        seed: Run seed; None uses the scenario's.
        days: Simulated days instead of the scenario's horizon. [days]
        baseline: The myopic reference for "gap closed" (added to the runs if missing).
        time_limit_s: Bound LP time limit. [s]
        max_columns: LP size budget; beyond it days, then regions are merged. [columns]
    """
    import engine.routing.lp  # noqa: F401  (registers the LP policies)

    seed = scn.seed if seed is None else int(seed)
    names = tuple(dict.fromkeys((*policies, baseline)))
    runs = {p: _run(scn, p, seed, days) for p in names}
    results = [r for r, _ in runs.values()]
    problem = _problem(scn, results, [s for _, s in runs.values()], max_columns)
    bound = solve_bound(problem, time_limit_s)
    report = BoundReport(scn.name, seed, baseline, bound, penalty=problem.penalty)
    costs = {p: realised_cost(r.orders, problem.penalty) for p, (r, _) in runs.items()}
    base = costs[baseline]["cost"]
    for p in names:
        c = costs[p]
        gap = base - bound.value
        report.rows.append(
            {
                "policy": p,
                **c,
                "ratio": c["cost"] / bound.value if bound.value else float("nan"),
                "gap_closed": (base - c["cost"]) / gap if gap > 1e-9 else None,
                "run_seconds": runs[p][0].elapsed_s,
            }
        )
    return report


DESCRIPTION = (
    "Simulate each policy on the same demand and print its fulfilment cost beside the "
    "perfect-hindsight lower bound (a transportation LP over the realised orders, stock and "
    "arrivals), with the share of the myopic-to-bound gap each policy closes."
)


def add_arguments(p: Any) -> None:
    """Arguments of `fulfil bound` on an argparse (sub)parser."""
    p.add_argument("file", metavar="FILE", help="scenario YAML file or named scenario")
    p.add_argument("--seed", metavar="N", help="random seed (default: the scenario's)")
    p.add_argument(
        "--policies",
        metavar="A,B,C",
        default=",".join(DEFAULT_POLICIES),
        help=f"comma-separated policies (default {','.join(DEFAULT_POLICIES)})",
    )
    p.add_argument("--days", metavar="D", help="simulate D days instead of the horizon")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _policy_names(file: str, text: str) -> tuple[str, ...]:
    """The comma-separated policy names of ``--policies``, checked before anything runs.

    Raises:
        sim.cli.UsageError: no name, or one that is neither registered nor a rules file.
    """
    import engine.routing.lp  # noqa: F401  (registers the LP policies)
    from sim.cli import UsageError, check_policy_name

    names = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    if not names:
        raise UsageError(file, "--policies", "give at least one policy")
    return tuple(check_policy_name(file, "--policies", name) for name in names)


def bound_command(args: Any) -> int:
    """Entry point of `fulfil bound`; returns the exit status (2 on user errors)."""
    from engine.errors import RoutingError
    from sim.bound import BoundError
    from sim.cli import UsageError, int_option
    from sim.scenario.loader import ScenarioError, load_scenario
    from sim.scenario.schema import MAX_HORIZON_DAYS

    try:  # the same checks and messages as `fulfil run`
        seed = int_option(args.file, "--seed", args.seed, 0)
        days = int_option(args.file, "--days", getattr(args, "days", None), 1, MAX_HORIZON_DAYS)
        scn = load_scenario(args.file)
        policies = _policy_names(args.file, str(args.policies))
        report = bound_report(scn, policies, seed, days)
    except (ScenarioError, UsageError) as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return 2
    except (RoutingError, BoundError, ValueError) as exc:
        text = " ".join(str(exc).split())
        print(text if text.startswith(str(args.file)) else f"{args.file}: {text}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.table())
    return 0
