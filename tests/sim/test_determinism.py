"""Same scenario + policy + seed => identical results, in this process and in another one;
common random numbers across policies; independent replications."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from demand_scale import scaled_demand

from sim import load_scenario, run

ROOT = Path(__file__).resolve().parents[2]
SCALE = 0.1
DAYS = 5
# `method` is an outcome (a storefront falls back to home delivery when pickup cannot be
# filled); the customer's wish, `requested_method`, is demand.
DEMAND_COLUMNS = ["order_id", "channel", "requested_method", "region", "created_h", "units_ordered"]


def small_default():
    return load_scenario("default", overrides=scaled_demand(load_scenario("default"), SCALE))


def fingerprint(result) -> dict:
    """KPIs (NaN as None) and a content hash of the orders and shipments tables."""

    def digest(df: pd.DataFrame) -> str:
        return str(int(pd.util.hash_pandas_object(df, index=False).sum()) & (2**63 - 1))

    kpis = {k: (None if v != v else round(v, 12)) for k, v in result.kpis.items()}
    return {"kpis": kpis, "orders": digest(result.orders), "shipments": digest(result.shipments)}


SCRIPT = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_determinism import DAYS, fingerprint, small_default
from sim import run
print(json.dumps(fingerprint(run(small_default(), "closest", 2024, days=DAYS))))
"""


@pytest.fixture(scope="module")
def first():
    return run(small_default(), "closest", 2024, days=DAYS)


def test_same_seed_same_results_in_process(first) -> None:
    again = run(small_default(), "closest", 2024, days=DAYS)
    assert fingerprint(again) == fingerprint(first)
    pd.testing.assert_frame_equal(again.orders, first.orders)
    pd.testing.assert_frame_equal(again.shipments, first.shipments)
    pd.testing.assert_frame_equal(again.events, first.events)
    assert again.conservation == first.conservation


def test_same_seed_same_results_in_another_process(first) -> None:
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # string hashing differs from this process
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout.strip().splitlines()[-1]) == fingerprint(first)


def test_policies_see_the_same_demand(first) -> None:
    other = run(small_default(), "cost", 2024, days=DAYS)
    pd.testing.assert_frame_equal(other.orders[DEMAND_COLUMNS], first.orders[DEMAND_COLUMNS])
    assert other.seed == first.seed == 2024
    assert other.policy == "cost" and first.policy == "closest"


def test_replications_are_independent(first) -> None:
    rep1 = run(small_default(), "closest", 2024, days=DAYS, replication=1)
    assert rep1.replication == 1
    assert len(rep1.orders) != len(first.orders) or not rep1.orders["created_h"].equals(
        first.orders["created_h"]
    )
    rep1_again = run(small_default(), "closest", 2024, days=DAYS, replication=1)
    assert fingerprint(rep1_again) == fingerprint(rep1)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"seed": 1.9}, "seed: must be an integer from 0 to 9007199254740991, got 1.9"),
        ({"seed": -1}, "seed: must be an integer from 0 to 9007199254740991, got -1"),
        ({"seed": 2**64}, "seed: must be an integer from 0 to 9007199254740991, got 1844"),
        ({"seed": True}, "seed: must be an integer from 0 to 9007199254740991, got True"),
        ({"days": "3"}, "days: must be an integer from 1 to 366, got '3'"),
        ({"days": float("nan")}, "days: must be an integer from 1 to 366, got nan"),
        ({"replication": -2}, "replication: must be an integer from 0 to 9007199254740991"),
    ],
)
def test_run_refuses_a_seed_days_or_replication_that_no_run_has(arguments, message):
    arguments = {"days": 1, **arguments}  # a run that seed 1.9 would silently make seed 1
    with pytest.raises(ValueError) as err:
        run("default", "closest", **arguments)
    assert str(err.value).startswith(message)


def test_an_unknown_scenario_policy_names_the_field_when_a_run_uses_it():
    from sim.scenario import ScenarioError

    scenario = load_scenario("default", overrides={"routing.policy": "nope"})  # may register later
    with pytest.raises(ScenarioError, match=r"^default: routing.policy: unknown policy 'nope'"):
        run(scenario, days=1)
