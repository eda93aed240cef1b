"""Sweep files: valid ones expand into cases; invalid ones stop before anything runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sweep_helpers import ROOT, cli_env, sweep_cli, write_sweep

from sim.sweep import SweepError, load_sweep


def test_valid_sweep_expands_grid_times_override_sets(sweep_file: Path):
    sweep = load_sweep(sweep_file)
    assert len(sweep.cases) == 2 * 2
    first = sweep.cases[0]
    assert first.overrides == {
        "network.store_defaults.daily_order_limit": 20,
        "demand.channels.web.methods.bopis": 0.05,
        "demand.channels.web.methods.ship": 0.92,
    }
    # The override reached the validated scenario.
    assert first.scenario["network"]["store_defaults"]["daily_order_limit"] == 20
    assert first.scenario["demand"]["channels"]["web"]["methods"]["bopis"] == 0.05
    assert first.label == "daily_order_limit=20, bopis=0.05, ship=0.92"
    assert sweep.seed == first.scenario["seed"]  # default seed: the scenario's


def test_grid_only_and_list_only(tmp_path: Path):
    grid_only = load_sweep(write_sweep(tmp_path, overrides=[]))
    assert [c.overrides for c in grid_only.cases] == [
        {"network.store_defaults.daily_order_limit": 20},
        {"network.store_defaults.daily_order_limit": 60},
    ]
    list_only = load_sweep(write_sweep(tmp_path, grid={}))
    assert len(list_only.cases) == 2
    base_only = load_sweep(write_sweep(tmp_path, grid={}, overrides=[]))
    assert [c.label for c in base_only.cases] == ["base"]


def _error(tmp_path: Path, **changes: object) -> SweepError:
    with pytest.raises(SweepError) as info:
        load_sweep(write_sweep(tmp_path, **changes))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / "sweep.yaml") + ": ")
    return info.value


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (
            {"grid": {"network.store_defaults.daly_limit": [1]}},
            "grid.network.store_defaults.daly_limit",
            "unknown setting 'daly_limit'",
        ),
        (
            {"grid": {"network.store_defaults.daily_order_limit": [20, -5]}},
            "grid.network.store_defaults.daily_order_limit",
            "greater than or equal to 0",
        ),
        ({"grid": {"horizon_days": ["soon"]}}, "grid.horizon_days", "a number, not 'soon'"),
        (
            {
                "overrides": [
                    {"inventory.safety_stock_days": 1},
                    {"inventory.safety_stock_days": -1},
                ]
            },
            "overrides.1.inventory.safety_stock_days",
            "greater than or equal to 0 (got -1) (case daily_order_limit=20, safety_stock_days=-1)",
        ),
        ({"grid": {"warmup_days": [40]}}, "grid.warmup_days", "must be less than horizon_days"),
        ({"policies": ["closest", "fastest_ever"]}, "policies.1", "unknown policy 'fastest_ever'"),
        ({"policies": ["closest", "closest"]}, "policies", "listed twice"),
        ({"policies": ["my_rules.yaml"]}, "policies.0", "not found"),
        ({"scenario": "no_such_scenario"}, "scenario", "no such file or named scenario"),
        ({"replications": 0}, "replications", "greater than or equal to 1"),
        ({"replications": True}, "replications", "whole number, not true"),
        ({"replications": 10**12}, "replications", "less than or equal to 1000"),
        ({"seed": 10**23}, "seed", "less than or equal to 9007199254740991"),
        (
            {
                "grid": {},
                "overrides": [
                    {"label": "a", "set": {"inventory.safety_stock_days": 0.5}},
                    {"label": "b", "set": {"inventory.safety_stock_days": 1.0}},
                    {"label": "a", "set": {"inventory.safety_stock_days": 1.5}},
                ],
            },
            "overrides.2.label",
            "'a' is also the label of overrides.0; give each set its own label",
        ),
        ({"days": True}, "days", "whole number, not true"),
        ({"seed": True}, "seed", "whole number, not true"),
        ({"max_retries": True}, "max_retries", "whole number, not true"),
        (
            {"grid": {"seed": [1, 2]}},
            "grid.seed",
            "'seed' is an id column of the results and cannot be overridden; vary seeds with "
            "the sweep's `replications`",
        ),
        (
            {"grid": {}, "overrides": [{"seed": 1}, {"seed": 2}]},
            "overrides.0.seed",
            "id column of the results",
        ),
        (
            {"overrides": [{"label": "other seed", "set": {"seed": 7}}]},
            "overrides.0.set.seed",
            "id column of the results",
        ),
        (
            {"grid": {"network.store_defaults.daily_order_limit": []}},
            "grid",
            "needs at least one value",
        ),
        ({"grid": {"not a path!": [1]}}, "grid", "not a dotted path"),
        (  # a rule over the whole section (shares sum to 1) names the grid entry that broke it
            {"grid": {"demand.channels.web.methods.bopis": [0.3]}, "overrides": []},
            "grid.demand.channels.web.methods.bopis",
            "sum to 1",
        ),
        ({"repetitions": 3}, "repetitions", "unknown key 'repetitions'"),
        ({"policies": None}, "policies", "required field is missing"),
        (  # a misspelt key, not the key it left missing
            {"policies": None, "polices": ["closest"]},
            "polices",
            "unknown key 'polices'; did you mean 'policies'?",
        ),
        (
            {"overrides": [{"network.store_defaults.daily_order_limit": 5}]},
            "overrides.0.network.store_defaults.daily_order_limit",
            "also set in grid",
        ),
        (
            {"grid": {"network.store_defaults.daily_order_limit": [60, 60]}},
            "grid",
            "case network.store_defaults.daily_order_limit=60 gives the same scenario as case "
            "network.store_defaults.daily_order_limit=60; remove one of them",
        ),
        (  # two identical override sets: the second one is named
            {"overrides": [{"inventory.safety_stock_days": 2.0}] * 2},
            "overrides.1",
            "gives the same scenario as overrides.0 at grid point "
            "network.store_defaults.daily_order_limit=20; remove one of them",
        ),
        (  # a typo in an override set's keys is not read as a scenario path
            {"overrides": [{"label": "a", "sett": {"inventory.safety_stock_days": 1.0}}]},
            "overrides.0",
            "unknown key 'sett'; did you mean 'set'? (allowed: label, set)",
        ),
        (
            {"overrides": [{"label": "", "set": {"inventory.safety_stock_days": 1.0}}]},
            "overrides.0.label",
            "the label is empty",
        ),
        ({"overrides": [{"label": "a", "set": {}}]}, "overrides.0.set", "the set is empty"),
        ({"overrides": [{"label": "a"}]}, "overrides.0.set", "required field is missing"),
        ({"overrides": [{}]}, "overrides.0", "the set is empty"),
        (  # values pydantic would convert silently: the scenario schema refuses them
            {"grid": {"inventory.safety_stock_days": [True, 2]}},
            "grid.inventory.safety_stock_days",
            "Input should be a number, not true",
        ),
        (
            {"grid": {"network.store_defaults.daily_order_limit": ["30", 60]}},
            "grid.network.store_defaults.daily_order_limit",
            "Input should be a number, not '30'",
        ),
        (
            {"overrides": [{"label": "x", "set": {"inventory.pos_sync_delay_minutes": "5"}}]},
            "overrides.0.set.inventory.pos_sync_delay_minutes",
            "Input should be a number, not '5'",
        ),
        (
            {"overrides": [{"demand.channels.web.methods.bopis": False}]},
            "overrides.0.demand.channels.web.methods.bopis",
            "Input should be a number, not false",
        ),
        (  # an item of a list
            {"overrides": [{"demand.hour_profile.3": "2"}]},
            "overrides.0.demand.hour_profile.3",
            "Input should be a number, not '2'",
        ),
        (
            {"grid": {"network.store_defaults.ship_from_store": [1]}},
            "grid.network.store_defaults.ship_from_store",
            "Input should be true or false, not 1",
        ),
        (
            {"overrides": [{"label": 5, "set": {"inventory.safety_stock_days": 1.0}}]},
            "overrides.0.label",
            "the label must be text, got 5",
        ),
        (
            {"overrides": [{"label": "a", "set": ["inventory.safety_stock_days"]}]},
            "overrides.0.set",
            "expected a mapping of dotted path -> value",
        ),
    ],
)
def test_invalid_sweep_is_one_line_naming_field_and_reason(tmp_path, changes, field, reason):
    error = _error(tmp_path, **changes)
    assert error.field == field
    assert reason in error.reason


def test_whole_numbers_pass_for_number_levers_and_28_0_for_whole_number_levers(tmp_path):
    grid = {
        "inventory.safety_stock_days": [0, 0.5],
        "network.store_defaults.daily_order_limit": [30.0],
    }
    sweep = load_sweep(write_sweep(tmp_path, grid=grid, overrides=[]))
    assert [c.scenario["inventory"]["safety_stock_days"] for c in sweep.cases] == [0.0, 0.5]
    assert sweep.cases[0].scenario["network"]["store_defaults"]["daily_order_limit"] == 30


def test_a_rules_file_policy_is_parsed_before_anything_runs(tmp_path: Path):
    (tmp_path / "rules.yaml").write_text("not: valid: rules\n", encoding="utf-8")
    error = _error(tmp_path, policies=["closest", "rules.yaml"])
    assert error.field == "policies.1"
    assert error.reason.startswith("policy file 'rules.yaml': invalid YAML at line 1")
    (tmp_path / "rules.yaml").write_text("name: r\nsort: [no_such_key]\n", encoding="utf-8")
    assert _error(tmp_path, policies=["rules.yaml"]).field == "policies.0"
    rules = ROOT / "scenarios" / "policies" / "regional_first.yaml"
    sweep = load_sweep(write_sweep(tmp_path, policies=["closest", str(rules)]))
    assert sweep.spec.policies == ["closest", str(rules)]


def test_a_policy_of_a_rules_file_or_a_module_is_named_as_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    two = "policies:\n  - {name: a, sort: [cost]}\n  - {name: b, sort: [distance]}\n"
    (tmp_path / "two.yaml").write_text(two, encoding="utf-8")
    sweep = load_sweep(write_sweep(tmp_path, policies=["two.yaml:b"]))
    assert sweep.spec.policies == [f"{tmp_path / 'two.yaml'}:b"]  # from the sweep's folder
    error = _error(tmp_path, policies=["closest", "two.yaml"])
    assert error.field == "policies.1" and "holds 2 policies (a, b)" in error.reason
    assert "no policy 'c'" in _error(tmp_path, policies=["two.yaml:c"]).reason
    module = "from engine.routing import get_policy, register_policy\n"
    module += "register_policy('sweep_mine', lambda **kw: get_policy('cost', **kw), replace=True)\n"
    (tmp_path / "sweep_policies.py").write_text(module, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    sweep = load_sweep(write_sweep(tmp_path, policies=["sweep_policies:sweep_mine"]))
    assert sweep.spec.policies == ["sweep_policies:sweep_mine"]
    error = _error(tmp_path, policies=["sweep_policies:nope"])
    assert "registered no policy 'nope'" in error.reason


def test_invalid_yaml_and_missing_file(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SweepError, match=r"bad\.yaml: invalid YAML at line"):
        load_sweep(bad)
    with pytest.raises(SweepError, match="file not found"):
        load_sweep(tmp_path / "missing.yaml")


def test_cli_rejects_bad_file_before_anything_runs(tmp_path: Path):
    path = write_sweep(tmp_path, grid={"network.store_defaults.daily_order_limit": [20, -5]})
    out = tmp_path / "out"
    proc = sweep_cli(str(path), "--out", str(out), "--executor", "serial")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{path}: grid.network.store_defaults.daily_order_limit: ")
    assert "Traceback" not in proc.stderr
    assert not out.exists()  # rejected before anything ran or was written


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--workers", "x"], "--workers: invalid int value: 'x'"),
        (["--workers", "0"], "fulfil sweep: --workers must be at least 1"),
        (
            ["--executor", "dask", "--scheduler", "garbage"],
            "fulfil sweep: --scheduler: expected an address like tcp://HOST:PORT, got 'garbage'",
        ),
        (["--out", "/proc/version"], "fulfil sweep: --out /proc/version: cannot write there"),
        (
            ["--out", "/proc/version", "--plan"],
            "fulfil sweep: --out /proc/version: cannot write there (File exists)",
        ),
        (
            ["--out", "/proc/version/sub", "--plan"],
            "fulfil sweep: --out /proc/version/sub: cannot write there (Not a directory)",
        ),
        (["--runner", "nosuch:x"], "fulfil sweep: --runner: cannot import module 'nosuch'"),
        (["--runner", "nosuch:x", "--plan"], "fulfil sweep: --runner: cannot import module"),
        (
            ["--runner", "sim.run:nosuch", "--plan"],
            "fulfil sweep: --runner: module 'sim.run' has no attribute 'nosuch'",
        ),
    ],
)
def test_cli_option_errors_are_one_line(sweep_file: Path, tmp_path: Path, extra, message):
    args = [str(sweep_file), "--out", str(tmp_path / "out"), "--runner", "synthetic"]
    proc = sweep_cli(*args, "--executor", "serial", "--no-progress", *extra)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_a_bad_scheduler_in_the_environment_is_named(sweep_file: Path, tmp_path: Path):
    env = {**cli_env(), "DASK_SCHEDULER_ADDRESS": "not an address"}
    args = [str(sweep_file), "--out", str(tmp_path / "out"), "--runner", "synthetic"]
    proc = sweep_cli(*args, "--executor", "dask", "--no-progress", env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "fulfil sweep: $DASK_SCHEDULER_ADDRESS: expected an address like tcp://HOST:PORT, "
        "got 'not an address'"
    )
    assert not (tmp_path / "out").exists()


def test_fulfil_sweep_plan_counts_runs(sweep_file: Path, tmp_path: Path):
    fulfil = Path(sys.executable).with_name("fulfil")  # the console script's subcommand
    proc = subprocess.run(
        [str(fulfil), "sweep", str(sweep_file), "--out", str(tmp_path / "out"), "--plan"],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "4 cases x 2 policies x 2 replications = 16 runs; 0 done, 16 to run" in proc.stdout
    assert not (tmp_path / "out").exists()  # a plan writes nothing
    proc = sweep_cli(str(sweep_file), "--out", str(tmp_path / "out"), "--plan", "--json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)  # one JSON object, as --json promises
    assert (plan["cases"], plan["policies"], plan["replications"]) == (4, 2, 2)
    assert (plan["total"], plan["done"], plan["to_run"]) == (16, 0, 16)


def test_labelled_override_sets_and_constant_paths_left_out_of_labels(tmp_path: Path):
    overrides = [
        {
            "label": "low bopis",
            "set": {
                "demand.channels.web.methods.bopis": 0.05,
                "demand.channels.web.methods.ship": 0.92,
            },
        },
        {
            "label": "high bopis",
            "set": {
                "demand.channels.web.methods.bopis": 0.3,
                "demand.channels.web.methods.ship": 0.67,
            },
        },
    ]
    sweep = load_sweep(write_sweep(tmp_path, overrides=overrides))
    assert [c.label for c in sweep.cases] == [
        "daily_order_limit=20, low bopis",
        "daily_order_limit=20, high bopis",
        "daily_order_limit=60, low bopis",
        "daily_order_limit=60, high bopis",
    ]
    assert sweep.cases[1].overrides["demand.channels.web.methods.bopis"] == 0.3
    # A single set applies to every case and is not worth a label.
    small = [{"catalogue.skus": 300}]
    assert [c.label for c in load_sweep(write_sweep(tmp_path, overrides=small)).cases] == [
        "daily_order_limit=20",
        "daily_order_limit=60",
    ]
    bad = [overrides[0], {"label": "x", "set": {"inventory.safety_stock_days": -1}}]
    error = _error(tmp_path, overrides=bad)
    assert error.field == "overrides.1.set.inventory.safety_stock_days"


def test_an_override_set_without_a_label_is_labelled_by_its_values(tmp_path: Path):
    web = "demand.channels.web.methods"
    plain = [{f"{web}.bopis": b, f"{web}.ship": 0.97 - b} for b in (0.05, 0.3)]
    unlabelled = [{"set": one} for one in plain]
    cases = load_sweep(write_sweep(tmp_path, overrides=unlabelled)).cases
    assert [c.label for c in cases] == [
        c.label for c in load_sweep(write_sweep(tmp_path, overrides=plain)).cases
    ]
    assert [c.overrides[f"{web}.bopis"] for c in cases] == [0.05, 0.3] * 2
    assert "bopis=0.05" in cases[0].label


SHIPPED_SWEEPS = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))


def test_sweep_files_are_shipped():
    # An empty glob would leave the test below with one skipped case and nothing checked.
    assert {p.name for p in SHIPPED_SWEEPS} >= {"safety_x_sync.yaml", "sfs_limit_x_bopis.yaml"}


@pytest.mark.parametrize("path", SHIPPED_SWEEPS, ids=lambda p: p.stem)
def test_shipped_sweep_files_are_valid(path: Path):
    sweep = load_sweep(path)
    assert len(sweep.cases) >= 4 and sweep.spec.replications >= 2
