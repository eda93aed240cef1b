"""Replay a literature arrival sequence through the engine's `Router`, without SimPy.

The multi-item fulfilment literature (Jasin & Sinha 2015; Acimovic & Graves 2015; Ma 2023)
studies a stylised world: T orders arrive one by one over a selling season, each is routed
at once against static inventory (no replenishment, no pick/pack queues), and the cost is
shipping plus a penalty per unfilled item. That world needs no event simulation: this
module draws exactly T arrivals from a literature scenario (regions by population, the
simulation's basket law) and routes them with `Router.place`, consuming stock at once.
The `batch` policy instead holds orders and re-optimises them every `batch_size` arrivals
before releasing them (Xu, Allgor & Graves 2009).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from engine.ledger import Ledger
from engine.network import Network
from engine.order import Channel, Order, OrderLine
from engine.rates import RateCard
from engine.routing import Router, RoutingSettings, get_policy
from engine.routing.lp.transport import unfilled_penalty
from sim.model.arrivals import line_orders
from sim.scenario.build import build_catalogue, build_network, build_rate_card, initial_stock
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario

__all__ = [
    "Arrivals",
    "Instance",
    "ReplayResult",
    "draw_arrivals",
    "load_instance",
    "replay",
    "scaled",
]


@dataclass
class Instance:
    """A literature scenario as engine objects.

    Attributes:
        scenario: The validated scenario.
        network: Centres and demand regions.
        skus: SKU ids (ledger column order).
        popularity: Probability that a drawn line is each SKU (S,).
        stock: Initial units per centre and SKU (L, S). [units]
        rates: Shipping rates.
        penalty: Cost of an unfilled unit. [USD/unit]
        arrivals: Orders per sequence, T. [orders]
        mean_lines: Mean lines per order. [lines]
        max_lines: Most lines per order. [lines]
        start: Season start (aware UTC).
        horizon_h: Season length. [h]
        demand_rate: Expected units per SKU per day (S,). [units/day]
    """

    scenario: Scenario
    network: Network
    skus: tuple[str, ...]
    popularity: np.ndarray
    stock: np.ndarray
    rates: RateCard
    penalty: float
    arrivals: int
    mean_lines: float
    max_lines: int
    start: datetime
    horizon_h: float
    demand_rate: np.ndarray


def load_instance(source: str | Path | Scenario) -> Instance:
    """Build an `Instance` from a literature scenario (web orders, ship only)."""
    scn = source if isinstance(source, Scenario) else load_scenario(source)
    network = build_network(scn)
    cat = build_catalogue(scn)
    stock, _ = initial_stock(scn, network, cat)
    web = scn.demand.channels.web
    horizon_h = 24.0 * (scn.horizon_days - scn.warmup_days)
    arrivals = round(web.orders_per_day * horizon_h / 24.0)
    start = datetime.combine(scn.start, datetime.min.time(), tzinfo=UTC)
    rates = build_rate_card(scn)
    lines = _line_pmf(web.basket.mean_lines, web.basket.max_lines)
    sizes = np.arange(1, lines.size + 1)
    p = cat.popularity
    in_order = (lines[None, :] * (1.0 - (1.0 - p[:, None]) ** sizes[None, :])).sum(axis=1)
    return Instance(
        scenario=scn,
        network=network,
        skus=cat.skus,
        popularity=p,
        stock=stock,
        rates=rates,
        penalty=unfilled_penalty(rates, network),
        arrivals=arrivals,
        mean_lines=web.basket.mean_lines,
        max_lines=web.basket.max_lines,
        start=start,
        horizon_h=horizon_h,
        demand_rate=in_order * web.orders_per_day,
    )


def scaled(inst: Instance, arrivals: int) -> Instance:
    """The same set-up with T = `arrivals` and stock re-sized by the literature's formula.

    Each stocked cell's arrival probability `lam = stock / T` is kept and its stock becomes
    `T' lam + 0.5 sqrt(T' lam (1 - lam))`, rounded; the demand rate scales with T'/T (for
    quick experiments and tests on fewer orders).
    """
    lam = inst.stock / inst.arrivals
    stock = np.round(arrivals * lam + 0.5 * np.sqrt(arrivals * lam * np.clip(1 - lam, 0, 1)))
    stock = np.where(inst.stock > 0, np.maximum(stock, 1), 0).astype(np.int64)
    frac = arrivals / inst.arrivals
    return replace(inst, arrivals=arrivals, stock=stock, demand_rate=inst.demand_rate * frac)


def _line_pmf(mean_lines: float, max_lines: int) -> np.ndarray:
    """P(order has n lines), n = 1..max: 1 + Poisson(mean - 1), capped (before merging)."""
    lam = mean_lines - 1.0
    k = np.arange(max_lines)
    logf = np.cumsum(np.log(np.maximum(k, 1)))
    pmf = np.exp(-lam + k * np.log(lam) - logf) if lam > 0 else (k == 0).astype(float)
    pmf[-1] = max(1.0 - pmf[:-1].sum(), 0.0)
    return pmf


@dataclass
class Arrivals:
    """One arrival sequence: order i owns lines `line_start[i]:line_start[i+1]`.

    Attributes:
        time_h: Arrival time from the season start, ascending (N,). [h]
        region: Region row of each order (N,).
        line_start: int (N + 1,).
        line_sku: SKU column of each line (M,), distinct within an order, one unit each.
        seed: Seed of the draws.
    """

    time_h: np.ndarray
    region: np.ndarray
    line_start: np.ndarray
    line_sku: np.ndarray
    seed: int

    def __len__(self) -> int:
        return int(self.time_h.size)

    @property
    def line_order(self) -> np.ndarray:
        """Order index of every line (M,)."""
        return line_orders(self.line_start)


def draw_arrivals(inst: Instance, seed: int) -> Arrivals:
    """Draw exactly T orders: uniform times, regions by population, iid lines merged."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(77,)))
    n = inst.arrivals
    time_h = np.sort(rng.uniform(0.0, inst.horizon_h, n))
    w = np.array([r.weight for r in inst.network.regions])
    region = np.minimum(np.searchsorted(np.cumsum(w) / w.sum(), rng.random(n), "right"), w.size - 1)
    lines = np.minimum(1 + rng.poisson(inst.mean_lines - 1.0, n), inst.max_lines)
    owner = np.repeat(np.arange(n), lines)
    cdf = np.cumsum(inst.popularity)
    sku = np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(owner.size), "right"), cdf.size - 1)
    key = np.unique(owner.astype(np.int64) * cdf.size + sku)
    owner, sku = key // cdf.size, key % cdf.size
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=start[1:])
    return Arrivals(time_h, region.astype(np.int64), start, sku.astype(np.int64), seed)


