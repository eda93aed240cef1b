"""Tests of `sim.workbench`: paired comparisons on local cores and the KPI table."""

from __future__ import annotations

import math
import multiprocessing
import os
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from sim import workbench as wb


def test_runs_on_worker_processes_match_runs_in_process(
    tiny: dict, watched_store: Callable[[], Any]
) -> None:
    calls: list[tuple[float, int]] = []
    in_process = watched_store()
    here = wb.compare_policies(
        tiny,
        ["closest", "cost"],
        2,
        5,
        progress=lambda d, n: calls.append((d, n)),
        workers=1,
        store=in_process,
    )
    far: list[tuple[float, int]] = []
    children: set[int] = set()  # child processes alive while the runs were under way

    def report(done: float, total: int) -> None:
        far.append((done, total))
        children.update(p.pid for p in multiprocessing.active_children())

    pooled = watched_store()
    there = wb.compare_policies(
        tiny, ["closest", "cost"], 2, 5, progress=report, workers=2, store=pooled
    )
    assert in_process.pids == [os.getpid()] * 4
    assert len(pooled.pids) == 4 and os.getpid() not in pooled.pids
    assert set(pooled.pids) <= children and 1 <= len(set(pooled.pids)) <= 2  # the pool's workers
    for reports in (calls, far):  # runs done, counting the simulated share of runs under way
        done = [d for d, _ in reports]
        assert {n for _, n in reports} == {4}
        assert done == sorted(done) and done[-1] == 4 and done[0] >= 0
    whole = [d for d, _ in calls if d == int(d)]
    assert sorted(set(whole)) == [1, 2, 3, 4]  # one report after each run
    assert len(calls) > 2 * 4  # and one per simulated day of each (two-day) run
    assert (here.workers, there.workers) == (1, 2)
    pd.testing.assert_frame_equal(here.per_run, there.per_run)
    pd.testing.assert_frame_equal(here.summary, there.summary)
    assert set(here.tables) >= {"orders", "shipments"}
    assert set(here.tables["orders"]["replication"]) == {0}  # chart tables: replication 0 only
    policy = here.tables["orders"]["policy"]  # stacked runs keep their categorical columns
    assert list(policy.cat.categories) == ["closest", "cost"]
    for name, table in here.tables.items():
        pd.testing.assert_frame_equal(table, there.tables[name])
    assert set(here.per_run["replication"]) == {0, 1}


