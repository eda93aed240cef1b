"""Fulfilment workbench in the browser: compare routing policies on a scenario.

Start it with ``fulfil app`` (or ``streamlit run app.py``). The page is thin: ``main()``
calls one ``*_ui()`` function per part of the page (in ``ui/``: the scenario, the levers,
the comparison, the results), each returning the planner's choices, and the work happens
in ``sim/`` behind `st.cache_data`.

State: every input widget is bound to the URL query string (``bind="query-params"``) under
a short key (``scenario``, ``seed``, ``policies``, ``baseline``, ``reps`` and the lever keys
of `sim.levers.LEVERS`); a value equal to its default is left out, so a link reproduces the
view. A link value the page cannot use (out of range, not an option, a setting the scenario
lacks, a mistyped name) is named in one warning with what is shown instead (`LinkCheck`),
and left out of the URL. Choosing or uploading another scenario sets every lever and the
seed to that scenario's own values. The last comparison lives in
``st.session_state["outcome"]`` and is replaced whole by the next run; until then it stays
in view, labelled as the last run's, also while no valid scenario or setting is shown.
Rules-file policies are named on the page by `sim.workbench.policy_labels`; the URL,
downloads and runs keep their full spec.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from sim import levers as lv
from ui.comparison import Outcome, comparison_size, execute, rebased, run_ui
from ui.levers import levers_ui, sync_levers
from ui.links import LinkCheck
from ui.results import downloads_ui, last_results_ui, results_ui, sweep_ui
from ui.scenario import (
    PlannerError,
    changes_yaml,
    digest,
    edited_scenario_yaml,
    idle_warnings,
    scenario_data,
    scenario_ui,
)


def _days(days: Any) -> str:
    """``"1 day"``, ``"28 days"``."""
    return f"{days} day" if str(days) == "1" else f"{days} days"


def main() -> None:
    """Draw the page."""
    st.set_page_config(page_title="Fulfilment workbench", layout="wide")
    st.title("Fulfilment workbench")
    st.caption("Compare routing policies on cost, speed and stockouts.")
    # Whatever varies in number goes in `top`, so the progress bar and the results keep
    # their places on every rerun: a results tab stays open, and a chart option chosen
    # while a comparison runs finds its charts (a fragment) when the run is done.
    top = st.container()
    links = LinkCheck(top.empty())  # one warning for the link's values the page ignored
    with top:
        choice = scenario_ui(links)
    if choice is None:  # the results stay until a new run finishes
        last_results_ui(top, "not from a scenario loaded now")
        return
    try:
        data = scenario_data(choice.text, choice.source)
    except PlannerError as exc:
        top.error(str(exc))
        last_results_ui(top, f"not from `{choice.source}`")
        return
    sync_levers(f"{choice.key}:{choice.source}:{digest(choice.text)}", data)
    run_box = st.sidebar.container()
    st.sidebar.subheader("Levers")
    values = levers_ui(data, st.sidebar.container(), links)
    scenario_seed = int(data.get("seed", 0) or 0)
    run_choice, clicked = run_ui(scenario_seed, run_box, links)
    links.finish()
    try:
        overrides = lv.levers_to_overrides(data, values)
        seed = int(st.session_state.get("seed", scenario_seed))
        if seed != scenario_seed:  # the downloaded scenario reproduces the run alone
            overrides["seed"] = seed
        scenario_yaml = edited_scenario_yaml(choice.text, choice.source, overrides)
    except (PlannerError, ValueError) as exc:
        top.error(str(exc))
        last_results_ui(top, "made before the settings changed")
        return

    outcome: Outcome | None = st.session_state.get("outcome")
    with top:
        st.markdown(
            f"**Scenario** `{data.get('name', choice.source)}` from `{choice.source}` · "
            f"{_days(values.get('days', data.get('horizon_days')))} · "
            f"{len(overrides)} field(s) changed"
        )
        if overrides:
            with st.expander("What the levers and the seed change"):
                st.code(changes_yaml(overrides), language="yaml")
        for warning in idle_warnings(choice.text, choice.source, overrides):
            st.warning(warning)
        stopped = st.session_state.pop("running", False) and not clicked
        if stopped:  # the last run never ended
            st.warning(
                "The last run was stopped because a setting changed while it ran. "
                "Press **Run comparison** to start it with the settings now shown."
            )
    size = None if run_choice is None else comparison_size(scenario_yaml, run_choice)
    if size is not None:
        run_box.caption(size.describe())
    slot, results = st.empty(), st.container()
    refused = clicked and size is not None and not size.fits  # it would run out of memory
    if refused:
        slot.error(size.refusal())
    if clicked and not refused and run_choice is not None:  # as many at once as fit
        at_most = size.at_once if size is not None else None
        outcome = execute(scenario_yaml, run_choice, choice.source, slot, at_most)
    elif outcome is not None and rebased(outcome, scenario_yaml, run_choice):
        outcome = st.session_state["outcome"] = outcome._replace(  # the same runs
            result=outcome.result.against(run_choice.baseline), choice=run_choice
        )
    elif outcome is not None and (
        outcome.scenario_yaml != scenario_yaml or outcome.choice != run_choice
    ):
        top.info("The settings changed since these results were made. Press **Run comparison**.")
    with results:
        if outcome is not None:
            results_ui(outcome)
        elif run_choice is None:
            st.info("Choose policies in the sidebar and press **Run comparison**.")
        elif not stopped:  # (the warning above says what to do)
            st.info("Press **Run comparison** in the sidebar to compare the chosen policies.")
    downloads_ui(outcome, scenario_yaml, choice.source)
    sweep_ui()


if __name__ == "__main__":
    main()
