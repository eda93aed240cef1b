"""Resuming: a killed sweep finishes only the missing runs; failing runs are retried."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from sweep_helpers import ROOT, alive, children, cli_env, marks, sweep_cli, write_sweep
from sweep_test_runners import MARKS_ENV, SLOW_ENV, run_id

from sim.sweep import expand, load_sweep, run_sweep
from sim.sweep.store import ResultStore
from sim.sweep.synthetic import SyntheticRunner


def _row_keys(out: Path) -> list[str]:
    return list(pd.read_parquet(out / "runs")["key"])


def test_rerun_skips_done_runs_and_grown_grid_runs_only_new(tmp_path: Path):
    out = tmp_path / "out"
    first = run_sweep(write_sweep(tmp_path), out, runner="synthetic", progress=False)
    assert (first.total, first.ran, first.skipped, first.failed) == (16, 16, 0, 0)
    again = run_sweep(write_sweep(tmp_path), out, runner="synthetic", progress=False)
    assert (again.ran, again.skipped) == (0, 16)
    grid = {"network.store_defaults.daily_order_limit": [20, 60, 120]}
    grown = run_sweep(write_sweep(tmp_path, grid=grid), out, runner="synthetic", progress=False)
    assert (grown.total, grown.ran, grown.skipped) == (24, 8, 16)
    keys = _row_keys(out)
    assert len(keys) == len(set(keys)) == 24
    assert len(grown.summary) == 6 * 2  # cases x policies, replications averaged


def test_kill_mid_sweep_then_rerun_finishes_each_run_exactly_once(tmp_path: Path):
    path = write_sweep(tmp_path, replications=3)  # 24 runs of 0.25 s on 2 workers
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "sim.sweep",
        str(path),
        "--out",
        str(out),
        "--executor",
        "process",
        "--workers",
        "2",
        "--no-progress",
        "--runner",
        "sweep_test_runners:slow",
    ]
    proc = subprocess.Popen(
        command,
        env=cli_env(),
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    runs = out / "runs"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if runs.is_dir() and len(list(runs.glob("part-*.parquet"))) >= 6:
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"sweep ended before the kill: {proc.stderr.read()}"
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: driver and pool workers
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
    done_before = ResultStore(out).done_keys()
    assert 6 <= len(done_before) < 24

    tasks = expand(load_sweep(path), runner="sweep_test_runners:slow")
    report = run_sweep(path, out, runner="sweep_test_runners:slow", progress=False)
    assert report.skipped == len(done_before)
    assert report.ran == 24 - len(done_before)
    keys = _row_keys(out)
    assert sorted(keys) == sorted(t.key for t in tasks)  # each key exactly once
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["total"], manifest["done"], manifest["pending"]) == (24, 24, 0)
    assert not list(out.rglob(".tmp-*"))


def test_leftover_temporary_files_are_not_counted_and_are_removed(tmp_path: Path):
    out = tmp_path / "out"
    store = ResultStore(out)
    tasks = expand(load_sweep(write_sweep(tmp_path)), runner="synthetic")
    # What a kill during a write leaves behind: a temporary file, never the final name.
    (store.runs_dir / f".tmp-0badc0de-part-{tasks[0].key}.parquet").write_bytes(b"PAR1 half")
    assert store.done_keys() == set()
    report = run_sweep(write_sweep(tmp_path), out, runner="synthetic", progress=False)
    assert report.ran == 16
    assert not list(out.rglob(".tmp-*"))


def test_failing_runs_are_recorded_and_retried_while_others_complete(tmp_path: Path):
    path = write_sweep(tmp_path, grid={}, policies=["closest", "min_split", "cost"], max_retries=2)
    out = tmp_path / "out"
    # min_split fails once then succeeds; cost always fails.
    runner = SyntheticRunner(fail={"min_split": 1, "cost": 99}, state_dir=str(tmp_path / "state"))
    report = run_sweep(path, out, runner=runner, executor="process", workers=2, progress=False)
    assert report.total == 2 * 3 * 2
    assert report.ran == 8 and report.failed == 4
    assert report.attempts == 4 + 4 * 2 + 4 * 3  # closest once, min_split twice, cost thrice
    runs = pd.read_parquet(out / "runs")
    assert set(runs["policy"]) == {"closest", "min_split"}
    assert set(runs.loc[runs["policy"] == "min_split", "attempts"]) == {2}
    failures = ResultStore(out).failures()
    cost_keys = {t.key for t in expand(load_sweep(path), runner=runner) if t.policy == "cost"}
    assert set(report.failures) == cost_keys
    for key in cost_keys:
        attempts = failures[key]["attempts"]
        assert [a["attempt"] for a in attempts] == [1, 2, 3]
        assert attempts[-1]["error"] == "RuntimeError: synthetic failure 3 of 99"
        assert "Traceback" in attempts[-1]["traceback"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["done"], manifest["failed"]) == (8, 4)
    failed = [r for r in manifest["runs"] if r["status"] == "failed"]
    assert all(r["last_error"].startswith("RuntimeError") for r in failed)

    # A rerun retries only the failing runs, with a fresh budget; the history is kept.
    again = run_sweep(path, out, runner=runner, progress=False)
    assert (again.skipped, again.ran, again.failed) == (8, 0, 4)
    assert all(len(ResultStore(out).failures()[k]["attempts"]) == 6 for k in cost_keys)


def test_a_crashed_worker_charges_only_the_run_that_crashed_it(tmp_path: Path):
    # Every run of min_split kills its worker process; a broken pool fails every run in
    # flight. Those run again alone, uncharged; only min_split is charged, once per crash
    # it causes alone. The closest runs (slow, so in flight at the crash) are never charged.
    path = write_sweep(
        tmp_path, grid={}, overrides=[], policies=["min_split", "closest"], max_retries=1
    )
    runner = SyntheticRunner(
        sleep_s=1.0, crash={"min_split": 99}, state_dir=str(tmp_path / "state")
    )
    out = tmp_path / "out"
    report = run_sweep(path, out, runner=runner, executor="process", workers=2, progress=False)
    tasks = expand(load_sweep(path), runner=runner)
    crashing = {t.key for t in tasks if t.policy == "min_split"}
    assert (report.ran, report.failed) == (2, 2) and set(report.failures) == crashing
    runs = pd.read_parquet(out / "runs")
    assert set(runs["policy"]) == {"closest"} and set(runs["attempts"]) == {1}
    failures = ResultStore(out).failures()
    assert set(failures) == crashing  # no record for the runs that were only in flight
    for key in crashing:
        attempts = failures[key]["attempts"]
        assert [a["attempt"] for a in attempts] == [1, 2]
        assert all(a["error"].startswith("worker lost: BrokenProcessPool") for a in attempts)


def test_cli_exit_status_1_when_runs_keep_failing(tmp_path: Path):
    path = write_sweep(tmp_path, grid={}, overrides=[], max_retries=1)
    args = [str(path), "--out", str(tmp_path / "out"), "--executor", "serial", "--no-progress"]
    proc = sweep_cli(*args, "--runner", "sweep_test_runners:broken", "--json")
    assert proc.returncode == 1, proc.stderr
    outcome = json.loads(proc.stdout)
    assert (outcome["total"], outcome["ran"], outcome["failed"]) == (4, 2, 2)
    assert set(outcome["failures"].values()) == {"RuntimeError: synthetic failure"}
    proc = sweep_cli(*args, "--runner", "sweep_test_runners:broken", "--json")
    assert proc.returncode == 1, proc.stderr  # the same runner again: only the failing rerun
    outcome = json.loads(proc.stdout)
    assert (outcome["skipped"], outcome["ran"], outcome["failed"]) == (2, 0, 2)
    proc = sweep_cli(*args, "--runner", "synthetic")
    assert proc.returncode == 2  # another model's folder is not mixed with this one's
    assert "holds sweep 'small' run with --runner sweep_test_runners:broken" in proc.stderr


def test_cli_when_every_run_fails_names_the_runs_and_no_missing_files(tmp_path: Path):
    path = write_sweep(
        tmp_path, grid={}, overrides=[], policies=["closest"], replications=2, max_retries=0
    )
    out = tmp_path / "out"
    args = [str(path), "--out", str(out), "--executor", "serial", "--no-progress"]
    proc = sweep_cli(*args, "--runner", "sweep_test_runners:broken")
    assert proc.returncode == 1
    assert f"results: {out}/runs" in proc.stdout
    assert "summary:" not in proc.stdout and "frontier:" not in proc.stdout
    assert not (out / "summary.csv").exists() and not (out / "frontier.html").exists()
    failed = [line for line in proc.stderr.splitlines() if line.startswith("failed ")]
    tasks = expand(load_sweep(path), runner="sweep_test_runners:broken")
    assert sorted(failed) == sorted(
        f"failed {t.key} (case 0 [base], policy closest, replication {t.replication}): "
        "RuntimeError: synthetic failure"
        for t in tasks
    )


def test_a_grown_grid_gives_the_tables_of_a_sweep_run_straight_through(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    grid = {"network.store_defaults.daily_order_limit": [20, 60]}
    grown = {**grid, "inventory.pos_sync_delay_minutes": [15, 60]}  # 15 is the default
    grown_out, straight_out = tmp_path / "grown", tmp_path / "straight"
    run_sweep(write_sweep(tmp_path / "a", grid=grid), grown_out, runner="synthetic", progress=False)
    again = run_sweep(
        write_sweep(tmp_path / "a", grid=grown), grown_out, runner="synthetic", progress=False
    )
    straight = run_sweep(
        write_sweep(tmp_path / "b", grid=grown), straight_out, runner="synthetic", progress=False
    )
    assert again.skipped > 0 and straight.skipped == 0
    ident = ["key", "case", "label", "overrides", "inventory.pos_sync_delay_minutes"]
    rows = {  # the row files as they are, read as the docs say
        out: pd.read_parquet(out / "runs").sort_values("key", ignore_index=True)
        for out in (grown_out, straight_out)
    }
    pd.testing.assert_frame_equal(rows[grown_out][ident], rows[straight_out][ident])
    pd.testing.assert_frame_equal(again.summary, straight.summary)
    summaries = [pd.read_csv(out / "summary.csv") for out in (grown_out, straight_out)]
    pd.testing.assert_frame_equal(*summaries)


def _slow_pool_sweep(
    tmp_path: Path, n: int, stderr: int, slow_s: float = 600
) -> tuple[subprocess.Popen, set[int]]:
    """Start a sweep on `n` pool workers (`sweep_test_runners.marked`: runs of closest are
    quick, the others take `slow_s` seconds) with its marks in ``tmp_path/marks``; return
    the driver and the workers' pids once every worker is inside a slow run and every run
    finished so far is committed. The waits are hang guards, not speed checks."""
    path = write_sweep(tmp_path)
    out, folder = tmp_path / "out", tmp_path / "marks"
    folder.mkdir()
    command = [sys.executable, "-m", "sim.sweep", str(path), "--out", str(out)]
    command += ["--executor", "process", "--workers", str(n), "--no-progress"]
    command += ["--runner", "sweep_test_runners:marked"]
    env = {**cli_env(), MARKS_ENV: str(folder), SLOW_ENV: str(slow_s)}
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 300
    while True:
        inside = {pid for pid, policy, _ in marks(folder, "started") if policy != "closest"}
        finished = marks(folder, "finished")
        if len(inside) == n and len(_parts(out)) == len(finished):
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the {n} workers are not inside slow runs: {inside}")
        time.sleep(0.1)
    if not inside <= children(proc.pid):
        proc.kill()
        raise AssertionError(f"runs under way outside the driver's pool: {inside}")
    return proc, inside


def _parts(out: Path) -> list[Path]:
    return list((out / "runs").glob("part-*.parquet"))


def _die(pids: set[int], within_s: float) -> bool:
    """Whether every process of `pids` has ended within `within_s` seconds (a hang guard)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return not any(alive(p) for p in pids)


