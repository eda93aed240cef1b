"""End-to-end tests of the ``fulfil`` command (run as a subprocess).

The subprocess is ``python -m sim.cli`` (what the ``fulfil`` console script calls:
``sim.cli:main``) with this interpreter and this checkout first on ``PYTHONPATH``: the
console script next to the interpreter may be missing, or import another copy of `sim`
(an installed or editable one elsewhere); neither may skip or mislead these tests.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.compare import SUMMARY_COLUMNS
from sim.kpis import kpi_bounds

ROOT = Path(__file__).resolve().parents[2]
#: `fulfil` ([project.scripts] is sim.cli:main). -P keeps the current folder off sys.path, as
#: for the console script, so a policy module is found only as the CLI itself finds it.
FULFIL = [sys.executable, "-P", "-m", "sim.cli"]
DEFAULT = ROOT / "scenarios" / "default.yaml"
KPI_NAMES = {
    "orders",
    "units_demanded",
    "fill_rate",
    "stockout_rate",
    "oversell_rate",
    "cost_per_order",
    "shipping_cost_per_order",
    "handling_cost_per_order",
    "packages_per_order",
    "split_rate",
    "click_to_door_hours_mean",
    "click_to_door_hours_p90",
    "on_time_rate",
    "bopis_ready_hours_p90",
    "store_ship_share",
    "returns_units",
    "returns_restocked_units",
}


def this_checkout() -> dict[str, str]:
    """The environment with this checkout first on ``PYTHONPATH`` (from any folder)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def fulfil(*args: str, timeout: float = 120, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*FULFIL, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
        env=this_checkout(),
    )  # fmt: skip


def test_the_subprocess_runs_this_checkout(tmp_path):
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["fulfil"] == "sim.cli:main"  # what `python -m sim.cli` runs
    code = "import sim, sim.cli; print(sim.__file__); print(sim.cli.__file__)"
    for cwd in (ROOT, tmp_path):
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd,
            env=this_checkout(),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert [Path(line) for line in proc.stdout.split()] == [
            ROOT / "sim" / "__init__.py",
            ROOT / "sim" / "cli.py",
        ]


