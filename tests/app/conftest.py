"""Fixtures shared by the page's tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sim import levers as lv
from sim.run_store import RunStore
from sim.scenario import apply_overrides, load_scenario
from sim.sweep.tasks import RunOutcome


@pytest.fixture(scope="module")
def tiny() -> dict:
    """The default scenario cut to two days and a few hundred online orders a day."""
    base = load_scenario("default").resolved()
    overrides = lv.levers_to_overrides(base, {"days": 2, "online": 300})
    return load_scenario(apply_overrides(base, overrides)).resolved()


class WatchedStore(RunStore):
    """A run store that notes the process each run it keeps ran in (`RunOutcome.worker`
    is ``host:pid`` of the process that ran it)."""

    def __init__(self) -> None:
        super().__init__()
        self.pids: list[int] = []

    def put(self, key: str, outcome: RunOutcome) -> None:
        self.pids.append(int(outcome.worker.rsplit(":", 1)[1]))
        super().put(key, outcome)


@pytest.fixture
def watched_store() -> Callable[[], WatchedStore]:
    """Makes `WatchedStore`s: run stores that note which process ran each run."""
    return WatchedStore
