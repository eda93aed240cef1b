"""The ``policy_regression`` pytest fixture: the helpers with shared defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sim.testing.golden import check_golden
from sim.testing.paired import (
    PairedTest,
    Runner,
    assert_better,
    assert_kpi_within,
    assert_not_worse,
)

__all__ = ["PolicyRegression", "policy_regression"]


@dataclass
class PolicyRegression:
    """The helpers with shared defaults (the ``policy_regression`` fixture).

    Attributes:
        runner: Run function for every helper; default `sim.run`.
        days: Default run length for the helpers. [days]
    """

    runner: Runner | None = None
    days: int | None = None

    def not_worse(self, candidate: str, baseline: str, scenario: Any, **kw: Any) -> PairedTest:
        """`assert_not_worse` with this object's defaults."""
        kw.setdefault("days", self.days)
        return assert_not_worse(candidate, baseline, scenario, runner=self.runner, **kw)

    def better(
        self, candidate: str, baseline: str, scenario: Any, kpi: str, **kw: Any
    ) -> PairedTest:
        """`assert_better` with this object's defaults."""
        kw.setdefault("days", self.days)
        return assert_better(candidate, baseline, scenario, kpi, runner=self.runner, **kw)

    def kpi_within(
        self, scenario: Any, policy: str, kpi: str, low: float, high: float, **kw: Any
    ) -> tuple[float, float, float]:
        """`assert_kpi_within` with this object's defaults."""
        kw.setdefault("days", self.days)
        return assert_kpi_within(scenario, policy, kpi, low, high, runner=self.runner, **kw)

    def golden(self, name: str | Path) -> dict[str, float]:
        """`check_golden` with this object's runner."""
        return check_golden(name, runner=self.runner)


@pytest.fixture(scope="session")
def policy_regression() -> PolicyRegression:
    """Policy regression helpers sharing one run cache for the test session."""
    return PolicyRegression()
