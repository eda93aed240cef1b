"""Scenarios: typed, validated YAML descriptions of a retailer and its world."""

from sim.scenario.loader import (
    ScenarioError,
    apply_overrides,
    check_file,
    check_policy,
    load_scenario,
)
from sim.scenario.schema import Scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "apply_overrides",
    "check_file",
    "check_policy",
    "load_scenario",
]