@dataclass
class ReplayResult:
    """Cost and packages of one policy on one arrival sequence.

    Attributes:
        policy: Policy label.
        seed: Arrival sequence seed.
        shipping: Shipping cost of all packages. [USD]
        unfilled_units: Items not fulfilled. [units]
        penalty_cost: `unfilled_units * penalty`. [USD]
        packages: Packages shipped.
        order_packages: Packages per order (N,).
        seconds: Wall time. [s]
        notes: Reason-code counts over all decisions (e.g. "fallback:cost").
        min_now: Per order, the fewest packages that could have filled its whole-fillable
            lines from the stock available when it was routed (N,), or None when not
            tracked. [packages]
    """

    policy: str
    seed: int
    shipping: float
    unfilled_units: int
    penalty_cost: float
    packages: int
    order_packages: np.ndarray
    seconds: float
    notes: dict[str, int] = field(default_factory=dict)
    min_now: np.ndarray | None = None

    @property
    def cost(self) -> float:
        """Total fulfilment cost: shipping plus unfilled penalty. [USD]"""
        return self.shipping + self.penalty_cost


def min_cover(ats: np.ndarray, qty: np.ndarray) -> int:
    """Fewest locations that together fill every line some location can fill whole.

    Args:
        ats: Units available per location and line (L, k). [units]
        qty: Units per line (k,). [units]
    """
    full = ats >= qty
    need = full.any(axis=0)
    if not need.any():
        return 0
    cols = full[:, need]
    for size in range(1, cols.shape[0] + 1):
        for combo in itertools.combinations(range(cols.shape[0]), size):
            if cols[list(combo)].any(axis=0).all():
                return size
    return cols.shape[0]


