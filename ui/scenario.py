"""The scenario part of the page: pick one from ``scenarios/`` or upload a YAML file, and
the cached steps that validate it, edit it with the levers and say what it leaves idle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from ui.links import LinkCheck

HERE = Path(__file__).resolve().parents[1]  # the repository root
SCENARIO_DIR = HERE / "scenarios"
DEFAULT_SCENARIO = "default"
UPLOAD = "your own YAML file"  # the scenario choice (and URL value) for an upload


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


class PlannerError(Exception):
    """A problem with the planner's input, shown inline in plain words."""


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


def load_text(text: str, source: str, overrides: dict[str, Any] | None = None) -> Any:
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
    return load_text(text, source).resolved()


@st.cache_resource(show_spinner=False, max_entries=32)
def edited_scenario(scenario_yaml: str) -> Any:
    """The edited scenario (`edited_scenario_yaml`) as a `Scenario`, kept, not copied:
    nothing changes it.

    Raises:
        PlannerError: the text is not a valid scenario.
    """
    return load_text(scenario_yaml, "edited scenario")


@st.cache_data(show_spinner=False, max_entries=32)
def edited_scenario_yaml(text: str, source: str, overrides: dict[str, Any]) -> str:
    """The scenario with the lever overrides applied, validated again, as YAML.

    Raises:
        PlannerError: the edited scenario is not valid (e.g. a warm-up longer than the horizon).
    """
    return load_text(text, source, overrides).to_yaml()


@st.cache_data(show_spinner=False, max_entries=32)
def idle_warnings(text: str, source: str, overrides: dict[str, Any]) -> list[str]:
    """Settings of the edited scenario that do little or nothing in its run (a peak
    outside the simulated days, ...), as plain sentences."""
    from sim.scenario.idle import idle_settings

    return [
        f"{field}: {reason}" for field, reason in idle_settings(load_text(text, source, overrides))
    ]


@st.cache_data(show_spinner=False)
def changes_yaml(overrides: dict[str, Any]) -> str:
    """The lever overrides as YAML, one dotted path per line."""
    import yaml

    return yaml.safe_dump(overrides, sort_keys=False, default_flow_style=None)


def digest(text: str) -> str:
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
