"""Fulfilment workbench in the browser: compare routing policies on a scenario.

Start it with ``fulfil app`` (or ``streamlit run app.py``). The page is thin: ``main()``
calls one ``*_ui()`` function per part of the page, each returning the planner's choices,
and the work happens in ``sim/`` behind `st.cache_data`.

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

import contextlib
import dataclasses
import io
import json
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from sim import levers as lv
from sim import workbench as wb
from sim.footprint import Footprint, footprint
from sim.scenario.schema import MAX_SEED, shortened_warmup

log = logging.getLogger("fulfil.app")

HERE = Path(__file__).resolve().parent
SCENARIO_DIR = HERE / "scenarios"
DEFAULT_SCENARIO = "default"
UPLOAD = "your own YAML file"  # the scenario choice (and URL value) for an upload
FALLBACK_POLICIES = ("closest", "ranked", "min_split", "cost", "balance", "store_first", "dc_first")
MAX_REPS = 20
#: Plotly draws the network map on static/usa_110m.json, served by the app (static serving)
#: instead of fetched from plotly's CDN: the workbench needs no internet.
PLOTLY_CONFIG = {"topojsonURL": "app/static/"}
HEADLINE_KPIS = ("cost_per_order", "click_to_door_hours_p90", "fill_rate", "split_rate")

# --- plain data passed between the parts of the page ----------------------------------------


@dataclass(frozen=True)
class ScenarioChoice:
    """The scenario the planner picked, as YAML text plus where it came from.

    Attributes:
        key: Library name (file stem) or `UPLOAD`.
        source: File name shown in messages, e.g. ``"default.yaml"``.
        text: YAML text of the scenario.
    """

    key: str
    source: str
    text: str


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


class PlannerError(Exception):
    """A problem with the planner's input, shown inline in plain words."""


# --- pure functions, cached -------------------------------------------------------------------


@st.cache_data(show_spinner=False)
def library_scenarios(folder: str = str(SCENARIO_DIR)) -> list[str]:
    """Names (file stems) of the scenarios in ``scenarios/``, default first."""
    names = sorted(p.stem for p in Path(folder).glob("*.yaml"))
    if DEFAULT_SCENARIO in names:
        names.remove(DEFAULT_SCENARIO)
        names.insert(0, DEFAULT_SCENARIO)
    return names


@st.cache_data(show_spinner=False)
def read_library_scenario(name: str, folder: str = str(SCENARIO_DIR)) -> str:
    """YAML text of ``scenarios/<name>.yaml``."""
    return (Path(folder) / f"{name}.yaml").read_text(encoding="utf-8")


def _load(text: str, source: str, overrides: dict[str, Any] | None = None) -> Any:
    """Validate YAML text (plus dotted-path overrides) into a `Scenario`.

    Raises:
        PlannerError: any problem, as one line naming the file, the field and the reason.
    """
    from sim.file_kind import data_kind
    from sim.scenario import ScenarioError, apply_overrides, load_scenario
    from sim.scenario.loader import parse_yaml

    data = None
    try:
        data = parse_yaml(text, source)
        if overrides:
            data = apply_overrides(data, overrides, file=source)
        return load_scenario(data)
    except ScenarioError as exc:
        other = _OTHER_FORMATS.get(data_kind(data) or "")
        hint = f" ({other})" if other else ""
        field = f"{exc.field}: " if exc.field else ""
        raise PlannerError(f"{source}: {field}{exc.reason}{hint}") from None


#: What the page adds to the error of a file that looks like another of the project's
#: formats (`sim.file_kind`); the error itself stays, as the guess may be wrong.
_OTHER_FORMATS = {
    "sweep": "this looks like a sweep file, not a scenario: run it with "
    '`fulfil sweep FILE --out DIR`, then open DIR under "Open a sweep\'s results"',
    "rules": "this looks like a policy rules file, not a scenario: start the page with "
    "`fulfil app --policy FILE` to compare its policies",
}


@st.cache_data(show_spinner=False, max_entries=32)
def scenario_data(text: str, source: str) -> dict[str, Any]:
    """The validated scenario as a plain dict with every default filled in.

    Raises:
        PlannerError: the text is not a valid scenario.
    """
    return _load(text, source).resolved()


