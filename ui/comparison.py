"""The comparison part of the page: policies, baseline, replications and seed, the size of
the comparison, and its run in a helper thread with a progress bar."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import queue
import threading
import time
from typing import Any, NamedTuple

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from sim import workbench as wb
from sim.footprint import Footprint, footprint
from sim.scenario.schema import MAX_SEED
from ui.levers import keep_within
from ui.links import LinkCheck
from ui.scenario import SCENARIO_DIR, PlannerError, edited_scenario

log = logging.getLogger("fulfil.app")

FALLBACK_POLICIES = ("closest", "ranked", "min_split", "cost", "balance", "store_first", "dc_first")
MAX_REPS = 20


class RunChoice(NamedTuple):
    """What to compare: policies, baseline, replications and the root seed.

    A named tuple, so choices made on different reruns of the script compare by value.
    """

    policies: tuple[str, ...]
    baseline: str
    reps: int
    seed: int


class Outcome(NamedTuple):
    """One finished comparison, kept in session state until the next run replaces it.

    Attributes:
        result: The comparison (tables, timings).
        scenario_yaml: The edited scenario the runs used.
        choice: The run settings.
        source: File the scenario came from (names the result downloads).
    """

    result: wb.Comparison
    scenario_yaml: str
    choice: RunChoice
    source: str


@st.cache_data(show_spinner=False)
def available_policies() -> dict[str, str]:
    """Policy name -> one-line description, from the engine registry (the documented
    built-ins, undescribed, if the registry cannot be read)."""
    try:
        from engine.routing import available_policies as registry

        names = list(registry())
    except Exception:  # registry not importable: still offer the documented built-ins
        return dict.fromkeys(FALLBACK_POLICIES, "")
    return {name: wb.describe_policy(name) for name in names} or dict.fromkeys(
        FALLBACK_POLICIES, ""
    )


def added_policies() -> tuple[dict[str, str], set[str], list[str]]:
    """The policies `fulfil app --policy` added (`sim.workbench.extra_policies`), read on
    every page run like the rules files: spec -> description, the registry names to leave
    out, and the problems to show."""
    text = os.environ.get(wb.APP_POLICIES_ENV, "")
    try:
        specs = json.loads(text) if text else []
        if not isinstance(specs, list) or not all(isinstance(x, str) for x in specs):
            raise ValueError("not a list of policy specs")
    except ValueError as exc:
        return {}, set(), [f"{wb.APP_POLICIES_ENV}: {exc}"]
    return wb.extra_policies(specs)


@st.cache_resource(show_spinner=False)
def run_store() -> wb.RunStore:
    """The server's finished runs (`sim.run_store.RunStore`), shared by every page: a run
    is fixed by its inputs, so any comparison may reuse it."""
    return wb.RunStore()


@st.cache_data(show_spinner=False, max_entries=8)
def run_comparison(
    scenario_yaml: str,
    policies: tuple[str, ...],
    reps: int,
    seed: int,
    rules: tuple[str | None, ...] = (),
    _progress: wb.Progress | None = None,
    _ran: list[bool] | None = None,
    _max_workers: int | None = None,
) -> wb.Comparison:
    """`sim.workbench.compare_policies` on the edited scenario, cached on its arguments
    (``rules``: the digests of the policies' rules files, so that an edited file runs
    again).

    The differences are taken against the first policy (`Comparison.against` takes them
    against another without running again). Runs kept in `run_store` are reused, and each
    run is kept there as it ends. ``_progress`` (``progress(done, total)``, see
    `sim.workbench.Progress`), ``_ran`` (gets True appended when this body runs, not
    on a cached answer) and ``_max_workers`` (at most this many processes; results do
    not depend on it) are not hashed; a cached answer calls neither.

    Raises:
        PlannerError: the scenario is invalid.
        RunFailed: a run raised.
    """
    if _ran is not None:
        _ran.append(True)
    data = edited_scenario(scenario_yaml).resolved()
    return wb.compare_policies(
        data, policies, reps, seed, None, _progress, store=run_store(), max_workers=_max_workers
    )


def comparison_size(scenario_yaml: str, choice: RunChoice) -> Footprint:
    """How big the chosen comparison is (its runs not kept from earlier comparisons), and
    whether it fits in the free memory now."""
    scenario = edited_scenario(scenario_yaml)
    to_run = wb.runs_to_run(
        scenario.resolved(), choice.policies, choice.reps, choice.seed, run_store()
    )
    return footprint(scenario, len(choice.policies), choice.reps, to_run=to_run)


def run_ui(default_seed: int, box: Any, links: LinkCheck) -> tuple[RunChoice | None, bool]:
    """Policies, baseline, replications, seed and the Run button, drawn in ``box``."""
    box.subheader("Comparison")
    # rules files are read on every page run: a new or edited file shows at once
    added, hidden, problems = added_policies()
    for problem in problems:
        box.warning(f"Policy left out: {problem}")
    registry = {n: d for n, d in available_policies().items() if n not in hidden}
    described = registry | wb.rules_policies(SCENARIO_DIR / "policies") | added
    names = list(described)
    preferred = [p for p in wb.DEFAULT_POLICIES if p in names] or names[:3]
    notes = "\n".join(f"- **{n}**: {d}" if d else f"- **{n}**" for n, d in described.items())
    policies = box.multiselect(
        "Policies",
        names,
        default=preferred,
        key="policies",
        bind="query-params",
        help=f"Routing policies (the engine's, rules files, `fulfil app --policy`):\n{notes}",
    )
    links.choices("policies", names, policies, "among the policies offered here")
    keep_within("baseline", lambda b: b if b in policies else (policies or ["–"])[0])
    baseline = box.selectbox(
        "Baseline",
        policies or ["–"],
        index=0,
        key="baseline",
        bind="query-params",
        help="Differences in the KPI table are taken against this policy (paired by replication).",
    )
    links.choice("baseline", policies, baseline, "one of the chosen policies")
    reps = box.number_input(
        "Replications (runs per policy)",
        1,
        MAX_REPS,
        wb.DEFAULT_REPS,
        1,
        key="reps",
        bind="query-params",
    )
    links.number("reps", 1, MAX_REPS, reps, whole=True)
    seed = box.number_input(
        "Seed",
        0,
        MAX_SEED,
        int(default_seed),
        1,
        key="seed",
        bind="query-params",
        help="Same scenario, policy and seed give identical results. The seed is written "
        "into the scenario (its `seed`), so it fixes the catalogue and the starting stock as "
        "well as the runs' random streams; `fulfil run` and `fulfil compare --seed` change "
        "only the random streams. To get these numbers from the command line, run the "
        "downloaded scenario (Scenario (YAML)) without `--seed`.",
    )
    links.number("seed", 0, MAX_SEED, seed, whole=True)
    clicked = box.button("Run comparison", type="primary", disabled=not policies, key="run")
    if not policies:
        box.caption("Choose at least one policy.")
        return None, False
    return RunChoice(tuple(policies), str(baseline), int(reps), int(seed)), clicked


class RunStopped(BaseException):
    """Raised in a comparison's progress report to end it: the page moved on (a setting
    changed during the run). A BaseException, so no run's error handling keeps it."""


