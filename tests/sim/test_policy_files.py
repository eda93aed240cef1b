"""Rules-file policies from the command line: ``FILE`` or ``FILE:NAME``, a file swapped for a
scenario, a package limit that is not a number, and a run that reproduces from ``--out``."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import pytest
import yaml
from test_cli import DEFAULT, FULFIL, ROOT, assert_user_error, fulfil, this_checkout

from engine.errors import RoutingError, RuleError
from engine.routing import (
    get_policy,
    load_policy_spec,
    policies_from_document,
    policy_file_spec,
)
from sim.scenario import ScenarioError, check_policy, load_scenario

RULES = ROOT / "scenarios" / "policies" / "store_rules.yaml"  # two policies


@pytest.mark.parametrize(
    "text, spec",
    [
        ("closest", None),
        ("a/b.yaml", ("a/b.yaml", None)),
        ("a/b.YML:cheap", ("a/b.YML", "cheap")),
        ("C:/x/rules.yaml:near", ("C:/x/rules.yaml", "near")),
    ],
)
def test_a_policy_spec_is_a_name_a_file_or_a_file_and_a_name(text, spec):
    assert policy_file_spec(text) == spec


def test_a_file_of_several_policies_needs_a_name():
    assert load_policy_spec(f"{RULES}:cheapest_dc").name == "cheapest_dc"
    with pytest.raises(RuleError, match=r"holds 2 policies .*name one, e\.g\. .*:nearby"):
        load_policy_spec(str(RULES))
    with pytest.raises(RuleError, match="no policy 'cheap' in the file"):
        load_policy_spec(f"{RULES}:cheap")


def test_the_second_policy_of_a_file_runs_from_the_command_line():
    proc = fulfil("run", str(DEFAULT), "--policy", f"{RULES}:cheapest_dc", "--days", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["orders"] > 0
    assert_user_error(
        fulfil("run", str(DEFAULT), "--policy", str(RULES), "--days", "1"),
        "--policy", "holds 2 policies (nearby_stores_then_dc, cheapest_dc)",
    )  # fmt: skip


def test_a_rules_file_and_a_scenario_swapped_say_so():
    assert_user_error(
        fulfil("run", str(RULES), "--policy", "closest", "--days", "1"),
        "is a policy rules file, not a scenario; use it as --policy",
        "store_rules.yaml:nearby_stores_then_dc",  # it holds two: the hint names one
    )
    assert_user_error(
        fulfil("compare", str(RULES), "--policies", "closest,cost"),
        "is a policy rules file, not a scenario",
    )
    assert_user_error(
        fulfil("run", str(DEFAULT), "--policy", str(DEFAULT), "--days", "1"),
        "--policy", "is a scenario file, not a policy rules file",
    )  # fmt: skip


@pytest.mark.parametrize("limit", ["two", 2.5, 0, True])
def test_a_package_limit_that_is_not_a_whole_number_is_a_scenario_error(limit):
    scn = load_scenario(
        "default", {"routing": {"policy": "closest", "params": {"max_packages": limit}}}
    )
    with pytest.raises(
        ScenarioError, match="routing.params: .*max_packages must be an integer >= 1"
    ):
        check_policy(scn, "default.yaml")
    with pytest.raises(RoutingError, match="max_packages must be an integer >= 1"):
        get_policy("cost", max_packages=limit)


def test_a_run_of_a_rules_file_reproduces_from_its_output_folder(tmp_path):
    out = tmp_path / "run"
    spec = f"{RULES}:cheapest_dc"
    proc = fulfil("run", str(DEFAULT), "--policy", spec, "--days", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((out / "run.json").read_text())
    assert (out / "policy.yaml").read_bytes() == RULES.read_bytes()
    assert len(meta["policy_file_sha256"]) == 64
    command = shlex.split(meta["reproduce"])
    assert command[:4] == ["fulfil", "run", "scenario.yaml", "--policy"]
    assert command[4] == "policy.yaml:cheapest_dc"
    again = subprocess.run(
        [*FULFIL, *command[1:], "--json"],
        capture_output=True, text=True, cwd=out, timeout=120, env=this_checkout(),
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == json.loads((out / "kpis.json").read_text())


def test_a_scenario_reads_its_rules_file_from_its_own_folder(tmp_path):
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "rules.yaml").write_bytes(RULES.read_bytes())
    scenario = folder / "scn.yaml"  # checked and run from the repository root
    scenario.write_text("name: team\nrouting:\n  policy: rules.yaml:cheapest_dc\n")
    proc = fulfil("check", str(scenario))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "run"
    proc = fulfil("run", str(scenario), "--policy", "closest", "--days", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    written = yaml.safe_load((out / "scenario.yaml").read_text())
    assert written["routing"]["policy"] == "routing_policy.yaml:cheapest_dc"  # a copy, kept
    assert (out / "routing_policy.yaml").read_bytes() == RULES.read_bytes()
    shutil.rmtree(folder)  # the run's folder stands alone, from any current folder
    for cwd, path in ((out, "scenario.yaml"), (ROOT, str(out / "scenario.yaml"))):
        again = subprocess.run(
            [*FULFIL, "check", path],
            capture_output=True, text=True, cwd=cwd, timeout=120, env=this_checkout(),
        )  # fmt: skip
        assert again.returncode == 0, again.stderr


MODULE = """
from engine.routing import get_policy, register_policy

register_policy("{name}", lambda max_packages=None: get_policy("cost"), replace=True)
"""


def test_a_python_policy_runs_by_module_and_name(tmp_path):
    (tmp_path / "team_policies.py").write_text(MODULE.format(name="team_cost"))
    proc = subprocess.run(
        [*FULFIL, "compare", str(DEFAULT), "--policies", "cost,team_policies:team_cost",
         "--reps", "2", "--days", "1", "--json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, env=this_checkout(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["results"]
    means = {(r["policy"], r["kpi"]): r["mean"] for r in rows}
    # the module's policy is `cost` itself: common random numbers give identical KPIs
    assert means[("team_policies:team_cost", "cost_per_order")] == means[("cost", "cost_per_order")]


def test_a_python_policy_spec_that_does_not_resolve_is_a_user_error(tmp_path):
    (tmp_path / "team_policies.py").write_text(MODULE.format(name="team_cost"))

    def run(spec: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*FULFIL, "run", str(DEFAULT), "--policy", spec, "--days", "1"],
            capture_output=True, text=True, cwd=tmp_path, timeout=120, env=this_checkout(),
        )  # fmt: skip

    assert_user_error(run("team_policies:nope"), "registered no policy 'nope'")
    assert_user_error(run("no_such_module:x"), "cannot import 'no_such_module'")


def test_the_rules_example_in_the_docs_is_a_valid_policy():
    text = (ROOT / "docs" / "policies.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    (policy,) = policies_from_document(yaml.safe_load(block), "docs/policies.md")
    assert policy.name == "regional_first" and policy.split == "min_packages"


def test_the_python_example_in_the_docs_runs_from_its_folder():
    proc = subprocess.run(
        [*FULFIL, "run", str(DEFAULT), "--policy", "team_policies:near_store_300",
         "--days", "1", "--json"],
        capture_output=True, text=True, cwd=ROOT / "docs" / "examples", timeout=120, env=this_checkout(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["store_ship_share"] > 0


def test_an_online_threshold_beyond_the_ledger_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="network.store_defaults.online_threshold"):
        load_scenario("default", {"network": {"store_defaults": {"online_threshold": 600_000_000}}})
