"""Routing latency of the engine alone, over synthetic networks of 50, 200 and 1,000 locations.

The network is built with engine objects only: the largest US cities host the locations
(one warehouse per 20 locations, at least 3; stores elsewhere), the ledger holds random
stock (warehouses carry most SKUs, stores a sparse third of them), and orders have 1-5
lines drawn from a Zipf-like popularity, shipped to cities drawn by population. Everything
comes from one seeded `numpy.random.Generator`, so two runs route the same orders.

Each order is timed with `time.perf_counter_ns` around `Router.route` (pure: no state
change), so every order sees the same ledger; an order's latency is the best of three
routes (see `time_routes`). Placement (route and commit) is timed over the whole order
set, one by one and in batches (see `time_placement`).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from engine.location import Capability, Location, LocationKind, OpeningHours
from engine.network import Network, Region
from engine.order import Channel, Order, OrderLine
from engine.routing import Router, get_policy
from engine.routing.policies import BUILTIN_POLICIES

__all__ = ["EngineCase", "LOCATION_COUNTS", "build_case", "engine_benchmark", "format_engine"]

LOCATION_COUNTS = (50, 200, 1000)
#: Routing time of the benchmark: a Tuesday 18:00 UTC, when US stores are open.
ROUTE_AT = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)
#: Policies solved with linear programming are not part of the latency benchmark.


@dataclass
class EngineCase:
    """A synthetic routing problem.

    Attributes:
        network: Locations and demand regions.
        ledger: Stock per location and SKU.
        orders: Orders to route (1-5 lines each).
        at: Routing time (aware UTC).
    """

    network: Network
    ledger: object
    orders: list[Order]
    at: datetime = ROUTE_AT


def _cities(n: int) -> list:
    from sim.scenario.geography import cities

    table = list(cities())
    if n > len(table):
        raise ValueError(f"asked for {n} locations, only {len(table)} cities")
    return table[:n]


def build_case(n_locations: int, n_skus: int = 2000, n_orders: int = 1000, seed: int = 0):
    """Build a deterministic synthetic network, ledger and order set.

    Args:
        n_locations: Locations in the network. [-]
        n_skus: SKUs in the ledger. [-]
        n_orders: Orders to generate. [-]
        seed: Seed of the case's own random generator.

    Returns:
        An `EngineCase`.
    """
    from engine.ledger import Ledger

    rng = np.random.default_rng(seed)
    places = _cities(n_locations)
    n_dc = max(3, n_locations // 20)
    step = max(1, n_locations // n_dc)
    dc_rows = set(range(0, step * n_dc, step))  # spread over the population ranking
    locations = []
    for i, city in enumerate(places):
        is_dc = i in dc_rows
        locations.append(
            Location(
                id=f"{'DC' if is_dc else 'S'}-{i:04d}",
                kind=LocationKind.WAREHOUSE if is_dc else LocationKind.STORE,
                lat=city.lat,
                lon=city.lon,
                timezone=city.timezone,
                hours=OpeningHours.always_open() if is_dc else OpeningHours.daily(9, 21),
                capabilities=frozenset({Capability.SHIP})
                if is_dc
                else frozenset({Capability.SHIP, Capability.PICKUP}),
                daily_order_limit=None if is_dc else 60,
                handling_cost_per_order=1.5 if is_dc else 3.0,
                handling_cost_per_unit=0.25 if is_dc else 0.5,
                online_threshold=0 if is_dc else 2,
                region=city.state,
            )
        )
    demand = _cities(min(300, max(n_locations, 100)))
    population = np.array([c.population for c in demand], dtype=float)
    regions = [
        Region(c.label, c.lat, c.lon, float(w))
        for c, w in zip(demand, population / population.sum(), strict=True)
    ]
    network = Network(locations, regions)

    skus = [f"SKU-{s:05d}" for s in range(n_skus)]
    ledger = Ledger([x.id for x in locations], skus)
    is_store = np.array([x.kind == LocationKind.STORE for x in locations])
    ledger.configure_locations(
        online_threshold=np.where(is_store, 2, 0).astype(np.int64), is_store=is_store
    )
    carried = np.where(is_store[:, None], rng.random((n_locations, n_skus)) < 0.35, True)
    depth = np.where(is_store[:, None], 8, 200)
    on_hand = (rng.integers(0, depth + 1, size=(n_locations, n_skus)) * carried).astype(np.int32)
    ledger.load_stock(on_hand)

    weights = 1.0 / np.arange(1, n_skus + 1) ** 1.1  # Zipf popularity
    weights /= weights.sum()
    orders = []
    for k in range(n_orders):
        n_lines = int(rng.integers(1, 6))
        chosen = rng.choice(n_skus, size=n_lines, replace=False, p=weights)
        dest = regions[int(rng.choice(len(regions), p=population / population.sum()))]
        orders.append(
            Order(
                id=f"B{k:06d}",
                channel=Channel.WEB,
                customer_id=f"C{k:06d}",
                dest_lat=dest.lat + float(rng.normal(0, 0.1)),
                dest_lon=dest.lon + float(rng.normal(0, 0.1)),
                lines=[OrderLine(skus[s], int(rng.integers(1, 3))) for s in chosen],
                created_at=ROUTE_AT,
            )
        )
    return EngineCase(network=network, ledger=ledger, orders=orders)


def benchmark_policies() -> list[str]:
    """The built-in rule-based (non-LP) policies: the ones the latency target is set for."""
    return sorted([*BUILTIN_POLICIES, "ranked"])


def make_policy(name: str, case: EngineCase):
    """Build a policy for the case (``ranked`` gets the warehouses as its priority list)."""
    if name == "ranked":
        dcs = [x.id for x in case.network.locations if x.kind == LocationKind.WAREHOUSE]
        return get_policy("ranked", priority=dcs)
    return get_policy(name)


def time_routes(
    router: Router, orders: Sequence[Order], at: datetime, repeats: int = 3
) -> np.ndarray:
    """Route each order ``repeats`` times; return each order's fastest latency. [us]

    The minimum over a few repeats removes pauses that are not the router's (the
    scheduler, other processes) while keeping the spread between orders, which is what
    the percentiles describe. The garbage collector is paused while timing.
    """
    for order in orders[:20]:  # warm caches (open masks, region distances)
        router.route(order, at)
    best = np.full(len(orders), np.inf)
    clock = time.perf_counter_ns
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            for i, order in enumerate(orders):
                t0 = clock()
                router.route(order, at)
                best[i] = min(best[i], clock() - t0)
    finally:
        gc.enable()
    return best / 1000.0


def time_placement(case: EngineCase, batch: int = 20) -> dict[str, float]:
    """CPU time per order of placing the case's orders with `closest`, one by one
    (`Router.place`) and in batches of `batch` (`Router.place_many`), each on its own copy
    of the ledger; customers sit at their region's point, as in the simulation. [us]

    Raises:
        AssertionError: The two ways disagree (they must decide identically).
    """
    import copy

    from engine.routing import RoutingSettings

    regions = case.network.regions
    lat = np.array([r.lat for r in regions])
    lon = np.array([r.lon for r in regions])
    orders = copy.deepcopy(case.orders)
    for o in orders:
        k = int(np.argmin((lat - o.dest_lat) ** 2 + (lon - o.dest_lon) ** 2))
        o.dest_lat, o.dest_lon = float(lat[k]), float(lon[k])
    settings = RoutingSettings(keep_reasons=False)  # as the simulation routes
    out, decided = {}, {}
    for how in ("place", "place_many"):
        mine = copy.deepcopy(orders)
        router = Router(case.network, copy.deepcopy(case.ledger), settings=settings)
        gc.collect()
        gc.disable()
        t0 = time.process_time()
        if how == "place":
            decided[how] = [router.place(o, case.at) for o in mine]
        else:
            decided[how] = [
                d
                for k in range(0, len(mine), batch)
                for d in router.place_many(mine[k : k + batch], case.at)
            ]
        out[how] = round(1e6 * (time.process_time() - t0) / len(mine), 1)
        gc.enable()
    assert decided["place"] == decided["place_many"], "place_many decided differently"
    return out


def engine_benchmark(
    quick: bool = False,
    counts: Sequence[int] = LOCATION_COUNTS,
    policies: Sequence[str] | None = None,
    seed: int = 0,
) -> dict:
    """Measure routing latency per location count and policy.

    Args:
        quick: Few orders and SKUs (a smoke test, numbers are rough).
        counts: Location counts to measure. [-]
        policies: Policies to time; None = every registered non-LP policy.
        seed: Seed of the synthetic cases.

    Returns:
        ``route_p50_us`` and ``route_p99_us`` (location count -> microseconds over all
        policies' routes pooled), ``by_policy`` (policy -> count -> p50/p99/mean), and the
        case sizes.
    """
    n_orders, n_skus = (150, 500) if quick else (2000, 5000)
    names = list(policies) if policies is not None else benchmark_policies()
    p50: dict[str, float] = {}
    p99: dict[str, float] = {}
    by_policy: dict[str, dict[str, dict[str, float]]] = {p: {} for p in names}
    placement: dict[str, dict[str, float]] = {}
    for count in counts:
        case = build_case(count, n_skus=n_skus, n_orders=n_orders, seed=seed)
        placement[str(count)] = time_placement(case)
        pooled = []
        for name in names:
            router = Router(case.network, case.ledger, policy=make_policy(name, case))
            us = time_routes(router, case.orders, case.at)
            pooled.append(us)
            by_policy[name][str(count)] = {
                "p50": round(float(np.percentile(us, 50)), 1),
                "p99": round(float(np.percentile(us, 99)), 1),
                "mean": round(float(us.mean()), 1),
            }
        allus = np.concatenate(pooled)
        p50[str(count)] = round(float(np.percentile(allus, 50)), 1)
        p99[str(count)] = round(float(np.percentile(allus, 99)), 1)
    return {
        "route_p50_us": p50,
        "route_p99_us": p99,
        "by_policy": by_policy,
        "placement_us_per_order": placement,
        "orders_per_policy": n_orders,
        "skus": n_skus,
        "policies": names,
        "quick": quick,
    }


def format_engine(report: dict) -> str:
    """Human-readable table of an `engine_benchmark` report."""
    counts = list(report["route_p50_us"])
    lines = [f"{'locations':>10}" + "".join(f"{c:>10}" for c in counts)]
    lines.append(f"{'p50 us':>10}" + "".join(f"{report['route_p50_us'][c]:>10.1f}" for c in counts))
    lines.append(f"{'p99 us':>10}" + "".join(f"{report['route_p99_us'][c]:>10.1f}" for c in counts))
    for name, row in report["by_policy"].items():
        cells = "".join(f"{row[c]['p50']:>6.0f}/{row[c]['p99']:<5.0f}" for c in counts)
        lines.append(f"{name:>12}  p50/p99 {cells}")
    place = report["placement_us_per_order"]
    for how in ("place", "place_many"):
        cells = "".join(f"{place[c][how]:>10.1f}" for c in counts)
        lines.append(f"{how:>10}{cells}   us/order (closest, route + commit)")
    return "\n".join(lines)
