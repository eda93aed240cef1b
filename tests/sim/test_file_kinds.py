"""A file of one format given where another is expected says what it is and which command
takes it: a sweep file to `run`, `compare` or `check`, a scenario or a rules file to
`sweep`. `fulfil check` validates a sweep file."""

from __future__ import annotations

import pytest
from test_cli import DEFAULT, ROOT, assert_user_error, fulfil

from sim.file_kind import file_kind

SWEEPS = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))
RULES = sorted((ROOT / "scenarios" / "policies").glob("*.yaml"))
SWEEP = "scenarios/sweeps/safety_x_sync.yaml"  # as a user types it, from the root


@pytest.mark.parametrize(
    "text, kind",
    [
        ("name: s\nscenario: default\npolicies: [closest]\n", "sweep"),
        ("name: s\nscenario: default\ngrid: {inventory.safety_stock_days: [1]}\n", "sweep"),
        ("name: s\nscenaro: default\ngird: {}\n", "sweep"),  # misspelt: still a sweep
        ("name: x\nhorizon_days: 3\n", "scenario"),
        ("name: x\nseed: 3\n", "scenario"),
        ("name: x\npolicy: cost\n", "scenario"),  # a slip for routing.policy
        ("policies:\n  - name: a\n", "rules"),
        ("name: mine\nfiltres: []\n", "rules"),
        ("name: x\n", None),
        ("- a list\n", None),
        # a sweep with a stray scenario key (or the reverse): its own error names the key
        ("name: s\nscenario: default\npolicies: [closest]\nhorizon_days: 7\n", None),
        # slips in a scenario that a sweep or rules file would also take: say nothing
        ("name: my week\ndays: 7\n", None),
        ("name: x\nseed: 3\nreplications: 5\n", "sweep"),
        ("name: x\npolicies: [closest, cost]\n", None),
    ],
)
def test_a_file_s_format_is_told_by_its_keys(tmp_path, text, kind):
    path = tmp_path / "file.yaml"
    path.write_text(text)
    assert file_kind(path) == kind


def test_the_project_s_files_are_told_apart():
    assert file_kind(DEFAULT) == "scenario"
    assert {file_kind(p) for p in SWEEPS} == {"sweep"}
    assert {file_kind(p) for p in RULES} == {"rules"}


@pytest.mark.parametrize(
    "command", [["run", "--policy", "closest"], ["compare", "--policies", "closest,cost"]]
)
def test_a_sweep_file_given_as_a_scenario_says_it_is_a_sweep_file(command):
    line = assert_user_error(fulfil(command[0], SWEEP, *command[1:]))
    assert line == (
        f"{SWEEP}: is a sweep file, not a scenario; "
        f"run it with `fulfil sweep {SWEEP} --out DIR` (`--plan` to preview)"
    )


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_check_validates_a_sweep_file(path):
    proc = fulfil("check", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{path}: ok (sweep {path.stem}: ")
    assert f"run it with `fulfil sweep {path} --out DIR`" in proc.stdout


def test_check_of_a_bad_sweep_file_names_the_field(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: bad\nscenario: {DEFAULT}\ngrid:\n  inventory.safety_stock_days: [-1]\n"
        "policies: [closest]\n"
    )
    assert_user_error(
        fulfil("check", str(path)), str(path), "grid.inventory.safety_stock_days", "(got -1)"
    )


@pytest.mark.parametrize(
    "given, hint",
    [
        (
            "scenarios/default.yaml",
            "is a scenario, not a sweep file; run it with `fulfil run scenarios/default.yaml "
            "--policy NAME` or name it as `scenario:` in a sweep file",
        ),
        (
            "scenarios/policies/regional_first.yaml",
            "is a policy rules file, not a sweep file; name it under `policies:` in a sweep file",
        ),
        (  # a scenario's name, as `fulfil run` takes it (no such file here)
            "default",
            "is a named scenario, not a sweep file; run it with `fulfil run default --policy "
            "NAME` or name it as `scenario: default` in a sweep file",
        ),
    ],
)
def test_a_scenario_or_rules_file_given_to_sweep_says_what_it_is(tmp_path, given, hint):
    out = tmp_path / "out"
    for extra in ([], ["--plan"]):
        line = assert_user_error(fulfil("sweep", given, "--out", str(out), *extra))
        assert line == f"{given}: {hint}"
    assert not out.exists()  # refused before anything is written


def test_a_bad_sweep_file_keeps_its_own_error(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("name: s\nscenario: default\ngrid: {}\n")
    line = assert_user_error(fulfil("sweep", str(path), "--out", str(tmp_path / "out")))
    assert line == f"{path}: policies: required field is missing"
