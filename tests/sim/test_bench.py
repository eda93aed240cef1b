"""Tests of the benchmark cases and the bare-SimPy floor (sizes only, never timings)."""

from __future__ import annotations

import pytest

from sim import bench
from sim.scenario import load_scenario

ONLINE = bench.ONLINE_CHANNELS


@pytest.fixture(scope="module")
def default():
    return load_scenario("default")


@pytest.mark.parametrize(("case", "min_orders"), [("large", 200_000), ("million", 1_000_000)])
def test_big_cases_have_the_promised_size(default, case, min_orders):
    scenario = load_scenario("default", overrides=bench.case_overrides(default, case))
    assert len(scenario.network.location_ids()) == 200
    assert len(scenario.catalogue.sku_ids()) == 5000
    per_day = sum(getattr(scenario.demand.channels, c).orders_per_day for c in ONLINE)
    expected = per_day * scenario.horizon_days  # day profile has mean 1, no peaks
    assert scenario.demand.peaks == []
    assert expected >= 1.04 * min_orders  # margin over the Poisson noise (sd ~ 0.2%)


def test_default_case_is_the_default_scenario(default):
    assert bench.case_overrides(default, "default") == {}


def test_simpy_floor_processes_every_order():
    report = bench.simpy_floor(2_000)
    assert report["orders"] == 2_000
    assert report["orders_per_s"] > 0


def test_run_case_floor_reports_memory():
    report = bench.run_case("floor:500")
    assert report["orders"] == 500 and report["peak_rss_mib"] > 0