@st.cache_data(show_spinner=False, max_entries=32)
def edited_scenario_yaml(text: str, source: str, overrides: dict[str, Any]) -> str:
    """The scenario with the lever overrides applied, validated again, as YAML.

    Raises:
        PlannerError: the edited scenario is not valid (e.g. a warm-up longer than the horizon).
    """
    return _load(text, source, overrides).to_yaml()


@st.cache_data(show_spinner=False, max_entries=32)
def idle_warnings(text: str, source: str, overrides: dict[str, Any]) -> list[str]:
    """Settings of the edited scenario that do little or nothing in its run (a peak
    outside the simulated days, ...), as plain sentences."""
    from sim.scenario.idle import idle_settings

    return [f"{field}: {reason}" for field, reason in idle_settings(_load(text, source, overrides))]


@st.cache_data(show_spinner=False)
def changes_yaml(overrides: dict[str, Any]) -> str:
    """The lever overrides as YAML, one dotted path per line."""
    import yaml

    return yaml.safe_dump(overrides, sort_keys=False, default_flow_style=None)


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
) -> wb.Comparison:
    """`sim.workbench.compare_policies` on the edited scenario, cached on its arguments
    (``rules``: the digests of the policies' rules files, so that an edited file runs
    again).

    The differences are taken against the first policy (`Comparison.against` takes them
    against another without running again). Runs kept in `run_store` are reused, and each
    run is kept there as it ends. ``_progress`` (``progress(done, total)``, see
    `sim.workbench.Progress`) and ``_ran`` (gets True appended when this body runs, not
    on a cached answer) are not hashed; a cached answer calls neither.

    Raises:
        PlannerError: the scenario is invalid.
        RunFailed: a run raised.
    """
    if _ran is not None:
        _ran.append(True)
    data = _load(scenario_yaml, "edited scenario").resolved()
    return wb.compare_policies(data, policies, reps, seed, None, _progress, store=run_store())


@st.cache_resource(show_spinner=False, max_entries=32)
def _edited_scenario(scenario_yaml: str) -> Any:
    """The edited scenario as a `Scenario` (kept, not copied: it is not changed)."""
    return _load(scenario_yaml, "edited scenario")


def comparison_size(scenario_yaml: str, choice: RunChoice) -> Footprint:
    """How big the chosen comparison is, and whether it fits in the free memory now."""
    return footprint(_edited_scenario(scenario_yaml), len(choice.policies), choice.reps)


@st.cache_data(show_spinner=False)
def kpi_table(summary: pd.DataFrame) -> pd.DataFrame:
    """`sim.workbench.kpi_table`, cached."""
    return wb.kpi_table(summary)


@st.cache_data(show_spinner=False)
def table_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """A table as CSV or Parquet bytes for a download button."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


# --- the page ---------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    """A value as a link spells it, for a message: ``true``, ``15``, ``8, 20``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_shown(x) for x in value) or "none"
    return str(value)


def _drop_param(key: str) -> None:
    """Take ``key`` out of the URL. A key bound to a widget drawn on the last run cannot be
    taken out by hand; Streamlit drops it itself when this run ends without the widget."""
    from streamlit.errors import StreamlitAPIException

    with contextlib.suppress(StreamlitAPIException):
        st.query_params.pop(key, None)


