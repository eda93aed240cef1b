"""On-arrival routing with a routing tick (``operations.routing_tick_seconds``).

Orders that arrive within one tick are placed together at its end, in arrival order, as
one `Router.place_many` batch (which `tests/engine/test_batch_routing.py` checks against
placing them one by one). Here: every order is placed after it arrives and within one
tick, in arrival order; the batch short cut really is taken; a tick of 0 places each
order at its arrival; and the tick is a small delay, not a different model: the KPIs of
the two modes agree closely on the same demand.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from engine.routing import get_policy
from sim import load_scenario, run
from sim.model.world import World

OVERRIDES = {
    "horizon_days": 3,
    "warmup_days": 1,
    "network.stores": {"count": 12, "placement": "largest_metros"},
    "catalogue.skus": 300,
}


def _world(tick: float) -> World:
    scn = load_scenario("default", overrides={**OVERRIDES, "operations.routing_tick_seconds": tick})
    return World.build(scn, get_policy("closest"), scn.seed, 0, None)


def test_orders_are_placed_within_one_tick_in_arrival_order() -> None:
    w = _world(60.0)
    calls: list[tuple[float, list[float]]] = []
    place_many = w.router.place_many

    def spy(orders, at, exclude=(), place_one=None):
        calls.append((w.clock.hours(at), [w.clock.hours(o.created_at) for o in orders]))
        return place_many(orders, at, exclude, place_one)

    w.router.place_many = spy  # type: ignore[method-assign]
    w.run()
    tick_h = 60.0 / 3600.0
    created = [t for _, ts in calls for t in ts]
    assert len(created) == len(w.demand)  # every order went through a tick batch
    assert created == sorted(created)
    assert max(len(ts) for _, ts in calls) > 1  # batches, not single orders
    for at_h, ts in calls:
        assert all(at_h - tick_h - 1e-9 <= t <= at_h + 1e-9 for t in ts)
        assert math.isclose(at_h / tick_h, round(at_h / tick_h), abs_tol=1e-6)  # tick ends


def test_batches_take_the_short_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.routing.batch as batch

    w = _world(60.0)
    added = []
    add = batch._Pending.add

    def counting_add(self, order, choice):
        added.append(order.id)
        return add(self, order, choice)

    monkeypatch.setattr(batch._Pending, "add", counting_add)
    w.run()
    assert len(added) > 0.5 * len(w.demand)  # most orders ship whole from one location


def test_tick_zero_places_each_order_at_its_arrival() -> None:
    w = _world(0.0)
    seen = []
    route = w.router.route

    def spy(order, at, exclude=()):
        if order.id.count(".") == 0 and order.status.value == "created":
            seen.append((w.clock.hours(order.created_at), w.clock.hours(at)))
        return route(order, at, exclude)

    w.router.route = spy  # type: ignore[method-assign]
    w.run()
    assert seen and all(math.isclose(c, a, abs_tol=1e-6) for c, a in seen)


def test_kpis_barely_depend_on_the_tick() -> None:
    tick = run(load_scenario("default", overrides=OVERRIDES), "closest")
    exact = run(
        load_scenario("default", overrides={**OVERRIDES, "operations.routing_tick_seconds": 0}),
        "closest",
    )
    a, b = tick.kpis, exact.kpis
    assert a["orders"] == b["orders"]  # the same demand
    for name, tol in (("fill_rate", 0.005), ("store_ship_share", 0.01), ("on_time_rate", 0.01)):
        assert abs(a[name] - b[name]) <= tol, (name, a[name], b[name])
    assert abs(a["cost_per_order"] - b["cost_per_order"]) <= 0.01 * b["cost_per_order"]


def test_arrivals_on_tick_ends_are_placed_and_time_moves_on() -> None:
    """An arrival whose time is a tick end in floating point is placed at that end."""
    import simpy

    from sim.model.oms import Oms

    tick = 60.0 / 3600.0
    on_edge = [k * tick for k in range(1, 2000)]
    env = simpy.Environment()
    calls: list[tuple[float, int, int]] = []
    oms = SimpleNamespace(
        env=env, _time=on_edge, tick_h=tick, batch=False, arrived=False,
        arrive_tick=lambda i, j: calls.append((env.now, i, j)),
    )  # fmt: skip
    env.process(Oms.arrivals(oms))  # type: ignore[arg-type]
    env.run(until=on_edge[-1] + 1.0)
    assert oms.arrived and [j for _, _, j in calls][-1] == len(on_edge)
    assert all(t >= on_edge[j - 1] - 1e-12 for t, _, j in calls)  # never placed early
    assert len(calls) <= len(on_edge)