def test_a_failing_run_raises_run_failed(tiny: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.sweep.tasks

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no stock ledger")

    monkeypatch.setattr(sim.sweep.tasks, "simulation_runner", boom)
    with pytest.raises(wb.RunFailed, match="no stock ledger"):
        wb.compare_policies(tiny, ["closest"], 1, 1, workers=1)


@pytest.mark.parametrize(
    ("policies", "reps", "baseline", "reason"),
    [
        ([], 1, None, "policies: give each policy once, at least one"),
        (["closest", "closest"], 1, None, "policies: give each policy once, at least one"),
        (["closest"], 0, None, "reps: must be at least 1, got 0"),
        (["closest"], 1, "cost", "baseline: 'cost' is not one of the compared policies"),
    ],
)
def test_bad_arguments_are_refused_before_running(
    tiny: dict,
    policies: list[str],
    reps: int,
    baseline: str | None,
    reason: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sim.sweep.tasks

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a run started")

    def no_progress(done: float, total: int) -> None:
        raise AssertionError(f"progress reported ({done} of {total})")

    monkeypatch.setattr(sim.sweep.tasks, "simulation_runner", no_run)
    store = wb.RunStore()
    with pytest.raises(ValueError, match=f"^{re.escape(reason)}$"):
        wb.compare_policies(tiny, policies, reps, 1, baseline, no_progress, workers=1, store=store)
    assert len(store) == 0


def test_online_orders_is_volume_times_horizon(tiny: dict) -> None:
    assert wb.online_orders(tiny) == pytest.approx(600)


def _summary(rows: list[tuple]) -> pd.DataFrame:
    columns = ["scenario", "policy", "kpi", "n", "mean", "ci_low", "ci_high"]
    columns += ["baseline", "diff", "diff_low", "diff_high"]
    return pd.DataFrame(rows, columns=columns)


def test_kpi_table_shows_intervals_and_paired_differences() -> None:
    nan = math.nan
    summary = _summary(
        [
            ("s", "a", "cost_per_order", 3, 12.0, 11.5, 12.5, "a", 0.0, 0.0, 0.0),
            ("s", "b", "cost_per_order", 3, 11.0, 10.4, 11.6, "a", -1.0, -1.2, -0.8),
            ("s", "a", "orders", 1, 1234.0, nan, nan, "a", 0.0, nan, nan),
            ("s", "b", "orders", 1, 1234.0, nan, nan, "a", 0.0, nan, nan),
        ]
    )
    table = wb.kpi_table(summary)
    assert list(table.index) == ["orders", "cost_per_order"]  # KPI order of DESIGN.md
    assert list(table.columns) == ["unit", "better", "a", "b", "b − a"]
    assert table.loc["cost_per_order", "better"] == "lower" and table.loc["orders", "better"] == ""
    assert table.loc["cost_per_order", "unit"] == "USD"
    assert table.loc["cost_per_order", "b"] == "11.00 [10.40, 11.60]"
    assert table.loc["cost_per_order", "b − a"] == "-1.00 [-1.20, -0.80]"
    assert table.loc["orders", "a"] == "1,234"  # no interval from one replication


def test_every_number_of_a_kpi_has_the_same_decimals() -> None:
    nan = math.nan
    summary = _summary(  # one replication's p90 click to door: 110.4 and 111.7 differ by 1.287
        [
            ("s", "a", "click_to_door_hours_p90", 1, 110.43, nan, nan, "a", 0.0, nan, nan),
            ("s", "b", "click_to_door_hours_p90", 1, 111.717, nan, nan, "a", 1.287, nan, nan),
            ("s", "a", "click_to_door_hours_mean", 2, 107.0, 61.918, 152.0, "a", 0.0, 0, 0),
            ("s", "b", "click_to_door_hours_mean", 2, 93.916, 58.4, 129.4, "a", -13.1, -20, -6),
            ("s", "a", "packages_per_order", 2, 1.029, 0.997, 1.062, "a", 0.0, 0.0, 0.0),
            ("s", "a", "fill_rate", 2, 0.946, 0.835, 1.0, "a", 0.0, 0.0, 0.0),
        ]
    )
    table = wb.kpi_table(summary)
    p90 = table.loc["click_to_door_hours_p90"]
    assert (p90["a"], p90["b"], p90["b − a"]) == ("110.4", "111.7", "1.3")  # they add up
    mean = table.loc["click_to_door_hours_mean"]
    assert mean["a"] == "107.0 [61.9, 152.0]"
    assert mean["b"] == "93.9 [58.4, 129.4]" and mean["b − a"] == "-13.1 [-20.0, -6.0]"
    assert table.loc["packages_per_order", "a"] == "1.029 [0.997, 1.062]"
    assert table.loc["fill_rate", "a"] == "0.946 [0.835, 1.000]"  # shares: always three
    assert wb.kpi_decimals(summary) == {
        "click_to_door_hours_p90": 1,
        "click_to_door_hours_mean": 1,
        "packages_per_order": 3,
        "fill_rate": 3,
    }


def test_kpi_table_keeps_shares_within_0_and_1_and_counts_at_least_0() -> None:
    from sim.compare import summarise

    per_run = pd.DataFrame(
        {
            "scenario": "s",
            "policy": ["a", "a", "b", "b"],
            "replication": [0, 1, 0, 1],
            "seed": 1,
            "fill_rate": [0.9992, 1.0, 0.9986, 0.9994],
            "returns_units": [3.0, 20.0, 10.0, 14.0],
        }
    )
    table = wb.kpi_table(summarise(per_run))
    # by hand: t(0.975, 1) = 12.706; a's fill rate 0.9996 +- 0.00508, returns 11.5 +- 108
    assert table.loc["fill_rate", "a"] == "1.000 [0.995, 1.000]"  # a share is at most 1
    assert table.loc["returns_units", "a"] == "11.50 [0.00, 119.50]"  # units >= 0
    assert table.loc["returns_units", "b − a"] == "0.50 [-82.09, 83.09]"  # not cut
    minus_zero = re.compile(r"(^|[\[ ])-0(\.0+)?([ ,\]]|$)")
    assert not any(minus_zero.search(c) for c in table.to_numpy().ravel())


def test_kpi_cells_never_show_minus_zero() -> None:
    assert wb._cell(-0.0, -0.0, 0.0, "returns_units") == "0 [0, 0]"
    assert wb._cell(-0.0004, -0.2, 0.2, "cost_per_order") == "0.000 [-0.200, 0.200]"
    assert wb._cell(-0.004, -0.2, 0.2, "cost_per_order", 2) == "0.00 [-0.20, 0.20]"
    assert wb._cell(99.9996, 99.9, 100.1, "click_to_door_hours_p90") == "100.00 [99.90, 100.10]"
    assert wb.format_values([1234.0, 1200.0, 1268.0], "orders") == ["1,234", "1,200", "1,268"]
    assert wb.format_values([1.0, 0.0, 13.706], "returns_units") == ["1.00", "0.00", "13.71"]
    assert wb.format_values([0.99994, math.nan], "fill_rate") == ["1.000", "–"]


def test_rules_file_policies_get_short_labels_that_never_collide() -> None:
    specs = [
        "closest",
        "scenarios/policies/regional_first.yaml",
        "scenarios/policies/store_rules.yaml:nearby_stores_then_dc",
        "scenarios/policies/store_rules.yaml:cheapest_dc",
        "team_policies:near_store_300",
    ]
    assert wb.policy_labels(specs) == {
        "closest": "closest",
        "scenarios/policies/regional_first.yaml": "regional_first",
        "scenarios/policies/store_rules.yaml:nearby_stores_then_dc": "nearby_stores_then_dc",
        "scenarios/policies/store_rules.yaml:cheapest_dc": "cheapest_dc",
        "team_policies:near_store_300": "team_policies:near_store_300",
    }
    clashing = ["cost", "a/x.yaml:cost", "a/y.yaml:cost", "b/x.yaml:cost", "c/cost.yaml"]
    assert wb.policy_labels(clashing) == {
        "cost": "cost",  # a registered name stays itself; the others grow until unique
        "a/x.yaml:cost": "a/x.yaml:cost",
        "a/y.yaml:cost": "y:cost",
        "b/x.yaml:cost": "b/x.yaml:cost",
        "c/cost.yaml": "c/cost.yaml",
    }


def test_labelled_renames_policies_and_keeps_categories() -> None:
    spec = "scenarios/policies/store_rules.yaml:cheapest_dc"
    frame = pd.DataFrame(
        {"policy": pd.Categorical([spec, "closest"]), "baseline": "closest", "x": [1, 2]}
    )
    shown = wb.labelled(frame, wb.policy_labels([spec, "closest"]))
    assert list(shown["policy"]) == ["cheapest_dc", "closest"]
    assert isinstance(shown["policy"].dtype, pd.CategoricalDtype)
    assert list(frame["policy"]) == [spec, "closest"]  # the frame itself is unchanged


def test_time_left_follows_the_pace_so_far() -> None:
    assert wb.time_left(0.0, 9, 5.0) is None  # no pace yet
    assert wb.time_left(3.0, 9, 30.0) == pytest.approx(60.0)  # 10 s a run, 6 runs left
    assert wb.time_left(9.0, 9, 90.0) == 0.0


def test_a_worker_reports_its_runs_progress_through_the_queue(tiny: dict) -> None:
    import queue

    reports: queue.Queue = queue.Queue()
    wb._listen_to(reports)  # what the pool's initializer does in each worker process
    try:
        result = wb._Reported("r0-closest")(tiny, "closest", 5, days=None, replication=0)
    finally:
        wb._listen_to(None)
    seen = [reports.get_nowait() for _ in range(reports.qsize())]
    assert {key for key, _ in seen} == {"r0-closest"} and result.kpis["orders"] > 0
    fractions = [f for _, f in seen]
    assert len(fractions) >= 2 and fractions == sorted(fractions) and fractions[-1] == 1.0


def test_the_tally_counts_runs_done_and_the_shares_under_way() -> None:
    calls: list[float] = []
    tally = wb._Tally(2, lambda done, total: calls.append(done))
    tally.partial("a", 0.5)
    tally.report()
    tally.partial("a", 0.25)  # a late, smaller report never moves it back
    tally.report()
    tally.finish("a")
    tally.partial("a", 0.9)  # a report after the run finished is ignored
    tally.report()
    tally.partial("b", 0.5)
    tally.report()
    tally.finish("b")
    tally.report()
    assert calls == [0.5, 0.5, 1.0, 1.5, 2]


def test_rules_policies_lists_each_policy_of_the_files_that_load(tmp_path, monkeypatch) -> None:
    (tmp_path / "one.yaml").write_text("name: near\ndescription: Nearest.\nsort: [distance]\n")
    (tmp_path / "two.yaml").write_text(
        "policies:\n  - {name: a, sort: [cost]}\n  - {name: b, sort: [distance]}\n"
    )
    (tmp_path / "broken.yaml").write_text("name: bad\nfilters: [{teleport: true}]\n")
    monkeypatch.chdir(tmp_path)
    assert wb.rules_policies(tmp_path) == {
        "one.yaml": "Nearest.",
        "two.yaml:a": "",
        "two.yaml:b": "",
    }
    before = wb.policy_file_digest("one.yaml")
    (tmp_path / "one.yaml").write_text("name: near\nsort: [cost]\n")
    assert wb.policy_file_digest("one.yaml") != before  # an edited file is a new policy
    assert wb.policy_file_digest("closest") is None


def test_extra_policies_read_each_rules_file_once_and_say_what_they_leave_out(
    tmp_path, monkeypatch
) -> None:
    from engine.routing import rules

    (tmp_path / "mine.yaml").write_text("name: mine\ndescription: Mine.\nsort: [distance]\n")
    monkeypatch.chdir(tmp_path)
    reads = []
    read = rules.load_policy_file
    monkeypatch.setattr(rules, "load_policy_file", lambda *a, **k: reads.append(a) or read(*a, **k))
    added = ["./mine.yaml", "closest", "missing.yaml", " "]
    assert wb.extra_policies(added) == (
        {"mine.yaml": "Mine."},  # named from here, once
        set(),
        [
            "'closest' is offered already; --policy adds a rules file FILE.yaml[:NAME] or a "
            "Python module:NAME",
            "policy file 'missing.yaml' not found",
            "empty policy name",
        ],
    )
    assert len(reads) == 1  # checked and described from one reading
