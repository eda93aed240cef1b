"""`fulfil run --out`: a folder holds one run's files. A run into an earlier run's folder
removes that run's files it does not write again; a sweep's folder or a folder of other
files is refused before the run, and nothing in it is touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import DEFAULT, ROOT, assert_user_error, fulfil

from sim.outdir import RUN_FILES, clear_run, run_out_problem

REGIONAL = ROOT / "scenarios" / "policies" / "regional_first.yaml"
RULES = ROOT / "scenarios" / "policies" / "store_rules.yaml"


def _run(out: Path, *args: str, scenario: Path = DEFAULT):
    return fulfil("run", str(scenario), "--days", "1", "--out", str(out), *args)


def _contents(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_rules_copy_of_an_earlier_run_is_removed_and_other_files_stay(tmp_path):
    out = tmp_path / "run"
    proc = _run(out, "--policy", str(REGIONAL))
    assert proc.returncode == 0, proc.stderr
    assert (out / "policy.yaml").is_file()
    (out / "notes.txt").write_text("mine")  # the user's own file, not a run's
    proc = _run(out, "--policy", "closest")
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((out / "run.json").read_text())
    assert meta["policy"] == "closest" and "policy_file_sha256" not in meta
    assert not (out / "policy.yaml").exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert {p.name for p in out.iterdir()} == (
        RUN_FILES - {"policy.yaml", "routing_policy.yaml"}
    ) | {"notes.txt"}


def test_the_scenario_s_rules_copy_of_an_earlier_run_is_removed(tmp_path):
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "rules.yaml").write_bytes(RULES.read_bytes())
    scenario = folder / "scn.yaml"
    scenario.write_text("name: team\nrouting:\n  policy: rules.yaml:cheapest_dc\n")
    out = tmp_path / "run"
    proc = _run(out, "--policy", "closest", scenario=scenario)
    assert proc.returncode == 0, proc.stderr
    assert (out / "routing_policy.yaml").is_file()
    proc = _run(out, "--policy", "closest")
    assert proc.returncode == 0, proc.stderr
    assert not (out / "routing_policy.yaml").exists()
    assert "routing_policy" not in (out / "scenario.yaml").read_text()


def test_a_run_reproduces_in_its_own_folder_from_its_rules_copy(tmp_path):
    out = tmp_path / "run"
    proc = _run(out, "--policy", f"{RULES}:cheapest_dc")
    assert proc.returncode == 0, proc.stderr
    kpis = json.loads((out / "kpis.json").read_text())
    # The copy is read before the earlier run's files are removed: it is one of them.
    policy = str(out / "policy.yaml") + ":cheapest_dc"
    again = _run(out, "--policy", policy, "--json", scenario=out / "scenario.yaml")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == kpis
    assert (out / "policy.yaml").read_bytes() == RULES.read_bytes()


def test_a_run_into_a_sweep_s_folder_is_refused_and_touches_nothing(tmp_path):
    from sim.sweep import run_sweep

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: tiny\nscenario: {DEFAULT}\npolicies: [closest]\ndays: 1\n")
    out = tmp_path / "sweep_out"
    run_sweep(sweep, out, runner="synthetic", progress=False)
    before = _contents(out)
    line = assert_user_error(_run(out, "--policy", "closest"), str(out), "--out")
    assert line == (
        f"{out}: --out: holds the results of sweep 'tiny', not of a run; use a new or empty "
        "folder, or one an earlier `fulfil run --out` wrote"
    )
    assert _contents(out) == before


def test_a_run_into_a_folder_of_other_files_is_refused_and_touches_nothing(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "x.txt").write_text("mine")
    (out / "policy.yaml").write_text("mine too")  # a run's name, but not a run's folder
    line = assert_user_error(_run(out, "--policy", "closest"), str(out), "--out")
    assert line == (
        f"{out}: --out: holds files that are not a run's output (policy.yaml, x.txt); use a "
        "new or empty folder, or one an earlier `fulfil run --out` wrote"
    )
    assert _contents(out) == {"x.txt": b"mine", "policy.yaml": b"mine too"}


def test_a_file_of_a_run_s_name_is_not_removed_without_the_run_s_run_json(tmp_path):
    # Only a run's tables and no run.json (a run stopped while writing): the run may write
    # there, but removes nothing it cannot tell is a run's.
    out = tmp_path / "run"
    out.mkdir()
    (out / "orders.parquet").write_bytes(b"partial")
    assert run_out_problem(out) is None
    assert clear_run(out) == []
    proc = _run(out, "--policy", "closest")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", ["scenario.yaml", "policy.yaml", "routing_policy.yaml"])
def test_a_users_yaml_of_a_run_s_name_is_never_overwritten(tmp_path, name):
    """A scenario kept in the folder its results go to, with no run's run.json: refused,
    so the run cannot replace the user's file with its own copy."""
    out = tmp_path / "exp"
    out.mkdir()
    (out / name).write_text("# mine\nname: x\n")
    line = assert_user_error(_run(out, "--policy", "closest"), str(out), "--out")
    assert f"holds files that are not a run's output ({name})" in line
    assert _contents(out) == {name: b"# mine\nname: x\n"}


@pytest.mark.parametrize("make", [False, True])
def test_a_missing_or_empty_folder_takes_a_run(tmp_path, make):
    out = tmp_path / "new"
    if make:
        out.mkdir()
    assert run_out_problem(out) is None
