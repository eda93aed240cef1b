"""Flows of the Streamlit workbench (`app.py`) driven by `streamlit.testing.v1.AppTest`.

Runs use a tiny horizon and volume (the ``days`` and ``online`` levers) to stay quick.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from engine.routing import policies as registry
from sim import levers as lv
from sim import workbench as wb

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
UPLOAD = "your own YAML file"
TWO_POLICIES = ["closest", "min_split"]


@pytest.fixture
def at() -> AppTest:
    """A fresh app with empty caches (and no runs kept from other tests)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(APP, default_timeout=60)


def _quick(
    at: AppTest, reps: int = 2, policies: list[str] = TWO_POLICIES, days: int = 2
) -> AppTest:
    """Set the levers and run settings for a small, fast comparison."""
    at.number_input(key="days").set_value(days)
    at.number_input(key="online").set_value(300)
    at.multiselect(key="policies").set_value(policies)
    at.number_input(key="reps").set_value(reps)
    return at.run()


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    """Open the page, choose "your own YAML file" and upload ``content`` as ``name``."""
    at.run()
    at.selectbox(key="scenario").set_value(UPLOAD).run()
    assert any("Upload a scenario" in i.value for i in at.info)
    return at.file_uploader(key="upload").upload(name, content, "application/x-yaml").run()