class LinkCheck:
    """The values of the link the page was opened with, checked as their widgets take them.

    Streamlit drops a URL value its widget cannot show and shows the widget's default
    without a word, so the planner would take the page for the shared view. Each value is
    checked once per session, on the first page run that draws its widget (a lever of an
    uploaded scenario once the file is there); what was ignored is said in one warning in
    ``slot``, e.g. ``days=1000 is above the maximum 366; using 28``.
    """

    def __init__(self, slot: Any) -> None:
        if "link_values" not in st.session_state:  # the first page run: what the link said
            st.session_state["link_values"] = {
                k: st.query_params.get_all(k) for k in st.query_params
            }
        self.left: dict[str, list[str]] = st.session_state["link_values"]  # not checked yet
        self.slot = slot
        self.notes: list[str] = []

    def _take(self, key: str) -> list[str] | None:
        """The link's values of ``key`` (None: the link has none); each is checked once."""
        return self.left.pop(key, None)

    def note(self, text: str) -> None:
        """Add one ignored value to the warning."""
        self.notes.append(text)
        lines = "\n".join(f"- {note}" for note in self.notes)
        self.slot.warning(f"Some values in the link could not be used:\n{lines}")

    def number(self, key: str, lo: float, hi: float, shown: Any, whole: bool = False) -> None:
        """Check a number box's link value against its range ``[lo, hi]``."""
        raw = ",".join(self._take(key) or []) or None
        if raw is None:
            return
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            why = "is not a number"
        elif number < lo:
            why = f"is below the minimum {_shown(lo)}"
        elif number > hi:
            why = f"is above the maximum {_shown(hi)}"
        elif whole and not number.is_integer():
            why = "is not a whole number"
        else:
            return
        self.note(f"`{key}={raw}` {why}; using {_shown(shown)}")

    def pair(self, key: str, lo: float, hi: float, shown: Any) -> None:
        """Check a range slider's two link values against ``[lo, hi]``."""
        values = self._take(key)
        if values is None:
            return
        try:
            numbers = [float(x) for x in values]
        except ValueError:
            numbers = [math.nan]
        if len(numbers) != 2 or not all(math.isfinite(x) for x in numbers):
            why = "is not two numbers (from, to)"
        elif min(numbers) < lo:
            why = f"is below the minimum {_shown(lo)}"
        elif max(numbers) > hi:
            why = f"is above the maximum {_shown(hi)}"
        else:
            return
        self.note(f"`{key}={','.join(values)}` {why}; using {_shown(shown)}")

    def flag(self, key: str, shown: bool) -> None:
        """Check a toggle's link value: ``true`` or ``false``."""
        raw = ",".join(self._take(key) or []) or None
        if raw is not None and raw.strip().lower() not in ("true", "false"):
            self.note(f"`{key}={raw}` is not true or false; using {_shown(shown)}")

    def choice(self, key: str, options: list[str], shown: Any, what: str) -> None:
        """Check a select box's link value: one of ``options`` (``what`` they are)."""
        raw = ",".join(self._take(key) or []) or None
        if raw is not None and raw not in options:
            self.note(f"`{key}={raw}` is not {what}; using {_shown(shown)}")

    def choices(self, key: str, options: list[str], shown: Any, what: str) -> None:
        """Check a multiselect's link values: each one of ``options``."""
        # an empty value is how the page writes no choice at all: nothing to check
        unknown = [x for x in self._take(key) or [] if x and x not in options]
        if unknown:
            names = ", ".join(f"`{key}={x}`" for x in unknown)
            verb = "is" if len(unknown) == 1 else "are"
            self.note(f"{names} {verb} not {what}; using {_shown(shown)}")

    def unused(self, key: str, why: str) -> None:
        """A link value of a setting this page does not show now: left out of the URL."""
        raw = self._take(key)
        _drop_param(key)
        if raw is not None:
            self.note(f"`{key}={','.join(raw)}` is left out: {why}")

    def finish(self) -> None:
        """Once every setting is drawn: the link's keys none of them read (a mistyped name,
        say) are left out of the URL."""
        for key in list(self.left):
            self.unused(key, "the page has no such setting")


def _sync_levers(identity: str, data: dict[str, Any]) -> None:
    """When another scenario is chosen or uploaded, every lever and the seed take that
    scenario's values; on the first page load the widgets keep what the URL says.

    Widgets bound to the URL are changed through `st.session_state` (the browser keeps its
    own copy of a widget's value, so forgetting the old value is not enough).
    """
    shown = st.session_state.get("levers_for")
    st.session_state["levers_for"] = identity
    if shown is None or shown == identity:
        return
    defaults = lv.lever_defaults(data)
    days = int(data.get("horizon_days", 1))
    for lever in lv.LEVERS:
        default = defaults[lever.key]
        if default is None:
            st.session_state.pop(lever.key, None)
            continue
        st.session_state[lever.key] = _widget_range(lever, default, days)[2]
        if lever.empty is not None:
            st.session_state[_empty_key(lever)] = default == lever.empty
    st.session_state["seed"] = int(data.get("seed", 0) or 0)


