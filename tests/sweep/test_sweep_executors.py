"""Every executor gives the same results; Dask via LocalCluster and a separate scheduler."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sweep_helpers import ROOT, cli_env, marks, sweep_cli, write_sweep
from sweep_test_runners import MARKS_ENV

from sim.sweep import run_sweep
from sim.sweep.frontier import KPI_NAMES

DASK = Path(sys.executable).with_name("dask")


def _kpis(out: Path) -> pd.DataFrame:
    runs = pd.read_parquet(out / "runs")
    return runs.set_index("key").sort_index()[list(KPI_NAMES)]


def test_serial_process_and_dask_local_cluster_agree(tmp_path: Path):
    path = write_sweep(tmp_path)
    results = {}
    for name, options in {
        "serial": {},
        "process": {"workers": 2},
        "dask": {"workers": 2, "dask_processes": False},
    }.items():
        out = tmp_path / name
        report = run_sweep(path, out, executor=name, runner="synthetic", progress=False, **options)
        assert (report.ran, report.failed) == (16, 0), report.failures
        results[name] = _kpis(out)
        assert (out / "summary.parquet").is_file() and (out / "frontier.html").is_file()
    pd.testing.assert_frame_equal(results["serial"], results["process"])
    pd.testing.assert_frame_equal(results["serial"], results["dask"])
    # The LocalCluster's scratch folder lived under the output folder and is gone.
    assert not (tmp_path / "dask" / ".scratch").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster(tmp_path: Path):
    """A ``dask scheduler`` and one ``dask worker`` on 127.0.0.1, torn down afterwards."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler_cmd = [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port)]
    worker_cmd = [str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "2"]
    worker_cmd += ["--local-directory", str(tmp_path / "worker-scratch")]
    procs: list[subprocess.Popen] = []
    with open(tmp_path / "scheduler.log", "w") as slog, open(tmp_path / "worker.log", "w") as wlog:
        try:
            for cmd, log in ((scheduler_cmd, slog), (worker_cmd, wlog)):
                procs.append(
                    subprocess.Popen(
                        [*cmd, "--no-dashboard"],
                        env=cli_env(),
                        cwd=tmp_path,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
            with Client(address, timeout="30s") as client:
                client.wait_for_workers(1, timeout=60)
            yield address
        finally:
            try:  # a clean, quick shutdown of scheduler and worker
                with Client(address, timeout="5s") as client:
                    client.shutdown()
            except (OSError, TimeoutError):
                pass
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


def test_separate_scheduler_and_worker(dask_cluster: str, tmp_path: Path, monkeypatch):
    path = write_sweep(tmp_path)
    serial = run_sweep(path, tmp_path / "serial", runner="synthetic", progress=False)
    assert serial.ran == 16
    out = tmp_path / "cluster"
    proc = sweep_cli(
        str(path),
        "--out",
        str(out),
        "--scheduler",
        dask_cluster,
        "--runner",
        "synthetic",
        "--no-progress",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    outcome = json.loads(proc.stdout)
    assert (outcome["ran"], outcome["failed"]) == (16, 0)
    assert outcome["executor"].startswith(f"dask {dask_cluster}")
    pd.testing.assert_frame_equal(_kpis(tmp_path / "serial"), _kpis(out))
    # The runs really went to the separate worker process.
    from distributed import Client

    with Client(dask_cluster, timeout="30s") as client:
        pids = {str(pid) for pid in client.run(os.getpid).values()}
    workers = set(pd.read_parquet(out / "runs")["worker"])
    assert {w.rsplit(":", 1)[1] for w in workers} <= pids

    # DASK_SCHEDULER_ADDRESS is read when no scheduler is given.
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", dask_cluster)
    again = run_sweep(path, tmp_path / "env", executor="dask", runner="synthetic", progress=False)
    assert again.executor.startswith(f"dask {dask_cluster}") and again.ran == 16


def test_scheduler_needs_dask_executor(tmp_path: Path):
    proc = sweep_cli(
        str(write_sweep(tmp_path)),
        "--out",
        str(tmp_path / "o"),
        "--executor",
        "process",
        "--scheduler",
        "tcp://127.0.0.1:1",
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "fulfil sweep: --scheduler needs --executor dask"


SMALL_WORLD = {
    "demand.channels.web.orders_per_day": 300,
    "demand.channels.app.orders_per_day": 150,
    "demand.channels.marketplace.orders_per_day": 60,
    "demand.channels.social.orders_per_day": 30,
    "catalogue.skus": 200,
}


def test_real_simulation_is_identical_across_executors(tmp_path: Path):
    path = write_sweep(tmp_path, grid={}, overrides=[SMALL_WORLD], replications=1, days=1)
    frames = {}
    for name, options in {
        "serial": {},
        "process": {"workers": 2},
        "dask": {"workers": 1, "dask_processes": True},
    }.items():
        out = tmp_path / name
        report = run_sweep(path, out, executor=name, progress=False, **options)
        assert (report.ran, report.failed) == (2, 0), report.failures
        frames[name] = _kpis(out)
        orders = pd.read_parquet(next((out / "details").glob("*/orders.parquet")))
        assert len(orders) > 100
    assert frames["serial"]["orders"].gt(0).all()
    pd.testing.assert_frame_equal(frames["serial"], frames["process"])
    pd.testing.assert_frame_equal(frames["serial"], frames["dask"])


def _default_sigint() -> None:
    """Give the sweep the default Ctrl-C handling of a terminal's foreground job: a shell
    starts background jobs (``pytest ... &``) with SIGINT ignored, which their children
    inherit, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_with_a_local_cluster_prints_one_line(tmp_path: Path):
    path = write_sweep(tmp_path)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sim.sweep", str(path), "--out", str(out)]
    command += ["--executor", "dask", "--workers", "2", "--no-progress"]
    command += ["--runner", "sweep_test_runners:busy"]  # 30 s a run, holding the GIL
    folder = tmp_path / "marks"
    folder.mkdir()
    proc = subprocess.Popen(
        command,
        env={**cli_env(), MARKS_ENV: str(folder)},
        cwd=ROOT,
        start_new_session=True,  # its own process group, as a terminal's job is
        preexec_fn=_default_sigint,  # as in a terminal, even when pytest runs in background
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Hang guards only (the machines are shared and often loaded), never speed checks.
        deadline = time.monotonic() + 300
        busy: set[int] = set()
        while time.monotonic() < deadline and len(busy) < 2 and proc.poll() is None:
            time.sleep(0.1)
            busy = {pid for pid, _, _ in marks(folder, "started")}
        assert len(busy) >= 2, "both LocalCluster workers are inside runs"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        code = proc.wait(timeout=300)
        stderr = proc.stderr.read().decode()
        assert code == 130, stderr
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        proc.stderr.close()
    assert stderr.strip() == f"interrupted; run the same command to finish the sweep in {out}"
