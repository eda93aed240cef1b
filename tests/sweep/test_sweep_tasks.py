"""Task expansion and the stability of run keys."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sweep_helpers import ROOT, cli_env, write_sweep

from sim.sweep import code_version, expand, load_sweep
from sim.sweep.tasks import task_key


def test_expand_is_case_policy_replication(sweep_file: Path):
    sweep = load_sweep(sweep_file)
    tasks = expand(sweep)
    assert len(tasks) == 4 * 2 * 2
    assert [(t.case, t.policy, t.replication) for t in tasks[:4]] == [
        (0, "closest", 0),
        (0, "closest", 1),
        (0, "min_split", 0),
        (0, "min_split", 1),
    ]
    assert len({t.key for t in tasks}) == len(tasks)
    assert all(re.fullmatch(r"[0-9a-f]{20}", t.key) for t in tasks)
    # Common random numbers: every policy and case shares the seed; replications differ.
    assert {t.seed for t in tasks} == {sweep.seed}
    assert all(t.days == 2 for t in tasks)


def test_keys_are_stable_across_loads_and_processes(sweep_file: Path):
    # A fixed code version: other edits to sim/ while the test runs must not matter.
    keys = [t.key for t in expand(load_sweep(sweep_file), code="v1")]
    assert keys == [t.key for t in expand(load_sweep(sweep_file), code="v1")]
    script = (
        "import sys; from sim.sweep import expand, load_sweep; "
        "print(' '.join(t.key for t in expand(load_sweep(sys.argv[1]), code='v1')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(sweep_file)],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert proc.stdout.split() == keys


def test_key_depends_on_every_input(tmp_path: Path):
    sweep = load_sweep(write_sweep(tmp_path))
    scenario = sweep.cases[0].scenario
    base = task_key(scenario, "closest", 42, 0, 2, "v1")
    assert base == task_key(dict(scenario), "closest", 42, 0, 2, "v1")
    changed = {
        task_key(sweep.cases[1].scenario, "closest", 42, 0, 2, "v1"),
        task_key(scenario, "min_split", 42, 0, 2, "v1"),
        task_key(scenario, "closest", 43, 0, 2, "v1"),
        task_key(scenario, "closest", 42, 1, 2, "v1"),
        task_key(scenario, "closest", 42, 0, 3, "v1"),
        task_key(scenario, "closest", 42, 0, 2, "v2"),
    }
    assert base not in changed and len(changed) == 6


def test_same_case_keeps_its_key_when_the_grid_grows(tmp_path: Path):
    small = expand(load_sweep(write_sweep(tmp_path)), code="v1")
    grid = {"network.store_defaults.daily_order_limit": [20, 60, 120]}
    big = expand(load_sweep(write_sweep(tmp_path, grid=grid)), code="v1")
    assert {t.key for t in small} < {t.key for t in big}


def test_another_runners_runs_have_other_keys(tmp_path: Path):
    from sim.sweep.synthetic import SyntheticRunner
    from sim.sweep.tasks import runner_identity, simulation_runner

    sweep = load_sweep(write_sweep(tmp_path))
    real = {t.key for t in expand(sweep, code="v1")}
    assert real == {t.key for t in expand(sweep, code="v1", runner=simulation_runner)}
    fake = {t.key for t in expand(sweep, code="v1", runner="synthetic")}
    assert fake == {t.key for t in expand(sweep, code="v1", runner=SyntheticRunner())}
    assert real.isdisjoint(fake) and len(fake) == len(real)
    assert runner_identity("synthetic") == "sim.sweep.synthetic:SyntheticRunner"
    assert runner_identity("sweep_test_runners:slow") == "sweep_test_runners:slow"
    assert runner_identity(None) is runner_identity("sim.sweep.tasks:simulation_runner") is None


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("nosuch:x", "cannot import module 'nosuch'"),
        (":x", "cannot import module ''"),
        ("sim.run:nosuch", "module 'sim.run' has no attribute 'nosuch'"),
        ("sim.run:__doc__", "sim.run:__doc__ is not callable"),
    ],
)
def test_a_runner_that_names_nothing_callable_is_a_usage_error(spec: str, reason: str):
    from sim.cli import UsageError
    from sim.sweep.tasks import resolve_runner

    with pytest.raises(UsageError) as info:
        resolve_runner(spec)
    assert info.value.field == "--runner"
    assert str(info.value).startswith("--runner: ") and reason in str(info.value)


def test_code_version_names_package_and_source_hash(monkeypatch, tmp_path: Path):
    import engine
    import sim
    from sim.sweep import tasks

    assert code_version() == "0.0.0+sweep-tests"  # pinned for these tests
    monkeypatch.delenv("FULFIL_CODE_VERSION")
    monkeypatch.setattr(tasks, "_CODE_VERSION", [])  # this process's answer stays its own
    version = code_version(fresh=True)
    assert re.fullmatch(r"\d+\.\d+\.\d+.*\+[0-9a-f]{12}", version)

    # The hash is over the sources: two copies of engine/ and sim/ give the same version,
    # one byte changed in either package (or in sim's data) gives another.
    ignore = shutil.ignore_patterns("__pycache__")
    copies = [tmp_path / "a", tmp_path / "b"]
    for copy in copies:
        for package in (engine, sim):
            root = Path(package.__file__).parent
            shutil.copytree(root, copy / root.name, ignore=ignore)

    def version_of(copy: Path) -> str:
        for package in (engine, sim):  # code_version finds the sources from the packages
            monkeypatch.setattr(package, "__file__", str(copy / package.__name__ / "__init__.py"))
        return code_version(fresh=True)

    a, b = copies
    same = version_of(a)
    assert same == version_of(b) and same.split("+")[0] == version.split("+")[0]
    for rel in ("engine/__init__.py", "sim/sweep/tasks.py", "sim/data/us_cities.csv"):
        path = b / rel
        original = path.read_bytes()
        path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))  # one byte differs
        assert version_of(b) != same, f"{rel} is not part of the code version"
        path.write_bytes(original)
        assert version_of(b) == same


def test_worker_with_other_code_refuses_the_run(sweep_file: Path):
    from dataclasses import replace

    from sim.sweep.synthetic import SyntheticRunner
    from sim.sweep.tasks import execute

    task = expand(load_sweep(sweep_file))[0]
    ok = execute(replace(task, code_version=code_version()), SyntheticRunner(), ["orders"])
    assert ok.ok and set(ok.details) == {"orders"} and "cost_per_order" in ok.kpis
    stale = execute(replace(task, code_version="0.0.1+000000000000"), SyntheticRunner(), [])
    assert not stale.ok
    assert stale.error.startswith("RuntimeError: worker code version")
    assert "install the same code on every worker" in stale.error
