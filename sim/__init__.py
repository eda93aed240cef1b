"""Simulation workbench: scenarios, the SimPy model, records, KPIs and comparisons."""

from sim.scenario.loader import ScenarioError, load_scenario
from sim.scenario.schema import Scenario

__all__ = ["Scenario", "ScenarioError", "load_scenario"]