def _days(days: Any) -> str:
    """``"1 day"``, ``"28 days"``."""
    return f"{days} day" if str(days) == "1" else f"{days} days"


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def scenario_ui(links: LinkCheck) -> ScenarioChoice | None:
    """Scenario picker (library or upload). Returns None when there is nothing to load yet."""
    names = library_scenarios()
    options = [*names, UPLOAD]
    key = st.sidebar.selectbox(
        "Scenario",
        options,
        index=0,
        key="scenario",
        bind="query-params",
        help="Scenarios from the scenarios/ folder, or your own YAML file.",
    )
    links.choice("scenario", options, key, f"a scenario of the library ({', '.join(names)})")
    if key != UPLOAD:
        return ScenarioChoice(key, f"{key}.yaml", read_library_scenario(key))
    upload = st.sidebar.file_uploader("Scenario YAML", type=["yaml", "yml"], key="upload")
    if upload is None:
        st.info("Upload a scenario YAML file in the sidebar to start.")
        return None
    try:
        text = upload.getvalue().decode("utf-8")
    except UnicodeDecodeError:
        st.error(f"{upload.name}: this file is not UTF-8 text, so it cannot be a YAML scenario.")
        return None
    return ScenarioChoice(UPLOAD, upload.name, text)


def _widget_range(lever: lv.Lever, default: Any, days: int) -> tuple[Any, Any, Any]:
    """``(lowest, highest, value)`` of a lever's widget: the lever's range, widened to hold
    the scenario's own value, and that value as the widget shows it. ``days`` is the
    horizon an outage must start within."""
    if lever.kind == "bool":
        return None, None, bool(default)
    if lever.kind == "choice":
        return None, None, lv.NO_OUTAGE
    if lever.kind == "range":
        low, high = (float(x) for x in default)
        return min(float(lever.lo), low), max(float(lever.hi), high), (low, high)
    number = int if lever.kind == "int" else float
    if default == lever.empty:  # the box (hidden behind its toggle) starts at the top
        return number(lever.lo), number(lever.hi), number(lever.hi)
    value = number(default)
    lo, hi = min(number(lever.lo), value), max(number(lever.hi), value)
    if lever.key == "outage_start":  # at first the day the (maybe shortened) warm-up ends
        hi = max(0, days - 1)
        value = min(shortened_warmup(value, days), hi)
    return lo, hi, value


def _empty_key(lever: lv.Lever) -> str:
    """Key (and URL name) of the toggle that sets a lever to its `Lever.empty` value."""
    return f"no_{lever.key}"


def _keep_within(key: str, allowed: Callable[[Any], Any]) -> None:
    """Before a bound widget is drawn: move its remembered value into what it may show now
    (``allowed(value)``). Streamlit would reset a value that left the options or range
    (the baseline after its policy was dropped, an outage start beyond a shortened
    horizon) but leave the old value in the URL; set here, the URL follows, and a copied
    link shows the same view."""
    if key in st.session_state:
        value = st.session_state[key]
        fixed = allowed(value)
        if fixed != value:
            st.session_state[key] = fixed


def _keep_in_range(key: str, lo: int, hi: int) -> None:
    """`_keep_within` for a whole-number box: its remembered value moved into [lo, hi]."""
    _keep_within(key, lambda v: min(max(v, lo), hi) if isinstance(v, int) else v)