def _no_failures(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    # a chart that fails says so in a warning instead of failing the page
    assert not [w.value for w in at.warning if "could not be drawn" in w.value]


#: Every chart of a comparison's results, by key (`ui.results.charts_ui`).
CHART_KEYS = {
    *(f"chart_{kpi}" for kpi in ("cost_per_order", "fill_rate", "click_to_door_hours_p90")),
    "chart_split_rate",
    "chart_other_kpi",
    "chart_cost_speed",
    "chart_ecdf",
    "chart_cost",
    "chart_map",
    "chart_walk_in",
    "chart_workload",
    "chart_ats",
}


def _chart_keys(at: AppTest) -> list[str]:
    """The keys of the plotly charts on the page (an element id ends with its key)."""
    return [c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")]


def test_opens_on_default_scenario(at: AppTest) -> None:
    at.run()
    _no_failures(at)
    assert at.selectbox(key="scenario").value == "default"
    assert at.number_input(key="days").value >= 1
    assert at.multiselect(key="policies").value  # policies preselected from the registry
    assert any("default.yaml" in m.value for m in at.markdown)
    assert "outcome" not in at.session_state


def test_choose_a_scenario(at: AppTest) -> None:
    at.run()
    others = [o for o in at.selectbox(key="scenario").options if o not in ("default", UPLOAD)]
    assert {"peak", "store_network", "outage"} <= set(others)  # the shipped scenarios
    at.number_input(key="sync").set_value(99).run()
    at.selectbox(key="scenario").set_value(others[0]).run()
    _no_failures(at)
    assert any(f"{others[0]}.yaml" in m.value for m in at.markdown)
    assert at.number_input(key="sync").value != 99  # levers reset to the new scenario


def test_switching_scenario_resets_levers_set_in_the_url_and_the_seed(at: AppTest) -> None:
    from sim import levers as lv
    from sim.scenario import load_scenario

    at.query_params.update({"sync": "99", "seed": "5", "days": "3"})
    at.run()
    assert at.number_input(key="sync").value == 99  # the link's values on the first load
    peak = load_scenario("peak").resolved()
    at.selectbox(key="scenario").set_value("peak").run()
    _no_failures(at)
    shown = lv.lever_defaults(peak)
    assert at.number_input(key="sync").value == shown["sync"]
    assert at.number_input(key="days").value == shown["days"] == peak["horizon_days"]
    assert at.number_input(key="seed").value == peak["seed"]
    assert any("0 field(s) changed" in m.value for m in at.markdown)
    at.number_input(key="reps").set_value(2).run()  # another click keeps peak's own values
    assert any("0 field(s) changed" in m.value for m in at.markdown)


def test_an_upload_shows_its_own_seed_and_values_outside_the_lever_ranges(at: AppTest) -> None:
    text = b"name: wide\nseed: 7\nhorizon_days: 120\ninventory: {pos_sync_delay_minutes: 7.5}\n"
    _upload(at, "wide.yaml", text)
    _no_failures(at)
    assert at.number_input(key="seed").value == 7
    assert at.number_input(key="days").value == 120  # the scenario's own horizon
    assert at.number_input(key="sync").value == 7.5
    assert any("120 days · 0 field(s) changed" in m.value for m in at.markdown)


def test_the_store_limit_can_be_lifted_and_set_to_zero(at: AppTest) -> None:
    at.run()
    assert at.toggle(key="no_sfs_limit").value is False  # the default scenario has a limit
    assert at.number_input(key="sfs_limit").value == 60
    at.toggle(key="no_sfs_limit").set_value(True).run()
    _no_failures(at)
    assert "daily_order_limit: null" in "\n".join(c.value for c in at.code)
    at.toggle(key="no_sfs_limit").set_value(False).run()
    at.number_input(key="sfs_limit").set_value(0).run()
    assert "daily_order_limit: 0" in "\n".join(c.value for c in at.code)  # none at all


def test_the_store_limit_is_disabled_while_stores_do_not_ship(at: AppTest) -> None:
    at.run()
    assert not at.number_input(key="sfs_limit").disabled
    at.toggle(key="sfs").set_value(False).run()
    _no_failures(at)
    why = "Ship from store is off, so no store ships online orders and this limit has no effect."
    assert at.number_input(key="sfs_limit").disabled
    assert at.toggle(key="no_sfs_limit").disabled
    assert why in at.number_input(key="sfs_limit").help
    assert any(c.value == why for c in at.caption)
    at.toggle(key="sfs").set_value(True).run()
    assert not at.toggle(key="no_sfs_limit").disabled
    assert not any(c.value == why for c in at.caption)
    at.toggle(key="no_sfs_limit").set_value(True).run()  # also with no limit at all
    at.toggle(key="sfs").set_value(False).run()
    _no_failures(at)
    assert at.toggle(key="no_sfs_limit").disabled
    assert any(c.value == why for c in at.caption)


def test_the_horizon_lever_stops_where_a_comparison_still_fits_in_memory(at: AppTest) -> None:
    from sim.levers import MAX_PAGE_DAYS

    at.run()
    assert at.number_input(key="days").max == MAX_PAGE_DAYS == 90
    assert "longer runs suit `fulfil run --days`" in at.number_input(key="days").help
    at.number_input(key="days").set_value(60).run()
    _no_failures(at)
    assert "horizon_days: 60" in "\n".join(c.value for c in at.code)
    at.number_input(key="days").set_value(1).run()
    _no_failures(at)
    assert any("· 1 day · " in m.value for m in at.markdown)  # one day, not "1 days"


def test_the_page_says_how_big_the_comparison_is_before_it_runs(at: AppTest) -> None:
    at.run()
    _no_failures(at)
    size = [c.value for c in at.sidebar.caption if c.value.startswith("9 runs of about")]
    assert size and size[0].startswith("9 runs of about 140,000 orders each"), size
    assert size[0].endswith("of memory at the peak.")
    at.number_input(key="days").set_value(7).run()  # the size follows the levers
    assert any(c.value.startswith("9 runs of about 35,000 orders") for c in at.sidebar.caption)


def test_runs_go_one_at_a_time_where_two_would_not_fit(
    at: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """28 days of the default: about 0.4 GB a run plus 0.1 GB of kept tables, so 0.7 GB
    free holds one run at a time but not two."""
    monkeypatch.setenv("FULFIL_MEMORY_MIB", "700")
    monkeypatch.setenv("FULFIL_PARALLEL_MIN_ORDERS", "0")  # two at a time, were there room
    at.run()
    _no_failures(at)
    size = [c.value for c in at.sidebar.caption if c.value.startswith("9 runs of about")]
    assert size == ["9 runs of about 140,000 orders each: about 0.6 GB of memory at the peak."]
    monkeypatch.setenv("FULFIL_MEMORY_MIB", "2000")  # room for 3 runs at once
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # and 2 cores
    at.run()
    shown = [c.value for c in at.sidebar.caption if c.value.startswith("9 runs of about")]
    assert ", 2 at a time:" in shown[0], shown
    # and the runs go as the caption says: 4 small runs, room for one of them at a time
    monkeypatch.setenv("FULFIL_MEMORY_MIB", "400")
    _quick(at)
    at.button(key="run").click().run(timeout=120)
    _no_failures(at)
    assert at.session_state["outcome"].result.workers == 1


def test_a_comparison_too_big_for_the_free_memory_is_refused_before_it_runs(
    at: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FULFIL_MEMORY_MIB", "600")
    _quick(at.run())  # 4 runs of about 600 orders, one at a time: about 0.3 GB, which fits
    at.button(key="run").click().run()
    _no_failures(at)
    small = at.session_state["outcome"]
    at.number_input(key="online").set_value(200_000).run()  # 400,000 orders a run
    at.button(key="run").click().run()
    refused = [e.value for e in at.error]
    assert len(refused) == 1 and refused[0].startswith("This comparison (4 runs of about 410,000")
    assert "the machine has 0.6 GB free" in refused[0]
    assert at.session_state["outcome"] is small  # nothing ran; the last results stay
    assert any("settings changed" in i.value for i in at.info)  # and are said to be old


def test_runs_kept_from_earlier_need_no_memory_and_are_not_counted(
    at: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    _quick(at.run(), reps=1)  # 2 runs
    at.button(key="run").click().run()
    _no_failures(at)
    at.multiselect(key="policies").set_value([*TWO_POLICIES, "cost"]).run()
    said = [
        c.value for c in at.sidebar.caption if " runs of about" in c.value or "1 run" in c.value
    ]
    assert said and said[0].startswith("1 run of about") and "(2 more kept from earlier)" in said[0]
    monkeypatch.setenv("FULFIL_MEMORY_MIB", "1")  # no room for any run
    at.multiselect(key="policies").set_value(TWO_POLICIES).run()
    assert "Nothing to run: all 2 runs are kept from earlier comparisons." in [
        c.value for c in at.sidebar.caption
    ]
    at.button(key="run").click().run()  # not refused: nothing needs the memory
    _no_failures(at)


def test_a_chosen_seed_goes_into_the_edited_scenario(at: AppTest) -> None:
    at.run()
    at.number_input(key="seed").set_value(11).run()
    _no_failures(at)
    assert "seed: 11" in "\n".join(c.value for c in at.code)
    # so it fixes the catalogue and stock too, which the command line's --seed does not
    help_text = at.number_input(key="seed").help
    assert "catalogue and the starting stock" in help_text
    assert "--seed` change only the random streams" in help_text
    assert "downloaded scenario (Scenario (YAML)) without `--seed`" in help_text


def test_hours_that_close_before_they_open_are_an_inline_error(at: AppTest) -> None:
    at.run()
    _quick(at, reps=2, policies=["closest"])
    at.button(key="run").click().run(timeout=120)
    at.slider(key="hours").set_value((10.0, 10.0)).run()
    assert not at.exception
    assert at.error and "closing (10) must come after opening (10)" in at.error[0].value
    assert any("from the last run" in i.value for i in at.info)  # still in view
    assert "KPIs" in [h.value for h in at.subheader]


def test_edit_levers_changes_the_scenario(at: AppTest) -> None:
    at.run()
    at.number_input(key="sync").set_value(90)
    at.toggle(key="sfs").set_value(False)
    at.slider(key="hours").set_value((8, 22))
    at.run()
    _no_failures(at)
    changes = "\n".join(c.value for c in at.code)
    assert "inventory.pos_sync_delay_minutes: 90" in changes
    assert "network.store_defaults.ship_from_store: false" in changes
    assert "network.store_defaults.hours.open: 8.0" in changes


def test_an_outage_starts_when_a_shortened_warm_up_ends(at: AppTest) -> None:
    at.run()
    at.number_input(key="days").set_value(4).run()  # the 3-day warm-up becomes 2 days
    at.selectbox(key="outage").set_value("DC-EAST").run()
    _no_failures(at)
    assert at.number_input(key="outage_start").value == 2


def test_outage_lever_adds_an_outage(at: AppTest) -> None:
    at.run()
    at.selectbox(key="outage").set_value("DC-EAST").run()
    _no_failures(at)
    assert at.number_input(key="outage_days").value >= 1
    assert "location: DC-EAST" in "\n".join(c.value for c in at.code)


def test_run_a_small_comparison_and_replace_it(at: AppTest) -> None:
    at.run()
    _quick(at)
    at.button(key="run").click().run(timeout=120)
    _no_failures(at)
    outcome = at.session_state["outcome"]
    assert outcome.result.runs == 4
    assert set(outcome.result.summary["policy"]) == set(TWO_POLICIES)
    assert {"mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high"} <= set(
        outcome.result.summary.columns
    )
    kpis = at.dataframe[0].value
    assert "cost_per_order" in kpis.index
    assert "min_split − closest" in kpis.columns  # difference against the baseline
    assert sorted(_chart_keys(at)) == sorted(CHART_KEYS)  # every chart is drawn, once
    charts = [str(c.proto) for c in at.get("plotly_chart")]
    assert any("Walk-in sales lost at stores" in c for c in charts)
    # a two-day run: the stock chart shows those two days, not the days that drain it
    assert any("later day(s) finishing orders not shown" in c for c in charts)
    labels = {b.label for b in at.get("download_button")}
    assert {"Summary (CSV)", "Summary (Parquet)", "Scenario (YAML)"} <= labels

    # A new run with another seed replaces the old results whole.
    at.number_input(key="seed").set_value(7).run()
    assert any("settings changed" in i.value for i in at.info)
    at.button(key="run").click().run(timeout=120)
    _no_failures(at)
    assert at.session_state["outcome"].choice.seed == 7
    assert [h.value for h in at.subheader].count("KPIs") == 1
    assert set(at.dataframe[1].value["seed"]) == {7}


def test_another_kpi_may_be_a_headline_kpi(at: AppTest) -> None:
    at.run()
    _quick(at, reps=1, policies=["closest", "cost"], days=1)
    at.button(key="run").click().run(timeout=120)
    _no_failures(at)
    charts = len(at.get("plotly_chart"))
    for view in ("means", "differences against closest"):
        at.radio(key="chart_view").set_value(view).run()
        for kpi in ("fill_rate", "cost_per_order", "split_rate", "click_to_door_hours_p90"):
            at.selectbox(key="chart_kpi").set_value(kpi).run()
            _no_failures(at)
            assert len(at.get("plotly_chart")) == charts, (view, kpi)  # every chart drawn
            assert "Downloads" in [h.value for h in at.subheader], (view, kpi)  # and the rest
            assert at.get("download_button")
    at.run()  # the choice stays in the session: later runs draw the page too
    _no_failures(at)
    assert "Downloads" in [h.value for h in at.subheader]


def test_a_rules_file_policy_is_offered_and_runs(at: AppTest) -> None:
    at.run()
    offered = at.multiselect(key="policies").options
    spec = "scenarios/policies/store_rules.yaml:cheapest_dc"
    assert spec in offered and "scenarios/policies/regional_first.yaml" in offered
    _quick(at, reps=2, policies=["closest", spec])
    at.button(key="run").click().run(timeout=120)
    _no_failures(at)
    summary = at.session_state["outcome"].result.summary
    assert set(summary["policy"]) == {"closest", spec}  # the runs keep the full spec
    # the table and the charts name it by its policy's name, and say what that stands for
    columns = list(at.dataframe[0].value.columns)
    assert "cheapest_dc" in columns and "cheapest_dc − closest" in columns
    assert not [c for c in columns if "store_rules" in c]
    assert any(f"`cheapest_dc` is `{spec}`" in c.value for c in at.caption)
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert any('"cheapest_dc"' in c for c in charts)
    assert not [c for c in charts if "store_rules.yaml" in c]


def test_policies_added_by_fulfil_app_policy_are_offered_and_run(
    at: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "docs" / "examples"))
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # undone afterwards
    monkeypatch.delitem(sys.modules, "team_policies", raising=False)  # imported afresh
    monkeypatch.chdir(ROOT)  # rules files are named from the folder the app runs in
    spec, rules = "team_policies:near_store_300", "scenarios/policies/store_rules.yaml:cheapest_dc"
    added = [spec, "team_policies:nope", f"./{rules}", "closest"]
    monkeypatch.setenv(wb.APP_POLICIES_ENV, json.dumps(added))
    at.run()
    offered = at.multiselect(key="policies").options
    assert spec in offered and "near_store_300" not in offered  # workers import by the spec
    assert offered.count(rules) == 1 and f"./{rules}" not in offered  # one name per policy
    assert [w.value for w in at.warning] == [
        "Policy left out: policy 'team_policies:nope': importing 'team_policies' registered "
        f"no policy 'nope' (registered: {', '.join(registry.available_policies())})",
        "Policy left out: 'closest' is offered already; --policy adds a rules file "
        "FILE.yaml[:NAME] or a Python module:NAME",
    ]
    _quick(at, reps=1, policies=["closest", spec])
    at.button(key="run").click().run(timeout=120)
    _no_failures(at)
    share = at.session_state["outcome"].result.per_run.set_index("policy")["store_ship_share"]
    assert share[spec] > share["closest"]  # stores within 300 miles first: more from stores


def test_running_the_same_comparison_again_gives_the_cached_results(at: AppTest) -> None:
    at.run()
    _quick(at, reps=1, policies=["closest"])
    at.button(key="run").click().run(timeout=120)
    _no_failures(at)
    first = at.session_state["outcome"].result
    at.button(key="run").click().run(timeout=120)  # the cached answer, nothing replayed
    _no_failures(at)
    again = at.session_state["outcome"].result
    assert (again.runs, again.reused) == (first.runs, first.runs)  # not run again, and said
    pd.testing.assert_frame_equal(again.per_run, first.per_run)
    said = "The run came from kept results: none ran now"
    assert any(said in c.value for c in at.caption)
    assert not any("simulations in" in c.value for c in at.caption)
    assert [h.value for h in at.subheader].count("KPIs") == 1
    assert any(said in str(p.proto) for p in at.get("progress"))
    # with one policy there are no differences to show, and the charts say so
    at.radio(key="chart_view").set_value("differences against closest").run()
    _no_failures(at)
    assert any("One policy only" in c.value for c in at.caption)
    # nor does the caption over the KPI table speak of differences
    assert not any("paired by replication" in c.value for c in at.caption)
    assert any(c.value.startswith("Means of one replication") for c in at.caption)


def test_a_new_baseline_needs_no_run_and_a_wider_comparison_reuses_the_runs(
    at: AppTest,
) -> None:
    at.run()
    _quick(at, reps=2)
    at.button(key="run").click().run(timeout=120)
    _no_failures(at)
    first = at.session_state["outcome"].result
    assert "min_split − closest" in at.dataframe[0].value.columns
    at.radio(key="chart_view").set_value("differences against closest").run()
    at.selectbox(key="baseline").set_value("min_split").run()
    _no_failures(at)
    assert at.radio(key="chart_view").value == "differences against min_split"  # still shown
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "cost_per_order: policy − min_split" in titles
    assert not any("settings changed" in i.value for i in at.info)
    rebased = at.session_state["outcome"]
    assert rebased.choice.baseline == "min_split" and rebased.result.elapsed_s == first.elapsed_s
    assert "closest − min_split" in at.dataframe[0].value.columns
    assert set(rebased.result.summary["baseline"]) == {"min_split"}
    at.multiselect(key="policies").set_value([*TWO_POLICIES, "cost"]).run()
    at.button(key="run").click().run(timeout=120)
    _no_failures(at)
    wider = at.session_state["outcome"].result
    assert (wider.runs, wider.reused) == (6, 4)  # only the new policy's two runs ran
    assert any("4 reused from earlier comparisons" in c.value for c in at.caption)


def test_results_from_another_scenario_are_labelled_as_such(at: AppTest) -> None:
    at.run()
    _quick(at, reps=2, policies=["closest"])
    at.button(key="run").click().run(timeout=120)
    _no_failures(at)
    assert at.session_state["outcome"].source == "default.yaml"
    assert not [c for c in at.caption if "from the last run" in c.value]
    others = [o for o in at.selectbox(key="scenario").options if o not in ("default", UPLOAD)]
    at.selectbox(key="scenario").set_value(others[0]).run()
    _no_failures(at)
    assert any("settings changed" in i.value for i in at.info)
    assert [c for c in at.caption if "from the last run (`default.yaml`)" in c.value]


def test_the_last_results_stay_while_no_valid_scenario_is_loaded(at: AppTest) -> None:
    at.run()
    _quick(at, reps=1, policies=["closest"])
    at.button(key="run").click().run(timeout=120)
    _no_failures(at)
    at.selectbox(key="scenario").set_value(UPLOAD).run()  # no file yet
    for step in ("no file", "not UTF-8 text", "an invalid scenario"):
        assert not at.exception, step
        assert "KPIs" in [h.value for h in at.subheader], step
        assert any("from the last run (`default.yaml`)" in i.value for i in at.info), step
        labels = {b.label for b in at.get("download_button")}
        assert {"Summary (CSV)", "Runs (Parquet)", "Scenario (YAML)"} <= labels, step
        assert any("the last run's (`default.yaml`)" in c.value for c in at.caption), step
        if step == "no file":
            at.file_uploader(key="upload").upload("bad.yaml", b"\xff\xfe", "text/yaml").run()
        elif step == "not UTF-8 text":
            text = b"name: x\nfoo: 1\n"
            at.file_uploader(key="upload").upload("bad.yaml", text, "application/x-yaml").run()
            assert at.error and "foo" in at.error[0].value
    at.selectbox(key="scenario").set_value("default").run()
    _no_failures(at)
    assert at.session_state["outcome"].source == "default.yaml"


def test_a_stopped_run_says_so_without_asking_for_policies(
    at: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    def stop(*args: object) -> None:  # as Streamlit stops the page's thread mid-run
        raise StopException

    at.run()
    _quick(at, reps=1, policies=["closest"])
    monkeypatch.setattr(wb, "time_left", stop)  # the page's loop calls it on a report
    at.button(key="run").click().run()
    assert "outcome" not in at.session_state  # the run never finished
    monkeypatch.undo()
    at.run()
    _no_failures(at)
    assert any("The last run was stopped" in w.value for w in at.warning)
    assert not any("Choose policies" in i.value for i in at.info)  # they are chosen
    at.run()  # said once; then the page asks for a run of the chosen policies
    assert any("Press **Run comparison**" in i.value for i in at.info)
    assert not any("Choose policies" in i.value for i in at.info)


def test_run_errors_are_shown_inline(at: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.sweep.tasks

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the model fell over")

    monkeypatch.setattr(sim.sweep.tasks, "simulation_runner", boom)
    at.run()
    _quick(at, reps=1)
    at.button(key="run").click().run()
    assert not at.exception
    assert any("the model fell over" in e.value for e in at.error)
    assert "outcome" not in at.session_state


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"name: [unclosed\nhorizon_days: 3\n", "invalid YAML"),
        (b"name: x\nhorizon_dayz: 3\n", "horizon_dayz"),
        (b"name: x\nhorizon_days: -2\n", "horizon_days"),
        (
            b"name: x\nhorizon_days: 3\n",
            "warmup_days (3, the default) must be less than "
            "horizon_days (3): set warmup_days below it, e.g. warmup_days: 1",
        ),
        (b"- just\n- a list\n", "mapping"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"name: x\nstart: 2026-02-30\n", "start: Input should be a valid date"),
        (b"name: x\nseed: 3000000000000000000\n", "seed: Input should be less than"),
        (b"name: x\ndescription: " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (
            b"name: s\nscenario: default\npolicies: [closest]\ngrid: {seed: [1]}\n",
            "(this looks like a sweep file, not a scenario: run it with `fulfil sweep FILE",
        ),
        (
            b"name: near\nfilters: [open_now]\nsort: [distance]\n",
            "(this looks like a policy rules file, not a scenario: start the page with "
            "`fulfil app --policy FILE`",
        ),
    ],
)
def test_bad_upload_shows_an_inline_error(at: AppTest, content: bytes, expected: str) -> None:
    _upload(at, "mine.yaml", content)
    assert not at.exception
    assert at.error, "expected an inline error"
    assert expected in at.error[0].value
    if expected != "not UTF-8":
        assert at.error[0].value.startswith("mine.yaml")
    assert "Traceback" not in at.error[0].value


def test_good_upload_is_used(at: AppTest) -> None:
    _upload(at, "mine.yaml", b"name: uploaded\nhorizon_days: 3\nwarmup_days: 1\n")
    _no_failures(at)
    assert any("`uploaded` from `mine.yaml`" in m.value for m in at.markdown)
    assert at.number_input(key="days").value == 3


def test_settings_outside_the_run_are_a_warning_not_an_error(at: AppTest) -> None:
    peak = b"name: idle\nhorizon_days: 28\ndemand:\n  peaks: [{start: 2026-11-20, multiplier: 2}]\n"
    _upload(at, "idle.yaml", peak)
    _no_failures(at)
    assert not [w for w in at.warning if "demand.peaks.0" in w.value]
    at.number_input(key="days").set_value(3).run()  # the run now ends before the peak
    _no_failures(at)
    assert any("demand.peaks.0: 2026-11-20" in w.value for w in at.warning)


def test_query_params_restore_the_view(at: AppTest) -> None:
    at.query_params.update(
        {
            "scenario": "default",
            "sync": "45",
            "sfs": "false",
            "hours": ["8", "20"],
            "policies": TWO_POLICIES,
            "baseline": "min_split",
            "reps": "2",
            "seed": "11",
            "days": "2",
        }
    )
    at.run()
    _no_failures(at)
    assert at.number_input(key="sync").value == 45
    assert at.toggle(key="sfs").value is False
    assert at.slider(key="hours").value == (8, 20)
    assert at.multiselect(key="policies").value == TWO_POLICIES
    assert at.selectbox(key="baseline").value == "min_split"
    assert at.number_input(key="reps").value == 2
    assert at.number_input(key="seed").value == 11
    assert at.number_input(key="days").value == 2


def test_the_url_follows_values_streamlit_resets(at: AppTest) -> None:
    at.query_params.update({"outage": "DC-EAST", "outage_start": "20"})
    at.run()
    _no_failures(at)
    assert at.number_input(key="outage_start").value == 20
    at.number_input(key="days").set_value(5).run()  # the outage must now start by day 4
    _no_failures(at)
    shown = at.number_input(key="outage_start").value
    assert shown == 4
    assert at.query_params["outage_start"] in (["4"], "4")  # a link shows the same view

    at.multiselect(key="policies").set_value(["closest", "cost"]).run()
    at.selectbox(key="baseline").set_value("cost").run()
    at.multiselect(key="policies").set_value(["closest"]).run()  # the baseline's gone
    at.multiselect(key="policies").set_value(["closest", "cost"]).run()
    _no_failures(at)
    baseline = at.selectbox(key="baseline").value
    assert at.query_params.get("baseline") in (None, [baseline], baseline)


def test_a_link_keeps_the_outage_start_that_was_run(at: AppTest) -> None:
    at.run()
    at.number_input(key="days").set_value(4).run()
    at.selectbox(key="outage").set_value("DC-EAST").run()
    at.number_input(key="outage_start").set_value(1).run()
    at.number_input(key="days").set_value(1).run()  # the start moves to day 0
    at.number_input(key="days").set_value(4).run()  # and stays there
    _no_failures(at)
    assert at.number_input(key="outage_start").value == 0
    assert at.query_params["outage_start"] in (["0"], "0")  # written though it is the default
    fresh = AppTest.from_file(APP, default_timeout=60)  # the link, opened elsewhere
    fresh.query_params.update({"days": "4", "outage": "DC-EAST", "outage_start": "0"})
    fresh.run()
    _no_failures(fresh)
    assert fresh.number_input(key="outage_start").value == 0  # the link shows the same run
    fresh.selectbox(key="outage").set_value(lv.NO_OUTAGE).run()
    assert "outage_start" not in fresh.query_params  # no outage, no start in the link


def test_bad_query_params_are_ignored_and_named(at: AppTest) -> None:
    at.query_params.update({"scenario": "no-such", "sync": "lots", "reps": "-4"})
    at.run()
    _no_failures(at)
    assert at.selectbox(key="scenario").value == "default"
    assert len(at.warning) == 1  # one warning names them all
    said = at.warning[0].value
    assert said.startswith("Some values in the link could not be used:")
    assert "`scenario=no-such` is not a scenario of the library (default, " in said
    assert "`sync=lots` is not a number; using 15" in said
    assert f"`reps=-4` is below the minimum 1; using {wb.DEFAULT_REPS}" in said
    at.number_input(key="days").set_value(3).run()  # said once, on the page the link opened
    _no_failures(at)
    assert not at.warning


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("days", "1000", "`days=1000` is above the maximum 90; using 28"),
        ("days", "2.5", "`days=2.5` is not a whole number; using 2"),
        ("online", "-5", "`online=-5` is below the minimum 0; using 5000"),
        ("bopis", "150", "`bopis=150` is above the maximum 100; using "),
        ("reps", "0", f"`reps=0` is below the minimum 1; using {wb.DEFAULT_REPS}"),
        ("seed", "-1", "`seed=-1` is below the minimum 0; using 42"),
        ("sync", "nan", "`sync=nan` is not a number; using 15"),
        ("sfs", "maybe", "`sfs=maybe` is not true or false; using true"),
        ("hours", ["8"], "`hours=8` is not two numbers (from, to); using 9, 21"),
        ("outage", "NOPE", "`outage=NOPE` is not a location of this scenario; using (none)"),
        ("outage_days", "4", "`outage_days=4` is left out: no outage location is chosen"),
        ("scenario", "nope", "`scenario=nope` is not a scenario of the library"),
        ("policies", "nope", "`policies=nope` is not among the policies offered here; using "),
        ("baseline", "nope", "`baseline=nope` is not one of the chosen policies; using "),
        ("peak", "50", "`peak=50` is left out: Peak multiplier (largest peak) is not used"),
        ("dayz", "3", "`dayz=3` is left out: the page has no such setting"),
    ],
)
def test_a_link_value_the_page_cannot_use_is_named(
    at: AppTest, key: str, value: str | list[str], said: str
) -> None:
    at.query_params[key] = value
    at.run()
    _no_failures(at)
    assert len(at.warning) == 1 and said in at.warning[0].value, [w.value for w in at.warning]
    assert "Traceback" not in at.warning[0].value


def test_a_link_value_the_scenario_does_not_use_leaves_the_url(at: AppTest) -> None:
    at.query_params.update({"peak": "50", "sync": "45"})  # the default scenario has no peaks
    at.run()
    _no_failures(at)
    assert "peak" not in at.query_params
    assert at.number_input(key="sync").value == 45  # the values it can use are used
    at.selectbox(key="scenario").set_value("peak").run()  # a scenario with peaks: its own
    _no_failures(at)
    assert at.number_input(key="peak").value != 50


def test_a_link_to_an_upload_checks_its_levers_once_the_file_is_there(at: AppTest) -> None:
    at.query_params.update({"scenario": UPLOAD, "days": "1000"})
    at.run()
    assert not at.warning and any("Upload a scenario" in i.value for i in at.info)
    text = b"name: m\nhorizon_days: 3\nwarmup_days: 1\n"
    at.file_uploader(key="upload").upload("m.yaml", text, "application/x-yaml").run()
    _no_failures(at)
    assert [w.value for w in at.warning] == [
        "Some values in the link could not be used:\n- `days=1000` is above the maximum 90; using 3"
    ]


def test_opens_a_sweep_folder_and_shows_the_frontier(
    at: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.sweep import run_sweep
    from sim.sweep.synthetic import SyntheticRunner

    sweep = {
        "name": "tiny",
        "scenario": "default",
        "grid": {"network.store_defaults.daily_order_limit": [20, 60]},
        "policies": ["closest", "min_split"],
        "replications": 1,
        "days": 1,
    }
    out = tmp_path / "sweep"
    run_sweep(sweep, out, runner=SyntheticRunner(), progress=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    at.run()
    at.text_input(key="sweep_folder").set_value(str(out)).run()
    _no_failures(at)
    _shows_the_frontier(at, out)
    at.text_input(key="sweep_folder").set_value("~/sweep").run()  # ~ is the home folder
    _no_failures(at)
    _shows_the_frontier(at, out)


def _shows_the_frontier(at: AppTest, out: Path) -> None:
    """The page shows the sweep's frontier chart, its rows and the right counts."""
    from sim.sweep import load_sweep_results

    summary, frontier = load_sweep_results(out)
    assert 0 < len(frontier) <= len(summary) == 4  # 2 cases x 2 policies
    said = f"{len(summary)} case x policy rows, {len(frontier)} on the frontier."
    assert said in [c.value for c in at.caption]
    assert "sweep_frontier" in _chart_keys(at)
    shown = [d.value for d in at.dataframe]
    assert any(len(d) == len(frontier) and list(d.columns) == list(frontier.columns) for d in shown)


def test_a_folder_without_sweep_results_is_an_inline_error(at: AppTest, tmp_path: Path) -> None:
    at.run()
    at.text_input(key="sweep_folder").set_value(str(tmp_path / "nothing")).run()
    assert not at.exception
    assert at.error and "nothing" in at.error[0].value


def test_a_blank_sweep_folder_is_said_in_plain_words(at: AppTest) -> None:
    at.run()
    at.text_input(key="sweep_folder").set_value("   ").run()
    _no_failures(at)
    assert [w.value for w in at.warning] == [
        "The folder name is blank: type the folder `fulfil sweep --out` wrote, e.g. results/sweep1."
    ]


def test_a_sweep_folder_without_finished_runs_is_an_inline_error(
    at: AppTest, tmp_path: Path
) -> None:
    (tmp_path / "runs").mkdir()
    at.run()
    at.text_input(key="sweep_folder").set_value(str(tmp_path)).run()
    assert not at.exception
    assert at.error and at.error[0].value == f"{tmp_path}: no finished runs yet " + (
        "(a sweep shows once runs are committed)"
    )


def test_a_link_with_no_policies_chosen_is_no_mistake(at: AppTest) -> None:
    """The page writes an empty choice as ``policies=`` (an empty value)."""
    at.query_params["policies"] = ""
    at.run()
    _no_failures(at)
    assert not at.warning, [w.value for w in at.warning]
