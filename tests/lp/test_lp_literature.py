"""Literature scenarios: the bound is below every policy, on replays and on simulations."""

from __future__ import annotations

import numpy as np
import pytest

from sim.literature.hindsight import literature_bound
from sim.literature.replay import draw_arrivals, load_instance, replay, scaled
from sim.scenario.loader import load_scenario

POLICIES = ("closest", "cost", "lookahead", "lp_rounding", "batch")


@pytest.mark.parametrize("name", ["js_small", "js_large"])
def test_literature_scenarios_load_as_specified(name):
    inst = load_instance(f"scenarios/literature/{name}.yaml")
    cities, centres, items, arrivals = {
        "js_small": (10, 5, 20, 10_000),
        "js_large": (99, 10, 100, 100_000),
    }[name]
    assert len(inst.network.regions) == cities
    assert len(inst.network.locations) == centres
    assert len(inst.skus) == items
    assert inst.arrivals == arrivals
    carry = (inst.stock > 0).mean()
    assert carry == pytest.approx(0.75 if name == "js_small" else 0.5, abs=0.1)
    rate = inst.rates
    assert (rate.per_package, rate.per_item, rate.per_item_mile) == (8.759, 0.423, 0.000541)


def test_benchmark_finds_its_scenarios_outside_the_repository_root(tmp_path, monkeypatch):
    from sim.literature import benchmark

    monkeypatch.chdir(tmp_path)  # e.g. `python -m sim.literature` run from another folder
    benchmark._instance.cache_clear()
    try:
        assert benchmark._instance("js_small").arrivals == 10_000
    finally:
        benchmark._instance.cache_clear()


def _floor(per_package, penalty, unit, handling, region, units):
    """A lower bound any fulfilment, and the hindsight LP, must respect (literature world).

    With free handling and a penalty `P >= 2 F + max c` (the literature's: twice the fee
    plus the unit cost at the longest distance), every order either ships something (one
    package at least, fee F) or leaves a unit unfilled (P >= F + c); every unit either
    ships (at least the cheapest unit cost to its region) or is unfilled (P again). In the
    LP: cost >= F (M - U) + c_min (D - U) + P U >= F M + c_min D, and M (the orders' cover
    numbers) plus U counts every order. So the bound is at least
    `F * orders + sum over units of the cheapest unit cost to the unit's region`.

    Args:
        unit: Unit cost per region and location (R, L). [USD/unit]
        handling: Handling arrays of the locations (must be zero). [USD]
        region: Region row of each order (N,).
        units: Units of each order (N,).
    """
    assert all(not np.any(h) for h in handling)
    assert penalty >= 2 * per_package + unit.max() - 1e-9
    return per_package * region.size + float((units * unit.min(axis=1)[region]).sum())


@pytest.mark.parametrize("seed", [11, 12])
def test_bound_never_exceeds_any_policy_on_a_replay(seed):
    inst = scaled(load_instance("scenarios/literature/js_small.yaml"), 800)
    arr = draw_arrivals(inst, seed)
    bound = literature_bound(inst, arr).value
    net = inst.network
    floor = _floor(
        inst.rates.per_package,
        inst.penalty,
        inst.rates.unit_costs(net.region_distances()),
        (net.handling_per_order, net.handling_per_unit),
        arr.region,
        np.diff(arr.line_start),  # one unit per line
    )
    assert floor > 0.8 * bound  # not vacuous: the fee dominates, ~97% of the bound
    assert bound >= floor - 1e-6
    for policy in POLICIES:
        result = replay(inst, arr, policy, batch_size=100)
        assert bound <= result.cost + 1e-6, policy