def lp_params(inst: Instance, policy: str) -> dict[str, Any]:
    """Forecast parameters the LP policies need in the literature world."""
    if policy not in ("lookahead", "lp_rounding"):
        return {}
    until = inst.start + timedelta(hours=inst.horizon_h)
    return {"until": until, "window_hours": inst.horizon_h, "demand_rate": inst.demand_rate}


def replay(
    inst: Instance,
    arrivals: Arrivals,
    policy: str,
    params: dict[str, Any] | None = None,
    batch_size: int = 200,
    track_min: bool = False,
) -> ReplayResult:
    """Route every arrival with `policy` and account for the cost.

    Args:
        inst: The instance (its stock is copied, not changed).
        arrivals: The arrival sequence.
        policy: Registered policy name.
        params: Policy parameters (LP policies get the forecast from `lp_params` first).
        batch_size: For `batch`: orders held between brokering runs. [orders]
        track_min: Record `ReplayResult.min_now` (slower).
    """
    import engine.routing.lp  # noqa: F401  (registers the LP policies)

    t0 = time.perf_counter()
    net = inst.network
    ledger = Ledger([loc.id for loc in net.locations], inst.skus)
    ledger.load_stock(inst.stock.astype(np.int64))
    pol = get_policy(policy, **{**lp_params(inst, policy), **(params or {})})
    settings = RoutingSettings(max_packages=inst.max_lines, demand_rate=inst.demand_rate)
    router = Router(net, ledger, inst.rates, pol, settings)
    regions = net.regions
    n = len(arrivals)
    order_packages = np.zeros(n, dtype=np.int64)
    min_now = np.zeros(n, dtype=np.int64) if track_min else None
    shipping, unfilled = 0.0, 0
    notes: dict[str, int] = {}
    pending: list[tuple[int, Order]] = []
    batch = hasattr(pol, "reoptimise")
    starts, skus = arrivals.line_start.tolist(), arrivals.line_sku.tolist()

    def finish(i: int, order: Order, at: datetime) -> None:
        nonlocal shipping, unfilled
        decision = router.decision_for(order.id)
        if decision is None:  # nothing could be allocated
            unfilled += order.units
            return
        for note in getattr(decision, "notes", ()):
            notes[note] = notes.get(note, 0) + 1
        shipping += decision.est_shipping_cost
        unfilled += decision.unfulfillable_units
        order_packages[i] = decision.packages
        for request in router.release(order, at):
            ledger.fulfil(decision.decision_id, request.location, at)

    for i in range(n):
        at = inst.start + timedelta(hours=float(arrivals.time_h[i]))
        r = regions[int(arrivals.region[i])]
        lines = [
            OrderLine(inst.skus[s], 1, j) for j, s in enumerate(skus[starts[i] : starts[i + 1]])
        ]
        order = Order(f"O{i}", Channel.WEB, "", r.lat, r.lon, lines, created_at=at)
        if min_now is not None:
            cols = np.array(skus[starts[i] : starts[i + 1]], dtype=np.int64)
            min_now[i] = min_cover(ledger.ats("web", cols), np.ones(cols.size, dtype=np.int64))
        router.place(order, at)
        if not batch:
            finish(i, order, at)
            continue
        pending.append((i, order))
        if len(pending) >= batch_size or i == n - 1:
            pol.reoptimise(router, [o for _, o in pending], at)  # type: ignore[attr-defined]
            for j, o in pending:
                finish(j, o, at)
            pending.clear()
    return ReplayResult(
        policy=policy,
        seed=arrivals.seed,
        shipping=shipping,
        unfilled_units=unfilled,
        penalty_cost=unfilled * inst.penalty,
        packages=int(order_packages.sum()),
        order_packages=order_packages,
        seconds=time.perf_counter() - t0,
        notes=notes,
        min_now=min_now,
    )
