"""The results part of the page: the KPI table, the charts of `sim.figures`, the downloads
and a sweep's frontier."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import streamlit as st

from sim import workbench as wb
from ui.comparison import Outcome, timing_text
from ui.levers import keep_within
from ui.scenario import edited_scenario

log = logging.getLogger("fulfil.app")

#: Plotly draws the network map on static/usa_110m.json, served by the app (static serving)
#: instead of fetched from plotly's CDN: the workbench needs no internet.
PLOTLY_CONFIG = {"topojsonURL": "app/static/"}
HEADLINE_KPIS = ("cost_per_order", "click_to_door_hours_p90", "fill_rate", "split_rate")


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
    st.caption(f"{means}. {timing_text(result)}.")
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

    network = build_network(edited_scenario(scenario_yaml))
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
        keep_within("chart_view", lambda v: differences if v.startswith("differences") else v)
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
    formats = (("csv", "CSV", "text/csv"), ("parquet", "Parquet", "application/vnd.apache.parquet"))
    buttons = [(name, frame, fmt) for name, frame in tables for fmt in formats]
    for col, (name, frame, (ext, shown, mime)) in zip(cols[1:], buttons, strict=True):
        col.download_button(
            f"{name.title()} ({shown})",
            table_bytes(frame, ext),
            f"{stem}-{name}.{ext}",
            mime,
            on_click="ignore",
            key=f"download_{name}_{ext}",
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