def assert_user_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit status 2, exactly one line on stderr containing every fragment, no traceback."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("command", [[], ["run"], ["compare"], ["check"], ["bench"], ["app"]])
def test_every_command_has_help(command):
    proc = fulfil(*command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: fulfil")


def test_top_level_help_lists_the_commands():
    out = fulfil("--help").stdout
    for command in ("run", "compare", "check", "bench", "app"):
        assert command in out


def test_check_good_file():
    proc = fulfil("check", str(DEFAULT))
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout and proc.stderr == ""


BAD_FILES = [
    ("name: bad\nhorizon_days: 10\nfoo: 1\n", "foo", "unknown key"),
    ("name: bad\nhorizon_days: ten\n", "horizon_days", ""),
    ("name: bad\ndemand:\n  channels:\n    web:\n      orders_per_day: -5\n", "orders_per_day", ""),
    (
        "name: bad\ndisruptions:\n  outages: [{location: NOWHERE, start_day: 1, days: 1}]\n",
        "disruptions.outages.0.location",
        "NOWHERE",
    ),
    ("name: bad\nhorizon_days: [1, 2\n", "", "YAML"),
    (
        "name: bad\ninventory:\n  overrides: [{location: DC-EAST, sku: NOPE, on_hand: 1}]\n",
        "inventory.overrides.0.sku",
        "NOPE",
    ),
    ("name: bad\nrouting:\n  policy: nopolicy\n", "routing.policy", "nopolicy"),
    ("name: bad\nrouting:\n  params: {foo: 1}\n", "routing.params", "foo"),
]


@pytest.mark.parametrize(("text", "field", "reason"), BAD_FILES)
def test_check_bad_file_exits_2_with_one_line(tmp_path, text, field, reason):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    line = assert_user_error(fulfil("check", str(path)), str(path), field, reason)
    assert line.startswith(str(path))


def test_check_warns_of_settings_outside_the_run_and_passes(tmp_path):
    path = tmp_path / "idle.yaml"
    path.write_text(
        "name: idle\nhorizon_days: 7\ndemand:\n  peaks:\n"
        "    - {start: 2025-11-27, days: 4, multiplier: 2}\n"  # a year early
        "    - {start: 2026-11-08, days: 2, multiplier: 2}\n"  # overlaps the last day
        "disruptions:\n  outages: [{location: DC-EAST, start_day: 9, days: 1}]\n"
    )
    proc = fulfil("check", str(path))
    assert proc.returncode == 0 and "ok" in proc.stdout
    assert proc.stderr.splitlines() == [
        f"{path}: warning: demand.peaks.0: 2025-11-27 to 2025-11-30 has no effect: the run "
        "covers 2026-11-02 to 2026-11-08",
        f"{path}: warning: disruptions.outages.0: starts on day 9, after the 7 simulated "
        "days: only orders still in flight can meet it",
    ]


def test_wholesale_demand_without_a_wholesale_dc_is_named():
    from sim import load_scenario
    from sim.scenario.idle import idle_settings

    one = {"network.warehouses": [{"id": "W", "city": "Austin, TX"}]}
    assert [f for f, _ in idle_settings(load_scenario("default", one))] == [
        "demand.channels.wholesale.orders_per_day"
    ]
    quiet = {**one, "demand.channels.wholesale.orders_per_day": 0}
    assert idle_settings(load_scenario("default", quiet)) == []
    assert idle_settings(load_scenario("default")) == []


def test_settings_outside_a_shortened_run_are_named():
    from sim import load_scenario
    from sim.scenario.idle import idle_settings

    peak = load_scenario("peak")  # five peaks on days 10 to 16, a carrier delay from day 11
    assert idle_settings(peak) == []
    first = (peak.demand.peaks[0].start - peak.start).days
    peaks = [f"demand.peaks.{i}" for i in range(5)]
    assert [f for f, _ in idle_settings(peak, days=first)] == [
        *peaks,
        "disruptions.carrier_delays.0",
    ]
    assert [f for f, _ in idle_settings(peak, days=first + 1)][0] == "demand.peaks.1"


def test_pickup_demand_without_pickup_locations_is_named():
    from sim import load_scenario
    from sim.scenario.idle import idle_settings

    none = {"network.stores.count": 0}  # the default's web and app channels ask for pickup
    found = idle_settings(load_scenario("default", none))
    assert [f for f, _ in found] == [
        "demand.channels.web.methods.bopis",
        "demand.channels.app.methods.bopis",
    ]
    assert found[0][1].startswith("12% of web orders ask for pickup, but no location offers")
    no_pickup = {"network.store_defaults.pickup": False}
    assert len(idle_settings(load_scenario("default", no_pickup))) == 2
    assert idle_settings(load_scenario("default")) == []


def test_settings_wholly_inside_the_warmup_are_named():
    from sim import load_scenario
    from sim.scenario.idle import idle_settings

    early = {  # default: 3 warm-up days from 2026-11-02
        "demand.peaks": [
            {"start": "2026-11-02", "days": 3, "multiplier": 2.0},  # days 0-2: warm-up only
            {"start": "2026-11-04", "days": 2, "multiplier": 2.0},  # reaches day 3
        ],
        "disruptions.outages": [
            {"location": "DC-EAST", "start_day": 0.5, "days": 2.5},  # ends at day 3
            {"location": "DC-EAST", "start_day": 2.0, "days": 1.5},  # ends in day 3
        ],
    }
    scn = load_scenario("default", early)
    found = idle_settings(scn)
    assert [f for f, _ in found] == ["demand.peaks.0", "disruptions.outages.0"]
    assert all("warm-up" in reason for _, reason in found)
    # a run shortened to 4 days has 2 warm-up days: the first outage now reaches past them
    assert [f for f, _ in idle_settings(scn, days=4)] == []
    assert scn.warmup_for(4) == 2 and scn.warmup_for() == 3


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios" / "policies").glob("*.yaml")))
def test_check_knows_a_policy_rules_file(path):
    proc = fulfil("check", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "ok (policy rules:" in proc.stdout and f"--policy {path}" in proc.stdout


def test_check_of_a_bad_rules_file_names_the_rule(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("name: bad\nfilters:\n  - capability: teleport\n")
    assert_user_error(fulfil("check", str(bad)), "filters[0]", "unknown capability 'teleport'")
    scenario = tmp_path / "scenario.yaml"  # a scenario with a stray key stays a scenario
    scenario.write_text("name: x\nnetwork: {}\nfilters: []\n")
    assert_user_error(fulfil("check", str(scenario)), "filters: unknown key")


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("name: mine\nfiltres:\n  - capability: ship\n", ["policy 'mine'", "['filtres']"]),
        ("name: mine\nsort: [distance]\nspilt: no_split\n", ["policy 'mine'", "['spilt']"]),
        ("polices:\n  - name: a\n", ["unknown top-level key(s) ['polices']"]),
        ("name: x\nhorizon_dais: 3\n", ["horizon_dais: unknown key", "'horizon_days'"]),
        ("name: x\nnetwork: {}\nsrot: [distance]\n", ["srot: unknown key 'srot'"]),
        ("name: x\npolicy: cost\n", ["policy: unknown key 'policy'"]),  # not 'policies'
    ],
)
def test_check_of_a_misspelt_key_names_it_as_the_file_s_own_format(tmp_path, text, fragments):
    path = tmp_path / "file.yaml"  # a rules file with a misspelt key is still a rules file
    path.write_text(text)
    assert_user_error(fulfil("check", str(path)), str(path), *fragments)


def test_check_missing_file(tmp_path):
    missing = str(tmp_path / "missing.yaml")
    assert_user_error(fulfil("check", missing), missing, "not found")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["run", str(DEFAULT), "--policy", "no_such_policy"], ["--policy", "no_such_policy"]),
        (["run", str(DEFAULT), "--policy", "closest", "--days", "abc"], ["--days", "integer"]),
        (
            ["run", str(DEFAULT), "--policy", "closest", "--days", "0"],
            ["--days: must be an integer from 1 to 366, got 0"],
        ),
        (["run", str(DEFAULT), "--policy", "closest", "--seed", "-1"], ["--seed"]),
        (
            ["run", str(DEFAULT), "--policy", "closest", "--seed", str(10**23)],
            ["--seed: must be an integer from 0 to 9007199254740991"],
        ),
        (
            ["compare", str(DEFAULT), "--policies", "closest", "--seed", str(2**53)],
            ["--seed: must be an integer from 0 to 9007199254740991"],
        ),
        (["compare", str(DEFAULT), "--policies", "closest,cost", "--reps", "0"], ["--reps"]),
        (
            ["compare", str(DEFAULT), "--policies", "closest,cost", "--reps", "100000000"],
            ["--reps: must be an integer from 1 to 1000, got 100000000"],
        ),
        (
            ["compare", str(DEFAULT), "--policies", "closest,cost", "--baseline", "balance"],
            ["--baseline", "balance"],
        ),
        (["compare", str(DEFAULT), "--policies", "closest,,cost"], ["--policies"]),
        (["compare", str(DEFAULT), "--policies", "closest,closest"], ["--policies", "repeated"]),
        (
            ["run", str(DEFAULT), "--policy", "closest", "--days", "99999999999999999999"],
            ["--days: must be an integer from 1 to 366"],
        ),
        (["compare", str(DEFAULT), "--policies", "closest", "--days", "367"], ["--days"]),
        (
            ["bound", str(DEFAULT), "--policies", "closest, nope"],  # checked before any run
            ["--policies", "unknown policy 'nope'"],
        ),
        (
            ["bound", str(DEFAULT), "--days", "400"],
            ["--days: must be an integer from 1 to 366, got 400"],
        ),
        (
            ["bound", str(DEFAULT), "--days", "-1"],
            ["--days: must be an integer from 1 to 366, got -1"],
        ),
    ],
)
def test_bad_options_exit_2_naming_file_and_option(args, fragments):
    assert_user_error(fulfil(*args), str(DEFAULT), *fragments)


