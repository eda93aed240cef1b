"""Invariants of the SimPy model on every scenario in scenarios/.

Each scenario runs at a tenth of its demand (so the suite stays fast) for enough days to
include its disruptions and peaks. A run checks conservation of units itself (physical
shelves and the engine ledger) and raises if it fails; here we also check the tables:
no negative stock, every order in a terminal state or visibly in flight, consistent units.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from demand_scale import scaled_demand

import sim.model.world as world
from sim import load_scenario, run
from sim.kpis import KPI_NAMES
from sim.model.orders import order_id
from sim.model.stock import ConservationError, PhysicalStock
from sim.model.world import World
from sim.records import ORDER_STATUSES, TERMINAL_STATUSES
from sim.scenario.loader import SCENARIOS_DIR

SCALE = 0.1
IN_FLIGHT_PACKAGE = {"released", "picked", "shipped", "in_transfer", "ready_for_pickup"}
DISPATCHED = {"shipped", "delivered", "in_transfer", "ready_for_pickup", "picked_up", "no_show",
              "picked"}  # fmt: skip
SCENARIO_FILES = sorted(SCENARIOS_DIR.glob("*.yaml"))


def small(path: Path | str, **extra: object):
    """The scenario at `SCALE` of its demand, and the days that cover its disruptions."""
    scn = load_scenario(path)
    over = {**scaled_demand(scn, SCALE), **extra}
    ends = [o.start_day + o.days for o in scn.disruptions.outages]
    ends += [d.start_day + d.days for d in scn.disruptions.carrier_delays]
    ends += [(p.start - scn.start).days + p.days for p in scn.demand.peaks]
    days = min(scn.horizon_days, max(4, math.ceil(max(ends, default=0)) + 1))
    return load_scenario(path, overrides=over), days


def check_tables(r) -> None:
    """Table-level invariants of one run."""
    assert list(r.kpis) == list(KPI_NAMES)
    for name in ("fill_rate", "stockout_rate", "oversell_rate", "split_rate", "on_time_rate",
                 "store_ship_share"):  # fmt: skip
        v = r.kpis[name]
        assert math.isnan(v) or 0.0 <= v <= 1.0, (name, v)
    for table in (r.orders, r.lines, r.shipments, r.events, r.inventory, r.utilisation):
        assert {"scenario", "policy", "replication", "seed"} <= set(table.columns)

    c = r.conservation
    assert c["initial"] + c["received"] + c["returned"] == (
        c["on_hand"]
        + c["sold"]
        + c["shipped"]
        + c["picked_up"]
        + c["disposed"]
        + c["shrunk"]
        + c["in_transit"]
    )
    assert not r.shipments.duplicated(["order_id", "package"]).any()  # re-routes included
    u = r.utilisation  # busy hours and utilisation cover the same hours (the horizon)
    capacity = u["staff"] * u["available_hours"]
    staffed = capacity > 0
    assert np.allclose(u["utilisation"][staffed], (u["busy_staff_hours"] / capacity)[staffed])
    assert ((u["utilisation"][staffed] >= 0) & (u["utilisation"][staffed] <= 1 + 1e-9)).all()
    inv = r.inventory
    assert (inv["min_on_hand"] >= 0).all() and (inv["ledger_on_hand"] >= 0).all()
    assert (inv["ats"] >= 0).all()

    o = r.orders
    assert o["status"].isin(ORDER_STATUSES).all()
    assert (o["units_fulfilled"] >= 0).all() and (o["units_lost"] >= 0).all()
    assert (o["units_fulfilled"] + o["units_lost"] <= o["units"]).all()
    assert (o["units_oversold"] <= o["units"]).all()
    done = o[o["status"].isin(["delivered", "picked_up"])]
    assert (done["units_fulfilled"] == done["units"]).all()
    partial = o[o["status"] == "partially_fulfilled"]
    assert (
        (partial["units_fulfilled"] > 0) & (partial["units_fulfilled"] < partial["units"])
    ).all()
    assert (o.loc[o["status"] == "cancelled", "units_fulfilled"] == 0).all()
    assert (o["delivered_h"].dropna() >= o.loc[o["delivered_h"].notna(), "created_h"]).all()

    s = r.shipments
    assert (s["units"] > 0).all()
    assert (s["picked_h"].dropna() >= s.loc[s["picked_h"].notna(), "released_h"]).all()
    sent = s[s["status"].isin(DISPATCHED)].groupby("order_id").size()
    packages = o.set_index("order_id")["packages"]
    assert (sent.reindex(packages.index, fill_value=0) == packages).all()

    # every order not in a terminal state is visibly in flight
    open_orders = o[~o["status"].isin(TERMINAL_STATUSES)]
    moving = set(s.loc[s["status"].isin(IN_FLIGHT_PACKAGE), "order_id"])
    unreleased = open_orders["status"].isin(["created", "routed"])
    assert (unreleased | open_orders["order_id"].isin(moving)).all()

    lines = r.lines
    per_order = lines.groupby("order_id")["units"].sum()
    assert (per_order.reindex(o["order_id"]).to_numpy() == o["units"].to_numpy()).all()
    # every unit counted once: lost and oversold per line, their sums on the order, and a
    # finished order's units are either fulfilled or lost (rejected ones re-routed or not)
    assert (lines["units_oversold"] <= lines["units"]).all()
    assert (lines["units_fulfilled"] + lines["units_lost"] <= lines["units"]).all()
    sums = lines.groupby("order_id")[["units_lost", "units_oversold"]].sum()
    by_order = o.set_index("order_id")[["units_lost", "units_oversold"]]
    assert (sums.reindex(by_order.index) == by_order).all().all()
    finished = o[o["status"].isin(TERMINAL_STATUSES)]
    assert (finished["units_fulfilled"] + finished["units_lost"] == finished["units"]).all()
    assert (lines["units_returned"] <= lines["units_fulfilled"]).all()
    assert (lines["units_restocked"] <= lines["units_returned"]).all()


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_invariants_on_every_scenario(path: Path) -> None:
    scn, days = small(path)
    r = run(scn, seed=3, days=days)
    assert len(r.orders) > 0
    check_tables(r)


def run_cut_off(monkeypatch, scn, policy: str, seed: int, days: int):
    """`run` without the drain (`DRAIN_DAYS` 0): it ends at the horizon, mid-flight.

    Returns:
        The `RunResult` and what the world still had in flight when it stopped, read
        before the tables were built: order id -> status, and (order id, package) ->
        package status.
    """
    monkeypatch.setattr(world, "DRAIN_DAYS", 0)
    live: dict[str, dict] = {}
    simulate = World.run

    def run_and_look(w: World) -> float:
        end_h = simulate(w)
        live["orders"] = {
            order_id(st.idx): ORDER_STATUSES[st.stage] for st in w.oms.live.values() if st.idx >= 0
        }
        live["packages"] = {
            (order_id(p.st.idx), p.package): p.status
            for p in w.oms.live_packages.values()
            if p.st.idx >= 0
        }
        return end_h

    monkeypatch.setattr(World, "run", run_and_look)
    r = run(scn, policy, seed=seed, days=days)
    return r, live["orders"], live["packages"]


def test_a_run_cut_off_mid_flight_shows_what_is_in_flight(monkeypatch) -> None:
    """Every other run here drains until nothing is in flight, so the in-flight rows that
    `sim.run` writes at the end of a run (and the invariant on them) were never exercised.
    Cut off at the horizon, orders and packages are in flight: each appears in the tables
    with its in-flight status, and units are still conserved."""
    scn, _ = small(SCENARIOS_DIR / "store_network.yaml")
    r, orders, packages = run_cut_off(monkeypatch, scn, "closest", seed=3, days=2)
    assert r.end_h == 48.0  # no drain
    assert len(orders) > 100 and len(packages) > 100
    assert {"routed", "picked", "shipped", "ready_for_pickup"} <= set(orders.values())
    assert {"released", "picked", "shipped", "ready_for_pickup"} <= set(packages.values())
    check_tables(r)  # conservation and "not terminal -> visibly in flight", on real rows

    o = r.orders
    open_orders = o[~o["status"].isin(TERMINAL_STATUSES)]
    assert dict(zip(open_orders["order_id"], open_orders["status"], strict=True)) == orders
    assert (open_orders["units"] > 0).all()  # the row was written, not left at its zeros
    s = r.shipments
    moving = s[s["status"].isin(IN_FLIGHT_PACKAGE)]
    keys = zip(moving["order_id"], moving["package"], strict=True)
    assert dict(zip(keys, moving["status"], strict=True)) == packages
    # the units picked and waiting for the carrier or the customer are still in the network
    c = r.conservation
    assert c["in_transit"] > 0
    picked = moving.loc[moving["status"] == "picked", "units"].sum()
    ready = moving.loc[moving["status"] == "ready_for_pickup", "units"].sum()
    assert (picked, ready) == (c["awaiting_carrier"], c["awaiting_pickup"])


def test_invariants_in_batch_mode_with_cancelled_oversells() -> None:
    scn, days = small(
        SCENARIOS_DIR / "store_network.yaml",
        **{
            "operations.routing_mode": "batch",
            "operations.oversell_action": "cancel",
            "inventory.record_inaccuracy.share": 0.3,
        },
    )
    r = run(scn, "cost", seed=5, days=days)
    check_tables(r)
    assert r.kpis["oversell_rate"] > 0  # inaccurate store records must cause rejections
    assert (r.events["kind"] == "reject").any()
    assert not (r.events["kind"] == "reroute").any()


def test_rejections_are_rerouted() -> None:
    scn, days = small(
        SCENARIOS_DIR / "store_network.yaml", **{"inventory.record_inaccuracy.share": 0.3}
    )
    r = run(scn, seed=5, days=days)
    check_tables(r)
    kinds = set(r.events["kind"])
    assert {"reject", "reroute"} <= kinds
    rejected = r.shipments[r.shipments["status"] == "rejected"]
    assert len(rejected) > 0
    # through the engine (`Router.reject`): the re-route order of a package rejected at L
    # is "<decision>.L", whose decision is "<decision>.L-D1"
    ev = r.events[r.events["kind"] == "reroute"]
    assert len(ev) > 0
    for o, loc, d in zip(ev["order_id"], ev["location"], ev["detail"], strict=True):
        assert re.fullmatch(rf"{re.escape(o)}-D\d+(\.[^.]+-D1)*\.{re.escape(loc)}-D1", d), d


@pytest.mark.parametrize("action", ["reroute", "cancel"])
def test_units_of_rejected_packages_are_counted_once(action: str) -> None:
    """Tight stock, slow POS sync and inaccurate records: many rejections, some re-routes
    that find no stock. Each unit is fulfilled or lost once; fill + stockout = 1."""
    scn, _ = small(
        SCENARIOS_DIR / "default.yaml",
        **{
            "catalogue.skus": 300,
            "inventory.initial_days_of_cover": {"dc": 4.5, "store": 2},
            "inventory.safety_stock_days": 0.5,
            "inventory.pos_sync_delay_minutes": 120,
            "inventory.record_inaccuracy.share": 0.3,
            "operations.oversell_action": action,
        },
    )
    r = run(scn, "cost", seed=5, days=4)
    check_tables(r)
    kinds = set(r.events["kind"].astype(str))
    assert "reject" in kinds
    if action == "reroute":  # the path that lost units before: re-routes without stock
        assert kinds & {"reroute_failed", "reroute_partial"}
    assert r.kpis["fill_rate"] + r.kpis["stockout_rate"] == pytest.approx(1.0, abs=1e-12)


def test_conservation_failure_raises() -> None:
    stock = PhysicalStock(np.array([[3, 0], [1, 2]]), days=1)
    stock.take(0, 0, 2, 1.0)
    stock.flows.sold += 2
    assert stock.check()["on_hand"] == 4
    stock.put(1, 1, 1, 2.0)  # a unit from nowhere
    with pytest.raises(ConservationError, match="not conserved"):
        stock.check()
    with pytest.raises(ConservationError):
        stock.take(0, 1, 1, 3.0)  # never below zero


def test_picking_a_package_equals_taking_its_lines_one_by_one() -> None:
    """`pick_lines` (one level update per package) keeps the same shelves and level
    statistics as `take` per line; a package the shelves cannot fill is not taken at all,
    and its short lines are named."""
    start = np.array([[5, 4, 3], [2, 2, 2]])
    lines = [(0, 2, 0), (2, 3, 1)]  # (sku, qty, line)
    one, each = PhysicalStock(start.copy(), days=2), PhysicalStock(start.copy(), days=2)
    for stock in (one, each):
        stock.take(0, 1, 1, 0.5)
    assert one.pick_lines(0, lines, 2.0) == []
    for s, q, _ in lines:
        each.take(0, s, q, 2.0)
    assert one.pick_lines(0, [], 3.0) == []  # nothing to take: nothing changes
    assert one.pick_lines(0, lines, 3.0) == [(2, 3, 1)]  # sku 2 has no unit left
    assert np.array_equal(one.on_hand, each.on_hand)  # nothing taken
    for stock in (one, each):
        stock.close_day(0, 24.0)
    assert np.array_equal(one.on_hand, each.on_hand)
    for a, b in zip(one.daily(), each.daily(), strict=True):
        assert a == b
    assert {k: v.tolist() for k, v in one.summary(30.0).items()} == {
        k: v.tolist() for k, v in each.summary(30.0).items()
    }
    with pytest.raises(ConservationError):
        one.pick_lines(1, [(0, 2, 0), (0, 1, 1)], 25.0)  # one SKU twice, more than held


def test_run_pauses_the_cycle_collector_and_restores_it() -> None:
    import gc

    from sim.model.world import World

    scn, _ = small(SCENARIO_FILES[0])
    w = World.build(scn, "closest", 1, 0, days=1)
    seen: list[bool] = []
    w.env.process(_watch(w.env, seen))
    assert gc.isenabled()
    w.run()
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:  # a caller that had it off keeps it off
        World.build(scn, "closest", 1, 0, days=1).run()
        assert not gc.isenabled()
    finally:
        gc.enable()
    failing = World.build(scn, "closest", 1, 0, days=1)
    failing.env.process(_fail(failing.env))
    with pytest.raises(RuntimeError, match="model bug"):
        failing.run()
    assert gc.isenabled()  # restored after a failed run too


def _fail(env):
    yield env.timeout(2.0)
    raise RuntimeError("model bug")


def _watch(env, seen: list[bool]):
    import gc

    yield env.timeout(1.0)
    seen.append(gc.isenabled())