def test_sigterm_stops_the_workers_at_once(tmp_path: Path):
    # One worker: the two quick runs of closest are done and committed, the first slow run
    # is under way (120 s, longer than the driver may take to stop), another one queued.
    proc, workers = _slow_pool_sweep(tmp_path, 1, subprocess.PIPE, slow_s=120)
    folder, out = tmp_path / "marks", tmp_path / "out"
    finished = {run for _, _, run in marks(folder, "finished")}
    try:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=300) == 130
        assert "interrupted; run the same command" in proc.stderr.read().decode()
        assert _die(workers, 120), "no worker outlives the sweep"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
        for pid in workers:  # do not leave orphans behind when the test fails
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    # The run under way was stopped, not waited for: no run finished after the signal.
    assert {run for _, _, run in marks(folder, "finished")} == finished
    assert len(finished) == 2
    # What is committed is exactly the runs finished before the signal, each whole.
    sweep = load_sweep(tmp_path / "sweep.yaml")
    tasks = expand(sweep, runner="sweep_test_runners:marked")
    ids = {t.key: run_id(t.scenario, t.policy, t.seed, t.replication, t.days) for t in tasks}
    committed = pd.read_parquet(out / "runs")
    assert {ids[key] for key in committed["key"]} == finished
    assert set(committed["policy"]) == {"closest"}
    assert not list(out.rglob(".tmp-*"))


def test_kill_9_of_the_driver_ends_the_pool_workers(tmp_path: Path):
    # The workers are inside runs of 600 s: only their driver's death can end them sooner.
    proc, workers = _slow_pool_sweep(tmp_path, 2, subprocess.DEVNULL)
    try:
        proc.kill()  # SIGKILL to the driver alone: it cannot stop its pool
        proc.wait(timeout=300)
        assert _die(workers, 120), "no worker outlives the driver"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in workers:  # do not leave orphans behind when the test fails
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