def _lever_widget(
    lever: lv.Lever,
    default: Any,
    data: dict[str, Any],
    days: int,
    links: LinkCheck,
    off: str | None = None,
) -> Any:
    """Draw one lever bound to the URL; returns its value.

    A lever with an `empty` meaning (the ship-from-store limit: no limit) gets a toggle
    for it; the number box shows only when the toggle is off. ``off``: why the lever has
    no effect now (it is then shown disabled, with that reason).
    """
    lo, hi, value = _widget_range(lever, default, days)
    if lever.key == "outage_start":
        return _outage_start_widget(lever, lo, hi, value, links)
    common: dict[str, Any] = {
        "key": lever.key,
        "help": f"{lever.help} {off}" if off else lever.help,
        "bind": "query-params",
        "disabled": off is not None,
    }
    if lever.empty is not None:
        empty = st.toggle(
            f"{lever.label}: {lever.empty}",
            value=default == lever.empty,
            key=_empty_key(lever),
            bind="query-params",
            disabled=off is not None,
        )
        links.flag(_empty_key(lever), empty)
        if empty:
            links.unused(lever.key, f"{lever.label} is set to {lever.empty}")
            if off:
                st.caption(off)
            return lever.empty
    if lever.kind == "bool":
        shown = st.toggle(lever.title, value=value, **common)
        links.flag(lever.key, shown)
    elif lever.kind == "choice":
        options = [lv.NO_OUTAGE, *lv.location_ids(data)]
        shown = st.selectbox(lever.title, options, index=0, **common)
        links.choice(lever.key, options, shown, "a location of this scenario")
    elif lever.kind == "range":
        shown = st.slider(lever.title, lo, hi, value, float(lever.step), format="%g", **common)
        links.pair(lever.key, lo, hi, shown)
    elif lever.kind == "int":
        _keep_in_range(lever.key, lo, hi)
        shown = st.number_input(lever.title, lo, hi, value, int(lever.step), **common)
        links.number(lever.key, lo, hi, shown, whole=True)
    else:
        shown = st.number_input(
            lever.title, lo, hi, value, float(lever.step), format="%g", **common
        )
        links.number(lever.key, lo, hi, shown)
    if off:
        st.caption(off)
    return shown


def _outage_start_widget(lever: lv.Lever, lo: int, hi: int, value: int, links: LinkCheck) -> int:
    """The outage start, kept in the URL by hand: its first value follows the horizon (the
    day the shortened warm-up ends), and a value bound to the URL is left out of it when it
    equals the first value, so a link opened later, at another horizon, would start the
    outage elsewhere. Written always, the link reproduces the run."""
    key = lever.key
    if key not in st.session_state:  # a link's value, when it fits
        text = st.query_params.get(key, "")
        if text.strip().isdigit() and lo <= int(text) <= hi:
            st.session_state[key] = int(text)
    _keep_in_range(key, lo, hi)
    start = st.number_input(
        lever.title, lo, hi, value if key not in st.session_state else None, int(lever.step),
        key=key, help=lever.help,
    )  # fmt: skip
    links.number(key, lo, hi, start, whole=True)
    st.query_params[key] = str(start)
    return int(start)


#: Why a lever has no effect while another lever has a value: lever key -> (the other
#: lever's key, that value, the reason shown).
NO_EFFECT = {
    "sfs_limit": (
        "sfs",
        False,
        "Ship from store is off, so no store ships online orders and this limit has no effect.",
    ),
}


def levers_ui(data: dict[str, Any], box: Any, links: LinkCheck) -> dict[str, Any]:
    """Lever widgets in ``box``, grouped, with units; returns lever key -> value."""
    defaults = lv.lever_defaults(data)
    values: dict[str, Any] = {}
    groups = list(dict.fromkeys(lever.group for lever in lv.LEVERS))
    for group in groups:
        with box.expander(group, expanded=group in ("Horizon", "Demand")):
            for lever in (x for x in lv.LEVERS if x.group == group):
                if defaults[lever.key] is None:
                    st.caption(f"{lever.label}: not used by this scenario.")
                    why = f"{lever.label} is not used by this scenario"
                    links.unused(lever.key, why)  # no widget would drop it from the URL
                    if lever.empty is not None:
                        links.unused(_empty_key(lever), why)
                    continue
                if lever.key.startswith("outage_") and values.get("outage") == lv.NO_OUTAGE:
                    links.unused(lever.key, "no outage location is chosen")
                    continue
                days = int(values.get("days") or data.get("horizon_days", 1))
                other, value, reason = NO_EFFECT.get(lever.key, (None, None, None))
                off = reason if other is not None and values.get(other) == value else None
                values[lever.key] = _lever_widget(
                    lever, defaults[lever.key], data, days, links, off
                )
    return values


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
    _keep_within("baseline", lambda b: b if b in policies else (policies or ["–"])[0])
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


