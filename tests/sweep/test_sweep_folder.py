"""The output folder: one schema for every row file, rows that follow the current plan, one
sweep (and one writer) per folder."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sweep_helpers import sweep_cli, write_sweep

from sim.sweep import expand, load_sweep, run_sweep, store
from sim.sweep.store import ResultStore

STOCK = "inventory.safety_stock_days"
SYNC = "inventory.pos_sync_delay_minutes"
TICK = "operations.routing_tick_seconds"


def _tiny(folder: Path, **changes: object) -> Path:
    """A sweep of few runs: one policy, one replication, no override sets."""
    return write_sweep(
        folder, **{"overrides": [], "policies": ["closest"], "replications": 1, **changes}
    )


def _schemas(out: Path) -> set[str]:
    return {pq.read_schema(p).to_string() for p in (out / "runs").glob("part-*.parquet")}


def test_row_files_share_one_schema_when_values_differ_in_type_or_paths(tmp_path: Path):
    # Whole and fractional numbers in one grid; override sets that set different paths.
    overrides = [{SYNC: 30}, {TICK: 30}]
    path = _tiny(tmp_path, grid={STOCK: [0, 0.5, 1]}, overrides=overrides)
    out = tmp_path / "out"
    run_sweep(path, out, runner="synthetic", progress=False)
    assert len(_schemas(out)) == 1
    runs = pd.read_parquet(out / "runs")  # the documented way to read the results
    assert len(runs) == 6
    assert runs[STOCK].dtype == "float64" and sorted(set(runs[STOCK])) == [0.0, 0.5, 1.0]
    assert runs[SYNC].isna().sum() == 3 and runs[TICK].isna().sum() == 3


def test_a_grown_grid_rewrites_earlier_rows_to_the_plan(tmp_path: Path):
    out = tmp_path / "out"
    run_sweep(_tiny(tmp_path, grid={STOCK: [0, 1]}), out, runner="synthetic", progress=False)
    grown = _tiny(tmp_path, grid={STOCK: [0, 0.5, 1], SYNC: [15, 60]})  # 15 is the default
    report = run_sweep(grown, out, runner="synthetic", progress=False)
    assert (report.skipped, report.ran) == (2, 4)
    assert len(_schemas(out)) == 1
    runs = pd.read_parquet(out / "runs")
    # One setting per case number, and the case numbers of the current file.
    planned = {c.index: c.overrides for c in load_sweep(grown).cases}
    for case, rows in runs.groupby("case"):
        assert rows["overrides"].map(json.loads).tolist() == [planned[case]] * len(rows)
        assert rows[STOCK].tolist() == [float(planned[case][STOCK])] * len(rows)
    assert sorted(runs["case"]) == list(range(6))


def test_a_folder_of_another_sweep_or_runner_is_refused(tmp_path: Path):
    out = tmp_path / "out"
    (tmp_path / "a").mkdir()
    first = _tiny(tmp_path / "a", name="first")
    run_sweep(first, out, runner="synthetic", progress=False)
    other = _tiny(tmp_path, name="second")
    with pytest.raises(store.OutFolderError, match="holds sweep 'first', not 'second'"):
        run_sweep(other, out, runner="synthetic", progress=False)
    proc = sweep_cli(str(other), "--out", str(out), "--runner", "synthetic", "--no-progress")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"fulfil sweep: --out {out}: holds sweep 'first', not 'second'; "
        "use another --out or delete it"
    )
    proc = sweep_cli(str(first), "--out", str(out), "--runner", "sweep_test_runners:slow", "--plan")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"fulfil sweep: --out {out}: holds sweep 'first' run with --runner synthetic, not "
        "with --runner sweep_test_runners:slow; use another --out or delete it"
    )
    assert len(ResultStore(out).done_keys()) == 2  # nothing was added


def test_runs_outside_the_plan_are_set_aside_and_taken_back(tmp_path: Path, capsys):
    out = tmp_path / "out"
    for name in ("three", "two"):
        (tmp_path / name).mkdir()
    three_days = _tiny(tmp_path / "three", grid={STOCK: [0.0, 1.0]}, days=3)
    first = {t.key for t in expand(load_sweep(three_days), runner="synthetic")}
    run_sweep(three_days, out, runner="synthetic", progress=False)
    two_days = _tiny(tmp_path / "two", grid={STOCK: [0.0, 1.0]}, days=2)
    proc = sweep_cli(str(two_days), "--out", str(out), "--runner", "synthetic", "--plan")
    assert proc.returncode == 0, proc.stderr
    assert "holds 2 runs not in this plan, of other settings" in proc.stdout
    capsys.readouterr()
    report = run_sweep(two_days, out, runner="synthetic", progress=False)
    assert report.ran == 2
    assert f"{out}: set aside 2 finished runs that are not in this sweep's plan" in (
        capsys.readouterr().err
    )
    runs = pd.read_parquet(out / "runs")
    assert set(runs["days"]) == {2} and len(runs) == 2  # no stale rows mixed in
    assert ResultStore(out).set_aside_keys() == first
    assert all((out / "set_aside" / "details" / key / "orders.parquet").is_file() for key in first)
    back = run_sweep(three_days, out, runner="synthetic", progress=False)
    assert (back.ran, back.skipped) == (0, 2)
    assert ResultStore(out).done_keys() == first


def test_plan_and_run_agree_on_set_aside_runs_that_lack_details(tmp_path: Path):
    out = tmp_path / "out"
    for name in ("three", "two"):
        (tmp_path / name).mkdir()
    first = _tiny(tmp_path / "three", days=3, details=["orders"])
    run_sweep(first, out, runner="synthetic", progress=False)
    two_days = _tiny(tmp_path / "two", days=2, details=["orders"])
    for expected in ((0, 2), (2, 0)):
        run_sweep(two_days, out, runner="synthetic", progress=False)  # sets 3-day runs aside
        three_days = _tiny(tmp_path / "three", days=3, details=["orders", "shipments"])
        proc = sweep_cli(
            str(three_days), "--out", str(out), "--runner", "synthetic", "--plan", "--json"
        )
        assert proc.returncode == 0, proc.stderr
        plan = json.loads(proc.stdout)
        report = run_sweep(three_days, out, runner="synthetic", progress=False)
        # first the set-aside runs lack shipments and run again, then they have them
        assert (plan["done"], plan["to_run"]) == (report.skipped, report.ran) == expected


def test_plan_names_rows_of_another_code_version(tmp_path: Path, monkeypatch):
    out = tmp_path / "out"
    path = _tiny(tmp_path)
    monkeypatch.setenv("FULFIL_CODE_VERSION", "0.0.0+old")
    run_sweep(path, out, runner="synthetic", progress=False)
    proc = sweep_cli(str(path), "--out", str(out), "--runner", "synthetic", "--plan")
    assert proc.returncode == 0, proc.stderr
    assert "= 2 runs; 0 done, 2 to run" in proc.stdout
    assert "holds 2 runs not in this plan, made by another code version (0.0.0+old;" in (
        proc.stdout
    )


def test_detail_tables_asked_for_since_a_run_finished_are_made(tmp_path: Path, capsys):
    out = tmp_path / "out"
    run_sweep(_tiny(tmp_path, details=["orders"]), out, runner="synthetic", progress=False)
    keys = ResultStore(out).done_keys()
    assert not any((out / "details" / k / "shipments.parquet").exists() for k in keys)
    capsys.readouterr()
    both = _tiny(tmp_path, details=["orders", "shipments"])
    report = run_sweep(both, out, runner="synthetic", progress=False)
    assert (report.ran, report.skipped) == (2, 0)
    assert "2 finished runs lack the detail tables shipments" in capsys.readouterr().err
    assert all((out / "details" / k / "shipments.parquet").is_file() for k in keys)
    # A table the runner does not make is not asked for again and again.
    lines = _tiny(tmp_path, details=["orders", "shipments", "lines"])
    assert run_sweep(lines, out, runner="synthetic", progress=False).ran == 2
    assert run_sweep(lines, out, runner="synthetic", progress=False).ran == 0


def test_an_empty_out_is_refused(tmp_path: Path):
    path = _tiny(tmp_path)
    here = tmp_path / "here"
    here.mkdir()
    for extra in ([], ["--plan"]):
        proc = sweep_cli(str(path), "--out", "", "--runner", "synthetic", *extra, cwd=here)
        assert proc.returncode == 2
        assert proc.stderr.strip() == "fulfil sweep: --out: no folder given; name a results folder"
    assert not list(here.iterdir())  # nothing written in the current folder
    with pytest.raises(store.OutFolderError, match="no folder given"):
        run_sweep(path, "", runner="synthetic", progress=False)


def test_a_second_writer_on_the_same_folder_is_refused(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    path = _tiny(tmp_path)
    args = [str(path), "--out", str(out), "--runner", "synthetic", "--executor", "serial"]
    with open(out / ".lock", "a+") as held:  # what a running sweep holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = sweep_cli(*args, "--no-progress")
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"fulfil sweep: --out {out}: another ")
        assert "wait for it to finish or use another --out" in lines[0]
        assert not list(out.rglob("part-*"))
    proc = sweep_cli(*args, "--no-progress")
    assert proc.returncode == 0, proc.stderr


RUN_JSON = {  # what `fulfil run --out` writes (its other files do not matter here)
    "scenario": "default",
    "policy": "closest",
    "seed": 42,
    "reproduce": "fulfil run scenario.yaml --policy closest --seed 42",
}


@pytest.mark.parametrize(
    "files, reason",
    [
        ({"x.txt": "mine"}, "holds files that are not a sweep's results (x.txt)"),
        (
            {"run.json": json.dumps(RUN_JSON), "kpis.json": "{}"},
            "holds the output of `fulfil run`, not a sweep's results",
        ),
    ],
)
def test_a_folder_of_other_files_is_refused_and_touched_nowhere(
    tmp_path: Path, files: dict[str, str], reason: str
):
    out = tmp_path / "out"
    out.mkdir()
    for name, text in files.items():
        (out / name).write_text(text)
    path = _tiny(tmp_path)
    for extra in (["--plan"], ["--executor", "serial", "--no-progress"]):
        proc = sweep_cli(str(path), "--out", str(out), "--runner", "synthetic", *extra)
        assert proc.returncode == 2
        assert (
            proc.stderr.strip() == f"fulfil sweep: --out {out}: {reason}; use a new or empty folder"
        )
        assert "Traceback" not in proc.stderr
    with pytest.raises(store.OutFolderError, match="use a new or empty folder"):
        run_sweep(path, out, runner="synthetic", progress=False)
    assert {p.name: p.read_text() for p in out.iterdir()} == files  # nothing added or lost