def test_bound_never_exceeds_any_policy_in_the_simulation(monkeypatch):
    from sim import bound_report as br
    from sim.bound_report import bound_report
    from sim.kpis import online_mask
    from sim.scenario.build import build_network, build_rate_card

    runs: list = []
    problem = br._problem

    def spy(scn, results, supplies, max_columns):
        runs.extend(results)
        return problem(scn, results, supplies, max_columns)

    monkeypatch.setattr(br, "_problem", spy)
    scn = load_scenario("scenarios/literature/js_small.yaml")
    report = bound_report(scn, ("closest", "cost", "lookahead"), days=1)
    # the theory floor from the orders that arrived (the same in every run)
    orders, lines = runs[0].orders, runs[0].lines
    assert (orders["method"] == "ship").all() and orders["region"].notna().all()
    live = (orders["status"] != "cancelled").to_numpy() & online_mask(orders)
    net, rates = build_network(scn), build_rate_card(scn)
    codes = {r.id: i for i, r in enumerate(net.regions)}
    units = lines.groupby("order_id")["units"].sum()
    kept = orders[live]
    floor = _floor(
        rates.per_package,
        report.penalty,
        rates.unit_costs(net.region_distances()),
        rates.handling_arrays(net),
        kept["region"].map(codes).to_numpy(),
        kept["order_id"].map(units).fillna(0).to_numpy(),
    )
    assert len(kept) > 500 and floor > 0.8 * report.bound.value
    assert report.bound.value >= floor - 1e-6
    for row in report.rows:
        assert row["cost"] >= report.bound.value - 1e-6, row["policy"]
        assert row["ratio"] >= 1.0 - 1e-9
    data = report.to_dict()
    assert {r["policy"] for r in data["policies"]} == {"closest", "cost", "lookahead"}
    assert "gap closed" in report.table()


def test_bound_stays_below_the_policies_with_heavy_wholesale_demand():
    """Wholesale orders ship only from the wholesale DC: they are left out of the bound and
    of the realised costs alike (as of the KPIs), so the bound stays a bound."""
    from sim.bound_report import bound_report

    small = {
        f"demand.channels.{c}.orders_per_day": n
        for c, n in (("web", 100), ("app", 50), ("marketplace", 20), ("social", 10))
    }
    scn = load_scenario("default", {**small, "demand.channels.wholesale.orders_per_day": 300})
    report = bound_report(scn, ("closest", "cost"), days=1)
    assert report.bound.value > 0
    for row in report.rows:
        assert row["cost"] >= report.bound.value - 1e-6, row["policy"]


def test_batch_policy_reoptimises_in_the_simulations_batch_mode():
    import yaml

    from sim import run

    with open("scenarios/literature/js_small.yaml", encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    doc.setdefault("operations", {}).update(routing_mode="batch", batch_minutes=60)
    scn = load_scenario(doc)
    closest = run(scn, "closest", days=1)
    batch = run(scn, "batch", days=1)
    assert batch.orders["packages"].sum() <= closest.orders["packages"].sum()
    assert batch.kpis["fill_rate"] >= closest.kpis["fill_rate"] - 1e-9


def test_batch_policy_reoptimises_held_orders_in_on_arrival_mode(monkeypatch):
    """With on-arrival routing (the default), `batch` re-assigns the placed orders still
    held before release every `every_minutes`, so it does not just repeat its base."""
    from sim import run
    from sim.model.oms import Oms

    calls: list[int] = []
    reoptimise = Oms._reoptimise

    def spy(self, placed, now):
        calls.append(len(placed))
        return reoptimise(self, placed, now)

    monkeypatch.setattr(Oms, "_reoptimise", spy)
    scn = load_scenario("default")
    assert scn.operations.routing_mode == "on_arrival"
    closest = run(scn, "closest", days=1)
    assert calls == []
    batch = run(scn, "batch", days=1)
    assert len(calls) == 24 * 60 // 30 and sum(calls) > 0  # every 30 minutes of the day
    assert batch.kpis["cost_per_order"] < closest.kpis["cost_per_order"]
    assert batch.kpis["fill_rate"] >= closest.kpis["fill_rate"] - 0.002


def test_fulfil_bound_cli_prints_json_and_rejects_bad_input():
    import json
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "sim.cli", "bound", "scenarios/literature/js_small.yaml"]
    ok = subprocess.run(
        [*cmd, "--days", "1", "--policies", "closest,cost", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["bound"]["value"] > 0
    assert all(p["cost"] >= data["bound"]["value"] - 1e-6 for p in data["policies"])
    bad = subprocess.run([*cmd, "--days", "zero"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "--days" in bad.stderr and "Traceback" not in bad.stderr
