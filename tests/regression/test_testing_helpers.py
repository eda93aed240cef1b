"""The statistics of `sim.testing`, checked with an injected runner and hand computations."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest
from scipy import stats

from sim.testing import (
    assert_better,
    assert_kpi_within,
    assert_not_worse,
    check_golden,
    higher_is_better_for,
    paired_test,
    update_golden,
)
from sim.testing.golden import GOLDEN_DIR, golden_path
from sim.testing.golden import main as golden_main


@dataclass
class Result:
    kpis: dict[str, float]


class TableRunner:
    """Returns KPI values from a table: values[policy][replication]; records the calls."""

    def __init__(self, values: dict[str, list[float]], kpi: str = "cost_per_order") -> None:
        self.values, self.kpi, self.calls = values, kpi, []

    def __call__(self, scenario, policy, seed, *, days=None, replication=0):
        self.calls.append((policy, seed, replication, days))
        return Result({self.kpi: self.values[policy][replication], "orders": 100.0})


RULES = "scenarios/policies/store_rules.yaml"
SCENARIO = {"name": "toy", "horizon_days": 3, "warmup_days": 1}
BASE = [10.0, 12.0, 11.0, 13.0, 10.5]


def test_paired_test_matches_hand_computation():
    cand = [9.8, 11.9, 10.7, 12.8, 10.4]
    d = [c - b for c, b in zip(cand, BASE, strict=True)]  # -0.2 -0.1 -0.3 -0.2 -0.1
    mean = sum(d) / 5
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / 4)
    delta = 0.01 * sum(BASE) / 5
    t = (mean - delta) / (sd / math.sqrt(5))
    result = paired_test(cand, BASE, margin=0.01, confidence=0.95)
    assert result.worse_by == pytest.approx(mean)
    assert result.delta == pytest.approx(delta)
    assert result.p_value == pytest.approx(stats.t.cdf(t, 4))
    assert result.upper_bound == pytest.approx(mean + 2.1318 * sd / math.sqrt(5), abs=1e-4)
    assert result.passed


def test_direction_inference_and_higher_is_better():
    assert higher_is_better_for("fill_rate") is True
    assert higher_is_better_for("click_to_door_hours_p90") is False
    assert higher_is_better_for("orders", True) is True
    with pytest.raises(ValueError, match="cannot be inferred"):
        higher_is_better_for("orders")
    # A higher fill rate is better: the candidate below is worse by 0.05 on average.
    worse = paired_test([0.85, 0.86, 0.84], [0.9, 0.91, 0.89], higher_is_better=True)
    assert worse.worse_by == pytest.approx(0.05) and not worse.passed


def test_assert_not_worse_uses_common_random_numbers_and_passes():
    runner = TableRunner({"cost": [x - 0.3 for x in BASE], "closest": BASE})
    result = assert_not_worse("cost", "closest", SCENARIO, reps=5, days=2, seed=7, runner=runner)
    assert result.passed and result.n == 5
    # Both policies ran replications 0..4 with the same seed: paired, common random numbers.
    assert sorted(runner.calls) == sorted(
        (p, 7, r, 2) for p in ("cost", "closest") for r in range(5)
    )


def test_assert_not_worse_fails_with_a_one_line_report_when_worse_beyond_margin():
    runner = TableRunner({"cost": [x * 1.03 for x in BASE], "closest": BASE})
    with pytest.raises(AssertionError) as info:
        assert_not_worse("cost", "closest", SCENARIO, reps=5, runner=runner)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(
        "cost is NOT shown to be within the margin of closest on cost_per_order"
    )


def test_noisy_small_difference_is_not_enough_evidence():
    # Worse by 0.5% on average but with a lot of noise: H0 cannot be rejected at 95%.
    cand = [10.5, 11.5, 11.6, 12.4, 11.0]
    result = paired_test(cand, BASE, margin=0.01)
    assert not result.passed and result.p_value > 0.05


def test_margin_zero_demands_a_significant_improvement():
    same = TableRunner({"a": BASE, "b": BASE})
    with pytest.raises(AssertionError, match="a is NOT shown to be better than b"):
        assert_better("a", "b", SCENARIO, "cost_per_order", reps=5, runner=same)
    better = TableRunner({"a": [x - 0.1 for x in BASE], "b": BASE})
    result = assert_better("a", "b", SCENARIO, "cost_per_order", reps=5, runner=better)
    assert result.passed and str(result).startswith("a is better than b on cost_per_order")


def test_identical_policies_pass_not_worse_with_a_positive_margin():
    same = TableRunner({"a": BASE, "b": BASE})
    result = assert_not_worse("a", "b", SCENARIO, reps=5, runner=same)
    assert result.passed and result.p_value == 0.0


def test_nan_kpi_is_an_error_not_a_pass():
    runner = TableRunner({"a": [1.0, math.nan], "b": [1.0, 1.0]})
    with pytest.raises(ValueError, match="NaN"):
        assert_not_worse("a", "b", SCENARIO, reps=2, runner=runner)


def test_assert_kpi_within():
    runner = TableRunner({"closest": BASE})
    mean, low, high = assert_kpi_within(
        SCENARIO, "closest", "cost_per_order", 11, 12, reps=5, runner=runner
    )
    assert mean == pytest.approx(11.3) and low < 11.3 < high
    # The mean is outside [11.5, 20] but the interval reaches it: not enough evidence to fail.
    assert_kpi_within(SCENARIO, "closest", "cost_per_order", 11.5, 20, reps=5, runner=runner)
    with pytest.raises(AssertionError, match=r"outside \[14, 20\]"):
        assert_kpi_within(SCENARIO, "closest", "cost_per_order", 14, 20, reps=5, runner=runner)


def test_policy_regression_fixture(policy_regression):
    runner = TableRunner({"cost": [x - 0.3 for x in BASE], "closest": BASE})
    policy_regression.runner = runner
    try:
        assert policy_regression.not_worse("cost", "closest", SCENARIO, reps=5).passed
        assert policy_regression.better(
            "cost", "closest", SCENARIO, "cost_per_order", reps=5
        ).passed
    finally:
        policy_regression.runner = None


def test_golden_update_is_explicit_and_check_uses_bands(tmp_path: Path):
    path = tmp_path / "toy.json"
    runner = TableRunner({"closest": [10.0, 10.2]})
    update_golden(path, runner=runner, scenario="default", policy="closest", seed=1, days=2, reps=2)
    golden = json.loads(path.read_text())
    assert golden["kpis"]["cost_per_order"] == pytest.approx(10.1)
    assert golden["sd"]["cost_per_order"] == pytest.approx(math.sqrt(0.02))
    assert check_golden(path, runner=runner)["cost_per_order"] == pytest.approx(10.1)
    # band = max(abs 0.002, rel 2% * 10.1 = 0.202, 4 * 0.1414 / sqrt(2) = 0.4) = 0.4
    check_golden(path, runner=TableRunner({"closest": [10.35, 10.55]}))  # +0.35: inside
    before = path.read_text()
    with pytest.raises(AssertionError, match=r"cost_per_order 11\.1 vs golden 10\.1.*update toy"):
        check_golden(path, runner=TableRunner({"closest": [11.0, 11.2]}))
    assert path.read_text() == before  # a failing check never rewrites the file


def test_a_golden_kpi_tolerance_overrides_the_files(tmp_path: Path):
    """``tolerance.kpis.NAME`` replaces the file's tolerance for that KPI: the shipped
    golden file relies on it for its exact order count."""
    path = tmp_path / "toy.json"
    runner = TableRunner({"closest": [10.0, 10.2]})  # 100 orders in every replication
    exact = {"rel": 0.0, "abs": 0.0, "sigmas": 0.0}
    tolerance = {"rel": 0.02, "abs": 0.002, "sigmas": 4.0, "kpis": {"orders": exact}}
    update_golden(
        path, runner=runner, scenario="default", policy="closest", seed=1, days=2, reps=2,
        tolerance=tolerance,
    )  # fmt: skip
    check_golden(path, runner=runner)

    class OneMoreOrder(TableRunner):
        def __call__(self, *args, **kwargs):
            return Result({**super().__call__(*args, **kwargs).kpis, "orders": 101.0})

    with pytest.raises(AssertionError, match=r"orders 101 vs golden 100 \(band \+/-0\)"):
        check_golden(path, runner=OneMoreOrder({"closest": [10.0, 10.2]}))
    tolerance["kpis"] = {}  # the file's own band: rel 2% of 100 orders
    update_golden(path, runner=runner, tolerance=tolerance)
    check_golden(path, runner=OneMoreOrder({"closest": [10.0, 10.2]}))


def test_golden_command(tmp_path: Path, capsys):
    path = str(tmp_path / "toy.json")
    runner = TableRunner({"closest": [10.0, 10.2]})
    new = ["new", path, "--scenario", "default", "--policy", "closest", "--days", "2"]
    assert golden_main(new, runner=runner) == 0
    assert golden_main(new, runner=runner) == 2  # never overwrites by accident
    assert golden_main(["check", path], runner=runner) == 0
    moved = TableRunner({"closest": [12.0, 12.2]})
    assert golden_main(["check", path], runner=moved) == 1
    assert "FAILED toy.json: cost_per_order 12.1 vs golden 10.1" in capsys.readouterr().err
    assert golden_main(["update", path], runner=moved) == 0  # the explicit update
    assert golden_main(["check", path], runner=moved) == 0
    assert golden_main(["check", str(tmp_path / "nope.json")], runner=moved) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--policy", "nosuch"], "g: --policy: unknown policy 'nosuch'"),
        (["--scenario", "nosuchscen"], "nosuchscen: no such file or named scenario"),
        (["--days", "0"], "g: --days: must be an integer from 1 to 366, got 0"),
        (["--reps", "0"], "g: --reps: must be an integer from 1 to 1000, got 0"),
        (["--reps", "5000"], "g: --reps: must be an integer from 1 to 1000, got 5000"),
        (["--seed", "-1"], "g: --seed: must be an integer from 0 to 9007199254740991, got -1"),
    ],
)
def test_golden_command_bad_input_is_one_line_and_status_2(tmp_path, capsys, args, message):
    new = ["new", "g", "--dir", str(tmp_path), "--scenario", "default", "--policy", "closest"]
    runner = TableRunner({"closest": [10.0, 10.2]})
    assert golden_main(new + args, runner=runner) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()] and message in err
    assert not list(tmp_path.iterdir())


def test_a_check_of_no_golden_files_fails_and_dir_does_not_leak(tmp_path, capsys) -> None:
    runner = TableRunner({"closest": [10.0, 10.2]})
    assert golden_main(["check", "--dir", str(tmp_path / "typo")], runner=runner) == 2
    assert "no such golden folder" in capsys.readouterr().err
    assert golden_main(["check", "--dir", str(tmp_path)], runner=runner) == 2
    assert "holds no golden files" in capsys.readouterr().err
    new = ["new", "g", "--dir", str(tmp_path), "--scenario", "default", "--policy", "closest"]
    assert golden_main(new, runner=runner) == 0
    assert golden_main(["check", "--dir", str(tmp_path)], runner=runner) == 0
    assert golden_path("g") == GOLDEN_DIR / "g.json"  # --dir changed nothing for later calls


def test_a_golden_file_keeps_its_files_relative_to_itself(tmp_path, monkeypatch):
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    runner = TableRunner({f"{(root / RULES).resolve()}:cheapest_dc": [10.0, 10.2]})
    new = ["new", "mine", "--dir", str(tmp_path / "gold"), "--scenario", "scenarios/default.yaml"]
    assert golden_main([*new, "--policy", f"{RULES}:cheapest_dc"], runner=runner) == 0
    golden = json.loads((tmp_path / "gold" / "mine.json").read_text())
    assert not Path(golden["scenario"]).is_absolute()
    assert golden["policy"].endswith("store_rules.yaml:cheapest_dc")
    monkeypatch.chdir(tmp_path)  # another folder: the paths still resolve
    monkeypatch.setenv("FULFIL_GOLDEN_DIR", str(tmp_path / "gold"))
    assert golden_main(["check"], runner=runner) == 0
    assert runner.calls[-1][0] == f"{(root / RULES).resolve()}:cheapest_dc"


def test_helpers_name_a_misspelt_kpi_and_reject_bad_arguments():
    runner = TableRunner({"a": BASE, "b": BASE})
    with pytest.raises(ValueError, match="unknown KPI 'cost_per_ordr' \\(known: orders"):
        assert_not_worse("a", "b", SCENARIO, kpi="cost_per_ordr", reps=5, runner=runner)
    with pytest.raises(ValueError, match="unknown KPI 'fillrate' \\(known: cost_per_order"):
        assert_kpi_within(SCENARIO, "a", "fillrate", 0.0, 1.0, runner=runner)
    with pytest.raises(ValueError, match="confidence must be in \\(0, 1\\), e.g. 0.95; got 95"):
        assert_not_worse("a", "b", SCENARIO, reps=5, confidence=95, runner=runner)
    with pytest.raises(ValueError, match="low \\(1.0\\) is above its high \\(0.9\\)"):
        assert_kpi_within(SCENARIO, "a", "cost_per_order", 1.0, 0.9, runner=runner)
    with pytest.raises(ValueError, match="need at least 2 replications for an interval, got 1"):
        assert_kpi_within(SCENARIO, "a", "cost_per_order", 0.0, 20.0, reps=1, runner=runner)


def test_cached_runs_follow_a_policy_re_registered_under_the_same_name():
    """The run cache must not hand back a policy's old KPIs once its name means another
    policy (re-registered, or a rules file edited in place): the test could never fail."""
    from engine.routing import BUILTIN_POLICIES, register_policy
    from sim import load_scenario

    small = {
        f"demand.channels.{c}.orders_per_day": n
        for c, n in (("web", 300), ("app", 100), ("marketplace", 50), ("social", 20))
    }
    scn = load_scenario("default", small)
    try:
        register_policy("regression-candidate", lambda: BUILTIN_POLICIES["cost"], replace=True)
        assert_not_worse("regression-candidate", "closest", scn, reps=2, days=1)
        register_policy("regression-candidate", _Farthest, replace=True)
        with pytest.raises(AssertionError, match="worse"):
            assert_not_worse("regression-candidate", "closest", scn, reps=2, days=1)
    finally:
        from engine.routing import policies

        policies._REGISTRY.pop("regression-candidate", None)


class _Farthest:
    """Ships each order whole from the farthest location that can, else as `cost` does."""

    name = "farthest"

    def choose(self, ctx):
        import numpy as np

        from engine.routing import BUILTIN_POLICIES, Plan
        from engine.routing.ranking import Ranking

        cand = ctx.candidates()
        for row in cand[np.argsort(-ctx.dist[cand], kind="stable")]:
            if (ctx.ats[row] >= ctx.qty).all():
                return Plan(Ranking(cand, [-ctx.dist[cand]]), [(int(row), ctx.qty.copy())])
        return BUILTIN_POLICIES["cost"].choose(ctx)


def test_a_golden_file_of_a_rules_file_says_when_the_file_changed(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("name: mine\nsort: [distance]\n")
    spec, path = str(rules.resolve()), tmp_path / "mine.json"
    same, moved = TableRunner({spec: [10.0, 10.2]}), TableRunner({spec: [11.0, 11.2]})
    case = {"scenario": "default", "seed": 1, "days": 2, "reps": 2}
    update_golden(path, runner=same, policy="rules.yaml", **case)
    golden = json.loads(path.read_text())
    assert golden["policy_file_sha256"] == hashlib.sha256(rules.read_bytes()).hexdigest()
    with pytest.raises(AssertionError) as unchanged:
        check_golden(path, runner=moved)
    assert "changed" not in str(unchanged.value)
    rules.write_text("name: mine\nsort: [cost]\n")
    check_golden(path, runner=same)  # the KPIs are what is checked
    with pytest.raises(
        AssertionError,
        match=r"cost_per_order 11\.1 vs golden 10\.1.*\. The rules file of policy 'rules\.yaml' "
        r"changed since the golden was recorded \(SHA-256 \w{12} then, \w{12} now\)\. "
        r"If intended: python -m sim.testing update mine",
    ):
        check_golden(path, runner=moved)
    del golden["policy_file_sha256"]  # a file recorded before the digest was kept
    path.write_text(json.dumps(golden))
    check_golden(path, runner=same)
    with pytest.raises(AssertionError, match="cost_per_order 11.1") as old:
        check_golden(path, runner=moved)
    assert "changed" not in str(old.value)
    update_golden(path, runner=same)  # an update records it, for a policy name never
    assert len(json.loads(path.read_text())["policy_file_sha256"]) == 64
    update_golden(tmp_path / "name.json", runner=TableRunner({"closest": [1.0, 1.0]}),
                  policy="closest", **case)  # fmt: skip
    assert "policy_file_sha256" not in json.loads((tmp_path / "name.json").read_text())
