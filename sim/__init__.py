"""Simulation workbench: scenarios, the SimPy model, records, KPIs and comparisons."""

from sim.compare import compare
from sim.run import RunResult, run
from sim.scenario.loader import ScenarioError, load_scenario
from sim.scenario.schema import Scenario

__all__ = ["RunResult", "Scenario", "ScenarioError", "compare", "load_scenario", "run"]