def test_bad_scenario_in_run_and_compare(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nhorizon_days: -1\n")
    assert_user_error(fulfil("run", str(path), "--policy", "closest"), str(path), "horizon_days")
    assert_user_error(fulfil("compare", str(path), "--policies", "closest"), str(path))


def test_bad_policy_params_in_run_are_a_user_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nrouting:\n  policy: closest\n  params: {foo: 1}\n")
    proc = fulfil("run", str(path), "--policy", "closest", "--days", "1")
    assert_user_error(proc, str(path), "routing.params", "unknown parameter(s) ['foo']")
    assert "it takes: max_packages" in proc.stderr


def test_rules_file_naming_a_location_the_network_lacks_is_a_user_error(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("name: mine\nfilters: [{exclude: [NOPE-1]}]\nsort: [distance]\n")
    proc = fulfil("run", str(DEFAULT), "--policy", str(rules), "--days", "1")
    assert_user_error(proc, str(rules), "policy 'mine'", "unknown location(s) NOPE-1")
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    proc = fulfil("run", str(DEFAULT), "--policy", str(folder), "--days", "1")
    assert_user_error(proc, "--policy", f"policy file '{folder}' is not a file")


def test_engine_bench_refuses_simulation_options():
    assert_user_error(fulfil("bench", "--engine", "--million"), "--million", "without --engine")


def test_argparse_errors_are_one_line():
    proc = fulfil("run", str(DEFAULT))  # --policy missing
    assert_user_error(proc, "--policy")
    assert_user_error(fulfil("frobnicate"), "frobnicate")


def test_app_port_is_checked():
    line = assert_user_error(fulfil("app", "--port", "70000"), "--port")
    assert line == "fulfil app: --port: must be an integer from 1 to 65535, got 70000"
    line = assert_user_error(fulfil("app", "--port", "abc"), "--port")
    assert line == "fulfil app: --port: expected an integer, got 'abc'"  # no file to blame


def test_app_checks_the_policies_it_adds_before_it_starts():
    line = assert_user_error(fulfil("app", "--policy", "no_such_module:fast"), "--policy")
    assert line.startswith("fulfil app: --policy: policy 'no_such_module:fast': cannot import")
    line = assert_user_error(fulfil("app", "--policy", "missing.yaml"), "--policy")
    assert line == "fulfil app: --policy: policy file 'missing.yaml' not found"
    line = assert_user_error(fulfil("app", "--policy", "closest"), "--policy")
    assert line == (
        "fulfil app: --policy: 'closest' is offered already; --policy adds a rules file "
        "FILE.yaml[:NAME] or a Python module:NAME"
    )


def test_app_hands_the_policies_it_adds_to_the_server(monkeypatch, tmp_path):
    import socket

    from sim import cli
    from sim.workbench import APP_POLICIES_ENV

    with socket.socket() as probe:  # a port free now
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    rules = tmp_path / "mine.yaml"
    rules.write_text("name: mine_nearest\nsort: [distance]\n")
    monkeypatch.setenv(APP_POLICIES_ENV, "")  # restored after the test
    started = []  # the server replaces this process: catch the call instead
    monkeypatch.setattr(cli.os, "execv", lambda exe, argv: started.append(argv))
    args = cli.build_parser().parse_args(["app", "--port", "0", "--policy", str(rules)])
    with pytest.raises(cli.UsageError):  # port 0 is refused before anything starts
        args.handler(args)
    assert not started and os.environ[APP_POLICIES_ENV] == ""
    args = cli.build_parser().parse_args(["app", "--port", port, "--policy", str(rules)])
    args.handler(args)
    (argv,) = started
    assert argv[1:5] == ["-m", "streamlit", "run", str(cli.APP_PATH)]
    assert f"--server.port={port}" in argv and "--server.address=127.0.0.1" in argv
    assert "--global.disableWidgetStateDuplicationWarning=true" in argv  # as config.toml says
    assert json.loads(os.environ[APP_POLICIES_ENV]) == [str(rules)]


def test_app_refuses_a_port_in_use():
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = assert_user_error(fulfil("app", "--port", str(port)), "--port")
    assert line == f"fulfil app: --port: 127.0.0.1:{port} is in use; choose another port"


def test_run_json_prints_exactly_the_kpis():
    proc = fulfil("run", str(DEFAULT), "--policy", "closest", "--days", "2", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    kpis = json.loads(proc.stdout)
    assert set(kpis) == KPI_NAMES
    assert kpis["orders"] > 0


def test_run_out_writes_tables(tmp_path):
    import pandas as pd

    out = tmp_path / "out"
    proc = fulfil(
        "run", str(DEFAULT), "--policy", "closest", "--days", "2", "--out", str(out), timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("orders", "lines", "shipments", "events", "inventory", "utilisation"):
        table = pd.read_parquet(out / f"{name}.parquet")
        assert {"scenario", "policy", "replication", "seed"} <= set(table.columns)
    assert set(json.loads((out / "kpis.json").read_text())) == KPI_NAMES
    check = fulfil("check", str(out / "scenario.yaml"))
    assert check.returncode == 0, check.stderr
    assert "fill_rate" in proc.stdout  # the KPI table, with units
    rows = {ln.split()[0]: ln.split()[-1] for ln in proc.stdout.splitlines()[1:] if ln.strip()}
    assert (rows["cost_per_order"], rows["fill_rate"], rows["orders"]) == ("USD", "share", "orders")


def test_the_written_scenario_and_command_reproduce_a_shortened_run(tmp_path):
    out = tmp_path / "out"
    args = ("--policy", "closest", "--days", "2", "--seed", "7", "--out", str(out))
    proc = fulfil("run", str(DEFAULT), *args, timeout=300)
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((out / "run.json").read_text())
    assert (meta["days"], meta["warmup_days"], meta["seed"]) == (2, 1, 7)
    command = shlex.split(meta["reproduce"])
    assert command[:3] == ["fulfil", "run", "scenario.yaml"]
    again = fulfil(*command[1:], "--json", timeout=300, cwd=out)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == json.loads((out / "kpis.json").read_text())


def test_compare_json():
    proc = fulfil(
        "compare",
        str(DEFAULT),
        "--policies",
        "closest,cost",
        "--reps",
        "2",
        "--days",
        "1",
        "--json",
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["baseline"] == "closest" and payload["reps"] == 2
    rows = payload["results"]
    assert {r["kpi"] for r in rows} == KPI_NAMES
    assert {r["policy"] for r in rows} == {"closest", "cost"}
    for r in rows:  # intervals within the values a KPI can take
        low, high = kpi_bounds(r["kpi"])
        assert low <= r["ci_low"] <= r["mean"] <= r["ci_high"] <= high, r


def test_compare_text_writes_units_and_numbers_as_the_app_does():
    from sim.cli import _compare_text

    nan = math.nan
    summary = pd.DataFrame(
        [
            ("s", "a", "orders", 2, 1234.0, 1200.0, 1268.0, "a", 0.0, 0.0, 0.0),
            ("s", "b", "orders", 2, 1234.0, 1200.0, 1268.0, "a", 0.0, 0.0, 0.0),
            ("s", "a", "fill_rate", 2, 0.99994, 0.9991, 1.0, "a", 0.0, 0.0, 0.0),
            ("s", "b", "fill_rate", 2, 0.99981, 0.9990, 1.0, "a", -0.00013, -0.0005, 0.0002),
            ("s", "a", "returns_units", 1, 1.0, nan, nan, "a", 0.0, nan, nan),
            ("s", "b", "returns_units", 1, 13.5, nan, nan, "a", 12.5, nan, nan),
        ],
        columns=SUMMARY_COLUMNS,
    )
    lines = _compare_text(summary).splitlines()
    assert lines[0].split() == [
        "kpi", "unit", "policy", "mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high"
    ]  # fmt: skip
    assert lines[1].split() == ["orders", "orders", "a", "1,234", "1,200", "1,268", "0", "0", "0"]
    assert lines[4].split() == [
        "fill_rate", "share", "b", "1.000", "0.999", "1.000", "0.000", "-0.001", "0.000"
    ]  # fmt: skip
    assert lines[6].split() == [  # one number of decimals for the KPI: 1.00 and 13.50
        "returns_units",
        "units",
        "b",
        "13.50",
        "–",
        "–",
        "12.50",
        "–",
        "–",
    ]
    assert lines[5].split()[3] == "1.00"


def test_bench_engine_quick_json():
    proc = fulfil("bench", "--engine", "--quick", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    for key in ("route_p50_us", "route_p99_us"):
        assert set(report[key]) == {"50", "200", "1000"}
        assert all(v > 0 for v in report[key].values())
    assert "closest" in report["by_policy"]
    for count, row in report["placement_us_per_order"].items():  # identical decisions checked
        assert count in {"50", "200", "1000"} and row["place"] > 0 and row["place_many"] > 0


def test_bench_quick_json_has_the_issue_fields_and_names_the_interpreter():
    proc = fulfil("bench", "--quick", "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["orders_per_s"]["quick"] > 0 and report["peak_rss_mib"]["quick"] > 0
    assert report["floor"]["orders"] == 20_000 and report["simpy_floor_orders_per_s"] > 0
    ratio = report["orders_per_s"]["quick"] / report["simpy_floor_orders_per_s"]
    assert report["floor_ratio"] == pytest.approx(ratio, abs=1e-3)
    assert report["python"] == f"{platform.python_version()} ({os.path.realpath(sys.executable)})"


def test_run_out_that_cannot_take_the_files_fails_before_the_run(tmp_path):
    (tmp_path / "kpis.json").mkdir()
    proc = fulfil("run", str(DEFAULT), "--policy", "closest", "--days", "1", "--out", str(tmp_path))
    assert_user_error(proc, str(tmp_path / "kpis.json"), "--out", "cannot write")
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o500)
    if os.access(read_only, os.W_OK):  # root writes anywhere: no read-only folder to test
        return
    proc = fulfil("run", str(DEFAULT), "--policy", "closest", "--out", str(read_only))
    assert_user_error(proc, str(read_only), "--out", "cannot write there")


def test_a_reader_that_leaves_ends_the_command_quietly():
    code = (
        "import sys, sim.cli as cli\n"
        "def gone(args): raise BrokenPipeError(32, 'Broken pipe')\n"
        "cli.cmd_check = gone\n"
        "sys.exit(cli.main(['check', 'default']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=this_checkout()
    )
    assert (proc.returncode, proc.stderr) == (141, "")


def test_run_out_must_be_a_directory(tmp_path):
    not_dir = tmp_path / "file.txt"
    not_dir.write_text("x")
    proc = fulfil("run", str(DEFAULT), "--policy", "closest", "--out", str(not_dir))
    assert_user_error(proc, str(not_dir), "--out", "not a directory")
