"""Runs kept in a `RunStore` stand in for running them again: same results, fewer runs."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from sim import workbench as wb
from sim.run_store import RunStore
from sim.sweep.tasks import RunOutcome


def _outcome(key: str, rows: int = 0) -> RunOutcome:
    details = {"orders": pd.DataFrame({"x": range(rows)})} if rows else {}
    return RunOutcome(key=key, ok=True, kpis={"orders": 1.0}, details=details)


def test_the_store_keeps_successful_runs_with_the_tables_asked_for() -> None:
    store = RunStore()
    store.put("a", _outcome("a", rows=10))
    store.put("b", _outcome("b"))
    store.put("c", RunOutcome(key="c", ok=False, error="RuntimeError: boom"))
    assert len(store) == 2 and store.get("c") is None  # a failure is never reused
    assert store.get("a", ("orders",)) is not None
    assert store.get("b", ("orders",)) is None  # kept without the table: run it again
    assert store.get("b") is not None


def test_the_store_drops_the_least_recently_used_runs_beyond_its_memory() -> None:
    one = _outcome("x", rows=100_000)  # 0.8 MB of int64
    size = int(one.details["orders"].memory_usage(deep=True).sum())
    store = RunStore(max_mib=2.5 * size / 2**20)
    store.put("a", _outcome("a", rows=100_000))
    store.put("b", _outcome("b", rows=100_000))
    assert store.get("a") is not None  # now "b" is the least recently used
    store.put("c", _outcome("c", rows=100_000))
    assert store.get("b") is None and store.get("a") is not None and store.get("c") is not None
    assert store.table_mib * 2**20 <= store.max_bytes
    store.put("huge", _outcome("huge", rows=400_000))  # more than the whole limit: not kept
    assert store.get("huge") is None and len(store) == 2
    store.put("k", _outcome("k"))  # KPIs alone take no table memory
    assert store.get("k") is not None and len(store) == 3
    with pytest.raises(ValueError, match="max_mib"):
        RunStore(max_mib=-1)


def test_the_store_counts_runs_too() -> None:
    store = RunStore(max_runs=2)
    for key in "abc":
        store.put(key, _outcome(key))
    assert len(store) == 2 and store.get("a") is None


def test_a_wider_comparison_runs_only_its_new_runs_and_matches_a_fresh_one(
    tiny: dict, watched_store: Callable[[], Any]
) -> None:
    store = watched_store()
    children: set[int] = set()  # child processes alive while the runs were under way

    def report(done: float, total: int) -> None:
        children.update(p.pid for p in multiprocessing.active_children())

    first = wb.compare_policies(
        tiny, ["closest", "cost"], 2, 5, progress=report, workers=2, store=store
    )
    assert (first.runs, first.reused, len(store)) == (4, 0, 4)  # kept from worker processes
    assert len(store.pids) == 4 and os.getpid() not in store.pids
    assert set(store.pids) <= children
    reports: list[tuple[float, int]] = []
    wider = wb.compare_policies(
        tiny, ["closest", "cost", "store_first"], 3, 5, "cost",
        progress=lambda d, n: reports.append((d, n)), workers=1, store=store,
    )  # fmt: skip
    assert (wider.runs, wider.reused, len(store)) == (9, 4, 9)
    assert {n for _, n in reports} == {5}  # progress counts the runs that run
    fresh = wb.compare_policies(tiny, ["closest", "cost", "store_first"], 3, 5, "cost", workers=1)
    pd.testing.assert_frame_equal(wider.per_run, fresh.per_run)
    pd.testing.assert_frame_equal(wider.summary, fresh.summary)
    for name in wb.CHART_TABLES:  # the reused runs' chart tables too
        pd.testing.assert_frame_equal(wider.tables[name], fresh.tables[name])
    again = wb.compare_policies(tiny, ["cost", "closest"], 2, 5, workers=1, store=store)
    assert (again.runs, again.reused) == (4, 4)  # nothing ran
    other_seed = wb.compare_policies(tiny, ["closest"], 1, 6, workers=1, store=store)
    assert other_seed.reused == 0  # another seed is another run


def test_a_stopped_comparison_keeps_its_finished_runs(tiny: dict) -> None:
    class Stop(BaseException):
        pass

    def stop_after_two_runs(done: float, total: int) -> None:
        if done > 2:  # the third run is under way
            raise Stop

    store = RunStore()
    with pytest.raises(Stop):
        wb.compare_policies(
            tiny, ["closest", "cost"], 2, 5, progress=stop_after_two_runs, workers=1, store=store
        )
    assert len(store) == 2
    resumed = wb.compare_policies(tiny, ["closest", "cost"], 2, 5, workers=1, store=store)
    assert (resumed.reused, len(store)) == (2, 4)  # nothing lost, nothing run twice
    fresh = wb.compare_policies(tiny, ["closest", "cost"], 2, 5, workers=1)
    pd.testing.assert_frame_equal(resumed.per_run, fresh.per_run)


def test_the_baseline_changes_without_running_again(tiny: dict) -> None:
    first = wb.compare_policies(tiny, ["closest", "cost"], 2, 5, workers=1)
    rebased = first.against("cost")
    direct = wb.compare_policies(tiny, ["closest", "cost"], 2, 5, "cost", workers=1)
    pd.testing.assert_frame_equal(rebased.summary, direct.summary)
    assert set(rebased.summary["baseline"]) == {"cost"}
    assert rebased.elapsed_s == first.elapsed_s and rebased.per_run is first.per_run
    with pytest.raises(ValueError, match="baseline"):
        first.against("store_first")


def test_a_run_of_an_edited_rules_file_is_not_reused(tmp_path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("policies:\n  - {name: a, sort: [cost]}\n  - {name: b, sort: [distance]}\n")
    task = SimpleNamespace(scenario={"name": "x"}, policy=f"{rules}:b", seed=1, replication=0,
                           days=2)  # fmt: skip
    before = wb._store_key(task)
    assert wb._store_key(task) == before
    rules.write_text("policies:\n  - {name: a, sort: [cost]}\n  - {name: b, sort: [cost]}\n")
    assert wb._store_key(task) != before