def execute(scenario_yaml: str, choice: RunChoice, source: str, slot: Any = None) -> Outcome | None:
    """Run the comparison with a progress bar; errors are shown inline, never raised.

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
                scenario_yaml, choice.policies, choice.reps, choice.seed, rules, progress, ran
            ).against(choice.baseline)
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
    bar.progress(1.0, text=_timing(outcome.result))
    return outcome


def _timing(result: wb.Comparison) -> str:
    """How long the comparison's runs took, and how many were reused instead of run."""
    ran = result.runs - result.reused
    if result.runs and not ran:
        runs = "The run" if result.runs == 1 else f"All {result.runs} runs"
        return f"{runs} came from kept results: none ran now"
    text = f"{ran} simulations in {result.elapsed_s:.1f} s on {result.workers} process(es)"
    if result.reused:
        text += f"; {result.reused} reused from earlier comparisons"
    return text


def results_ui(outcome: Outcome) -> None:
    """KPI table with intervals and differences, then the charts."""
    st.subheader("KPIs")
    choice, result = outcome.choice, outcome.result
    labels = wb.policy_labels(choice.policies)  # short names of rules-file policies
    baseline = labels.get(choice.baseline, choice.baseline)
    means = (
        f"Means over {choice.reps} replications with 95% confidence intervals"
        if choice.reps > 1
        else "Means of one replication (no intervals: run 2 or more for them)"
    )
    if len(choice.policies) > 1:  # one policy has nothing to take differences against
        means += f"; differences against **{baseline}** are paired by replication"
    st.caption(f"{means}. {_timing(result)}.")
    table = kpi_table(wb.labelled(result.summary, labels))
    st.dataframe(
        table,
        width="stretch",
        height=35 * (len(table) + 1) + 3,
        column_config=_kpi_columns(labels, choice.baseline),
    )
    shortened = [f"`{label}` is `{spec}`" for spec, label in labels.items() if label != spec]
    if shortened:
        st.caption("Rules-file policies are shown by name: " + "; ".join(shortened) + ".")
    with st.expander("KPIs of every run"):
        st.dataframe(result.per_run, width="stretch", hide_index=True)
    charts_ui(outcome)


def _kpi_columns(labels: dict[str, str], baseline: str) -> dict[str, Any]:
    """The KPI table's column settings: KPI names whole, and a shortened policy's header
    with its full spec as help (also on its difference column)."""
    columns: dict[str, Any] = {"_index": st.column_config.TextColumn("KPI", width=200)}
    base = labels.get(baseline, baseline)
    for spec, label in labels.items():
        if label != spec:
            columns[label] = st.column_config.TextColumn(label, help=spec)
        if spec != baseline and (label != spec or base != baseline):
            diff = f"{label} − {base}"
            columns[diff] = st.column_config.TextColumn(diff, help=f"{spec} − {baseline}")
    return columns


def _chart(title: str, build: Callable[[], Any], key: str) -> None:
    """Draw one figure under its own ``key``; a chart that cannot be drawn says so instead
    of failing the page.

    The key is needed: without one Streamlit names a chart by its figure, and two equal
    figures (the "Another KPI" chart showing a headline KPI) would stop the page.
    """
    try:
        st.plotly_chart(build(), width="stretch", config=PLOTLY_CONFIG, key=key)
    except Exception as exc:
        log.exception("chart %s failed", title)
        st.warning(f"{title}: this chart could not be drawn ({exc}).")


@st.cache_data(show_spinner=False, max_entries=8)
def horizon_days(scenario_yaml: str) -> int:
    """Simulated days with demand of a (resolved) scenario."""
    import yaml

    return int(yaml.safe_load(scenario_yaml)["horizon_days"])