def execute(
    scenario_yaml: str,
    choice: RunChoice,
    source: str,
    slot: Any = None,
    max_workers: int | None = None,
) -> Outcome | None:
    """Run the comparison with a progress bar, on at most `max_workers` processes (None:
    as `sim.workbench.compare_policies` decides); errors are shown inline, never raised.

    The cached `run_comparison` runs in a helper thread and reports progress through a
    queue; this (the page's) thread draws the bar. So the cached function draws nothing,
    and a cached answer comes back without replaying elements. The last results stay in
    the session until the new ones replace them; if the page reruns during the run (a
    setting changed), the runs are stopped and the next page says so.
    """
    total = len(choice.policies) * choice.reps
    starting = f"Starting {total} simulations (any run done before is reused)…"
    bar = (slot or st.empty()).progress(0.0, text=starting)
    started = time.perf_counter()
    reports: queue.SimpleQueue[tuple[float, int]] = queue.SimpleQueue()
    stop = threading.Event()
    box: dict[str, Any] = {}
    ran: list[bool] = []

    def progress(done: float, total: int) -> None:
        if stop.is_set():
            raise RunStopped
        reports.put((done, total))

    def work() -> None:
        try:
            rules = tuple(wb.policy_file_digest(p) for p in choice.policies)
            box["result"] = run_comparison(
                scenario_yaml, choice.policies, choice.reps, choice.seed, rules, progress, ran,
                max_workers,
            ).against(choice.baseline)  # fmt: skip
        except BaseException as exc:  # handed to the page's thread
            box["error"] = exc

    worker = threading.Thread(target=work, name="fulfil-comparison", daemon=True)
    add_script_run_ctx(worker, get_script_run_ctx())
    st.session_state["running"] = True  # cleared when the run ends here, not if the page
    worker.start()  # reran during it (a write from the interrupted run would not last)
    shown = (0.0, starting)
    try:
        while worker.is_alive():
            worker.join(0.25)
            latest = None
            while not reports.empty():
                latest = reports.get()
            if latest is not None:
                done, total = latest
                left = wb.time_left(done, total, time.perf_counter() - started)
                eta = "" if left is None else f" · about {left:,.0f} s left"
                shown = (min(done / total, 1.0), f"{done:.1f} of {total} simulations done{eta}")
            # drawn on every poll, also without news: that is where a rerun asked for by a
            # changed setting interrupts this thread (a quiet phase must not hold the page)
            bar.progress(shown[0], text=shown[1])
    except BaseException:  # the page reran or stopped: end the runs, say so next time
        stop.set()
        worker.join(1.0)  # the worker ends at its next progress report
        raise
    error = box.get("error")
    if error is None and not ran:  # a cached comparison: nothing ran now
        box["result"] = dataclasses.replace(
            box["result"], reused=box["result"].runs, elapsed_s=time.perf_counter() - started
        )
    outcome = None if error is not None else Outcome(box["result"], scenario_yaml, choice, source)
    if outcome is not None:  # kept before anything is drawn (a rerun may come at any call)
        st.session_state["outcome"] = outcome  # the new run replaces the old one whole
    st.session_state.pop("running", None)
    if isinstance(error, PlannerError):
        bar.empty()
        st.error(str(error))
        return None
    if error is not None:  # a failed run must not show a traceback to the planner
        log.error("comparison failed", exc_info=error)
        bar.empty()
        st.error(f"The simulation stopped: {error}" if str(error) else "The simulation stopped.")
        return None
    assert outcome is not None
    bar.progress(1.0, text=timing_text(outcome.result))
    return outcome


def timing_text(result: wb.Comparison) -> str:
    """How long the comparison's runs took, and how many were reused instead of run."""
    ran = result.runs - result.reused
    if result.runs and not ran:
        runs = "The run" if result.runs == 1 else f"All {result.runs} runs"
        return f"{runs} came from kept results: none ran now"
    text = f"{ran} simulations in {result.elapsed_s:.1f} s on {result.workers} process(es)"
    if result.reused:
        text += f"; {result.reused} reused from earlier comparisons"
    return text


def rebased(outcome: Outcome, scenario_yaml: str, choice: RunChoice | None) -> bool:
    """Only the baseline changed since `outcome` was made (its runs answer the new choice)."""
    return (
        choice is not None
        and outcome.scenario_yaml == scenario_yaml
        and outcome.choice != choice
        and outcome.choice._replace(baseline=choice.baseline) == choice
    )