@st.cache_data(show_spinner=False, max_entries=8)
def network_frames(scenario_yaml: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Locations (id, kind, lat, lon) and demand regions (id, lat, lon) of a scenario."""
    from sim.scenario.build import build_network

    network = build_network(_load(scenario_yaml, "edited scenario"))
    locations = pd.DataFrame(
        {
            "id": [x.id for x in network.locations],
            "kind": [str(x.kind) for x in network.locations],
            "lat": [x.lat for x in network.locations],
            "lon": [x.lon for x in network.locations],
        }
    )
    regions = pd.DataFrame(
        [{"id": r.id, "lat": r.lat, "lon": r.lon} for r in getattr(network, "regions", ())],
        columns=["id", "lat", "lon"],
    )
    return locations, regions


def _of_policy(frame: pd.DataFrame | None, policy: str) -> pd.DataFrame:
    if frame is None or frame.empty or "policy" not in frame.columns:
        return frame if frame is not None else pd.DataFrame()
    return frame[frame["policy"].astype(str) == policy]


@st.fragment
def charts_ui(outcome: Outcome) -> None:
    """The `sim.figures` charts, in tabs; per-location charts show one chosen policy.

    A fragment: a chart's own option reruns only the charts, so choosing one while a new
    comparison runs does not stop it (a change to the scenario or the run does).
    """
    from sim import figures

    labels = wb.policy_labels(outcome.choice.policies)  # short names on axes and legends
    tables = {name: wb.labelled(t, labels) for name, t in outcome.result.tables.items()}
    orders = tables.get("orders", pd.DataFrame())
    summary = wb.labelled(outcome.result.summary, labels)
    names = ["KPIs", "Cost vs speed", "Click to door", "Cost", "Network", "Stores", "ATS"]
    tabs = st.tabs(names, key="result_tabs")  # keyed: the open tab survives reruns
    with tabs[0]:
        baseline = labels.get(outcome.choice.baseline, outcome.choice.baseline)
        differences = f"differences against {baseline}"
        # a new baseline keeps the differences in view, against it
        _keep_within("chart_view", lambda v: differences if v.startswith("differences") else v)
        shown = st.radio(
            "Show",
            ["means", differences],
            horizontal=True,
            key="chart_view",
            help="Differences are paired by replication: their intervals say whether a policy "
            "really differs from the baseline, where two means' intervals may overlap.",
        )
        paired = shown != "means" and len(outcome.choice.policies) > 1
        if shown != "means" and not paired:
            st.caption(
                "One policy only: no other to take differences against, so the "
                "charts show its means."
            )
        cols = st.columns(2)
        for i, kpi in enumerate(HEADLINE_KPIS):
            with cols[i % 2]:
                _chart(
                    kpi,
                    lambda kpi=kpi: figures.kpi_bars(summary, kpi, difference=paired),
                    f"chart_{kpi}",
                )
        kpis = list(wb.KPI_UNITS)
        other = st.selectbox("Another KPI", kpis, kpis.index("on_time_rate"), key="chart_kpi")
        _chart(
            other,
            lambda: figures.kpi_bars(summary, other, difference=paired),
            "chart_other_kpi",
        )
    with tabs[1]:
        _chart("Cost vs speed", lambda: figures.cost_speed_tradeoff(summary), "chart_cost_speed")
    with tabs[2]:
        _chart("Click-to-door ECDF", lambda: figures.click_to_door_ecdf(orders), "chart_ecdf")
    with tabs[3]:
        _chart("Cost breakdown", lambda: figures.cost_breakdown(orders), "chart_cost")
    policies = [labels[p] for p in outcome.choice.policies]
    with tabs[4]:
        policy = st.selectbox("Policy", policies, key="map_policy") if policies else ""

        def build_map() -> Any:
            locations, regions = network_frames(outcome.scenario_yaml)
            result = SimpleNamespace(
                shipments=_of_policy(tables.get("shipments"), policy),
                orders=_of_policy(orders, policy),
            )
            return figures.network_map(result, locations, regions)

        _chart("Network map", build_map, "chart_map")
        if not st.get_option("server.enableStaticServing"):
            st.caption(
                "The map's US outline is served by the app itself: start the workbench with "
                "`fulfil app` (or from the repository root, which has `.streamlit/config.toml`)."
            )
    with tabs[5]:
        _chart(
            "Walk-in sales lost",
            lambda: figures.walk_in_lost(tables.get("utilisation")),
            "chart_walk_in",
        )
        policy = (
            st.selectbox("Workload of policy", policies, key="store_policy") if policies else ""
        )
        _chart(
            "Store workload",
            lambda: figures.store_workload(_of_policy(tables.get("shipments"), policy)),
            "chart_workload",
        )
    with tabs[6]:
        _chart(
            "ATS over time",
            lambda: figures.ats_over_time(
                tables.get("inventory"), horizon_days=horizon_days(outcome.scenario_yaml)
            ),
            "chart_ats",
        )
    st.caption(
        "The KPI table and the KPI and cost-versus-speed charts average every replication; "
        "the other charts show replication 0 of each policy."
    )


def downloads_ui(outcome: Outcome | None, scenario_yaml: str | None, source: str) -> None:
    """Download buttons: results as CSV and Parquet (named after the scenario they came
    from), the edited scenario as the page shows it now, as YAML (the last run's when
    ``scenario_yaml`` is None: the page has no valid scenario now)."""
    st.subheader("Downloads")
    cols = st.columns(5)
    if scenario_yaml is None and outcome is not None:
        st.caption(f"These files are the last run's (`{outcome.source}`), its scenario included.")
        scenario_yaml, source = outcome.scenario_yaml, outcome.source
    if scenario_yaml is None:
        return
    cols[0].download_button(
        "Scenario (YAML)",
        scenario_yaml,
        f"{Path(source).stem}-edited.yaml",
        "application/x-yaml",
        on_click="ignore",
        key="download_scenario",
    )
    if outcome is None:
        return
    stem = Path(outcome.source).stem
    if outcome.scenario_yaml != scenario_yaml:
        st.caption(
            f"The result files are from the last run (`{outcome.source}`), made before the "
            "settings changed; the scenario file is the one shown now."
        )
    tables = (("summary", outcome.result.summary), ("runs", outcome.result.per_run))
    for i, (name, frame) in enumerate(tables):
        cols[1 + 2 * i].download_button(
            f"{name.title()} (CSV)",
            table_bytes(frame, "csv"),
            f"{stem}-{name}.csv",
            "text/csv",
            on_click="ignore",
            key=f"download_{name}_csv",
        )
        cols[2 + 2 * i].download_button(
            f"{name.title()} (Parquet)",
            table_bytes(frame, "parquet"),
            f"{stem}-{name}.parquet",
            "application/vnd.apache.parquet",
            on_click="ignore",
            key=f"download_{name}_parquet",
        )


@st.cache_data(show_spinner=False)
def sweep_results(folder: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A sweep's summary and Pareto frontier, read from its ``--out`` folder."""
    from sim.sweep import load_sweep_results

    return load_sweep_results(folder)


def sweep_ui() -> None:
    """Open the results folder of a `fulfil sweep` and show its Pareto frontier."""
    with st.expander("Open a sweep's results (fulfil sweep --out DIR)"):
        typed = st.text_input("Results folder", key="sweep_folder", placeholder="results/sweep1")
        if not typed:
            return
        if not typed.strip():
            st.warning(
                "The folder name is blank: type the folder `fulfil sweep --out` wrote, "
                "e.g. results/sweep1."
            )
            return
        folder = os.path.expanduser(typed.strip())  # ~ is the home folder, as in a shell
        try:
            summary, frontier = sweep_results(folder)
        except (FileNotFoundError, NotADirectoryError, ValueError, OSError) as exc:
            st.error(str(exc) if str(exc).startswith(folder) else f"{folder}: {exc}")
            return
        from sim.sweep import frontier_figure

        st.plotly_chart(frontier_figure(summary), key="sweep_frontier")
        st.caption(f"{len(summary)} case x policy rows, {len(frontier)} on the frontier.")
        st.dataframe(frontier, hide_index=True)


def _rebased(outcome: Outcome, scenario_yaml: str, choice: RunChoice | None) -> bool:
    """Only the baseline changed since `outcome` was made (its runs answer the new choice)."""
    return (
        choice is not None
        and outcome.scenario_yaml == scenario_yaml
        and outcome.choice != choice
        and outcome.choice._replace(baseline=choice.baseline) == choice
    )


def last_results_ui(top: Any, reason: str) -> None:
    """The last comparison's results and downloads, kept in view while the page has no
    valid input to run again (a lever error, no scenario or a bad one), said so in `top`."""
    last: Outcome | None = st.session_state.get("outcome")
    if last is None:
        return
    top.info(f"These results are from the last run (`{last.source}`), {reason}.")
    results_ui(last)
    downloads_ui(last, None, last.source)


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
    _sync_levers(f"{choice.key}:{choice.source}:{_digest(choice.text)}", data)
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
    if clicked and size is not None and not size.fits:  # it would run the machine out of memory
        slot.error(size.refusal())
    elif clicked and run_choice is not None:
        outcome = execute(scenario_yaml, run_choice, choice.source, slot)
    elif outcome is not None and _rebased(outcome, scenario_yaml, run_choice):
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
