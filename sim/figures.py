"""Plotly figure builders shared by the app and the notebooks.

Every builder takes tidy tables (pandas DataFrames, or `RunResult` objects whose tables
are used) and returns a `plotly.graph_objects.Figure`; none of them shows it. An empty or
missing table gives an empty figure with a "no data" note instead of an error, so the app
can draw a half-finished run.

Times are simulation hours from the scenario start (``*_h`` columns); money is USD.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from sim.kpis import KPI_UNITS, online_mask
from sim.records import concat

__all__ = [
    "ats_over_time",
    "click_to_door_ecdf",
    "cost_breakdown",
    "cost_speed_tradeoff",
    "kpi_bars",
    "network_map",
    "policy_colours",
    "store_workload",
    "table",
    "walk_in_lost",
]

STORE_KINDS = ("store", "dark_store")
ECDF_POINTS = 400  # points drawn per ECDF curve; quantiles keep big runs light in the browser


def table(data: Any, name: str) -> pd.DataFrame:
    """Return one tidy table from a DataFrame, a `RunResult` or several of them.

    Args:
        data: A DataFrame (returned as is), an object with attribute ``name`` (a
            `RunResult`), a mapping or iterable of such objects (tables concatenated with
            `sim.records.concat`, categorical columns kept), or None (an empty table).
        name: Table attribute, e.g. ``"orders"`` or ``"shipments"``.

    Returns:
        The table; possibly empty.
    """
    if data is None:
        return pd.DataFrame()
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, name):
        return getattr(data, name)
    items = data.values() if isinstance(data, Mapping) else data
    frames = [table(x, name) for x in items] if isinstance(items, Iterable) else []
    frames = [f for f in frames if not f.empty]
    return concat(frames) if frames else pd.DataFrame()


def policy_colours(policies: Iterable[str]) -> dict[str, str]:
    """Stable colour per policy (in first-seen order) so every chart agrees."""
    palette = qualitative.Plotly
    return {p: palette[i % len(palette)] for i, p in enumerate(dict.fromkeys(policies))}


#: Columns that tell one run's rows from another's in tables of several runs.
RUN_COLUMNS = ("scenario", "policy", "replication", "seed")


def _run_keys(frame: pd.DataFrame) -> list[str]:
    return [c for c in RUN_COLUMNS if c in frame.columns]


def _runs(frame: pd.DataFrame) -> int:
    """How many runs the rows of `frame` come from (1 without run columns)."""
    keys = _run_keys(frame)
    return max(1, len(frame[keys].drop_duplicates())) if keys and not frame.empty else 1


def _per_run(title: str, runs: int) -> str:
    return title if runs == 1 else f"{title}, mean of {runs} runs"


def _empty(title: str, note: str = "no data") -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, xaxis_visible=False, yaxis_visible=False)
    fig.add_annotation(text=note, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    return fig


def _has(df: pd.DataFrame, *columns: str) -> bool:
    return df is not None and not df.empty and all(c in df.columns for c in columns)


def _measured(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders that count towards KPIs: online orders created after the warm-up."""
    keep = np.ones(len(orders), dtype=bool)
    if "in_warmup" in orders.columns:
        keep &= ~orders["in_warmup"].to_numpy(dtype=bool)
    keep &= online_mask(orders)
    return orders if keep.all() else orders[keep]


def _policies(df: pd.DataFrame) -> list[str]:
    if "policy" not in df.columns:
        return [""]
    return list(dict.fromkeys(df["policy"].astype(str)))


def _by_policy(df: pd.DataFrame) -> Iterable[tuple[str, pd.DataFrame]]:
    if "policy" not in df.columns:
        yield "", df
        return
    for policy in _policies(df):
        yield policy, df[df["policy"].astype(str) == policy]


def kpi_axis(kpi: str) -> str:
    """Axis title of a KPI with its unit, e.g. ``"cost_per_order (USD)"``."""
    unit = KPI_UNITS.get(kpi)
    return f"{kpi} ({unit})" if unit and unit != kpi else kpi


def kpi_bars(compare_df: pd.DataFrame, kpi: str, difference: bool = False) -> go.Figure:
    """Bar per policy of one KPI's mean with its 95% confidence interval, or of its paired
    difference against the baseline.

    Args:
        compare_df: Output of `sim.compare.compare` (columns policy, kpi, mean, ci_low,
            ci_high; with `difference` also baseline, diff, diff_low, diff_high).
        kpi: KPI name, e.g. ``"cost_per_order"``.
        difference: Show ``policy - baseline`` (paired by replication) for every policy
            but the baseline, around a line at 0.

    Returns:
        One `go.Bar` trace (one bar per policy); error bars are absent where the interval
        is NaN (a single replication). A KPI undefined for every policy (e.g. no BOPIS
        order) gives an empty chart that says so.
    """
    title = kpi
    if not _has(compare_df, "policy", "kpi", "mean"):
        return _empty(title)
    rows = compare_df[compare_df["kpi"] == kpi]
    if rows.empty:
        return _empty(title, f"no KPI {kpi!r}")
    value, low, high = ("diff", "diff_low", "diff_high") if difference else (
        "mean", "ci_low", "ci_high"
    )  # fmt: skip
    if difference:
        if not _has(rows, "baseline", "diff"):
            return _empty(title, "no differences")
        baseline = str(rows["baseline"].iloc[0])
        rows = rows[rows["policy"].astype(str) != baseline]
        title = f"{kpi}: policy − {baseline}"
    mid = rows[value].to_numpy(float)
    if rows.empty or np.isnan(mid).all():
        return _empty(title, "no value: nothing to measure (e.g. no such orders)")
    lo = rows.get(low, pd.Series(np.nan, index=rows.index)).to_numpy(float)
    hi = rows.get(high, pd.Series(np.nan, index=rows.index)).to_numpy(float)
    colours = policy_colours(compare_df["policy"])
    fig = go.Figure(
        go.Bar(
            x=rows["policy"].astype(str),
            y=mid,
            marker_color=[colours[p] for p in rows["policy"]],
            error_y={"type": "data", "array": hi - mid, "arrayminus": mid - lo},
            hovertemplate="%{x}: %{y:.4g}<extra></extra>",
        )
    )
    axis = kpi_axis(kpi)
    fig.update_layout(
        title=title,
        xaxis_title="policy",
        yaxis_title=f"difference in {axis}" if difference else axis,
        showlegend=False,
    )
    if difference:
        fig.add_hline(y=0, line_width=1, line_color="grey")
    return fig


def click_to_door_ecdf(results: Any) -> go.Figure:
    """Empirical CDF of click-to-door time per policy (delivered ship / same-day orders).

    Args:
        results: Orders table(s): a DataFrame, a `RunResult`, or several (columns policy,
            method, created_h, delivered_h, in_warmup).

    Returns:
        One `go.Scatter` step line per policy; x in hours, y the share of orders.
    """
    title = "Click-to-door time"
    orders = table(results, "orders")
    if not _has(orders, "created_h", "delivered_h"):
        return _empty(title)
    orders = _measured(orders)
    if "method" in orders.columns:
        orders = orders[orders["method"].astype(str).isin(["ship", "same_day"])]
    orders = orders[orders["delivered_h"].notna()]
    if orders.empty:
        return _empty(title, "no delivered orders")
    colours = policy_colours(_policies(orders))
    fig = go.Figure()
    for policy, part in _by_policy(orders):
        hours = np.sort((part["delivered_h"] - part["created_h"]).to_numpy(float))
        if hours.size > ECDF_POINTS:
            share = np.linspace(0.0, 1.0, ECDF_POINTS)
            hours = np.quantile(hours, share)
        else:
            share = np.arange(1, hours.size + 1) / hours.size
        fig.add_trace(
            go.Scatter(
                x=hours,
                y=share,
                mode="lines",
                line={"shape": "hv", "color": colours[policy]},
                name=policy or "orders",
            )
        )
    fig.update_layout(
        title=title, xaxis_title="hours from click to door", yaxis_title="share of orders"
    )
    return fig


def cost_breakdown(results: Any) -> go.Figure:
    """Shipping and handling cost per order, stacked, by policy.

    Costs are divided by orders with at least one package, as the ``cost_per_order`` KPI.

    Args:
        results: Orders table(s) (columns policy, packages, shipping_cost, handling_cost,
            in_warmup).

    Returns:
        Two `go.Bar` traces, "shipping" and "handling". [USD/order]
    """
    title = "Cost per order"
    orders = table(results, "orders")
    if not _has(orders, "shipping_cost", "handling_cost"):
        return _empty(title)
    orders = _measured(orders)
    if "packages" in orders.columns:
        orders = orders[orders["packages"] > 0]
    names, shipping, handling = [], [], []
    for policy, part in _by_policy(orders):
        if part.empty:
            continue
        names.append(policy or "all")
        shipping.append(float(part["shipping_cost"].sum()) / len(part))
        handling.append(float(part["handling_cost"].sum()) / len(part))
    if not names:
        return _empty(title, "no shipped orders")
    fig = go.Figure(
        [
            go.Bar(name="shipping", x=names, y=shipping),
            go.Bar(name="handling", x=names, y=handling),
        ]
    )
    fig.update_layout(
        title=title, barmode="stack", xaxis_title="policy", yaxis_title="USD per order"
    )
    return fig


def _locations_frame(network: Any) -> pd.DataFrame:
    if isinstance(network, pd.DataFrame):
        return network
    if network is None:
        return pd.DataFrame(columns=["id", "kind", "lat", "lon"])
    return pd.DataFrame(
        {
            "id": [x.id for x in network.locations],
            "kind": [str(x.kind) for x in network.locations],
            "lat": [x.lat for x in network.locations],
            "lon": [x.lon for x in network.locations],
        }
    )


def _regions_frame(network: Any, regions: Any) -> pd.DataFrame:
    if isinstance(regions, pd.DataFrame):
        return regions
    source = regions if regions is not None else getattr(network, "regions", ())
    return pd.DataFrame(
        [{"id": r.id, "lat": r.lat, "lon": r.lon} for r in source], columns=["id", "lat", "lon"]
    )


def _flows(
    shipments: pd.DataFrame, orders: pd.DataFrame, max_flows: int, runs: int
) -> pd.DataFrame:
    """Units per location -> region, per run over `runs` runs, the largest `max_flows`."""
    if not (_has(orders, "order_id", "region") and _has(shipments, "order_id", "location")):
        return pd.DataFrame(columns=["location", "region", "units"])
    keys = ["order_id"] + [c for c in _run_keys(shipments) if c in orders]
    joined = shipments.merge(orders[[*keys, "region"]].drop_duplicates(keys), on=keys)
    flows = joined.groupby(["location", "region"], as_index=False, observed=True)["units"].sum()
    flows["units"] = flows["units"] / runs
    return flows.nlargest(max_flows, "units")


def _contiguous(lat: Any, lon: Any) -> np.ndarray:
    """Whether each point lies in the contiguous United States (a bounding box). [deg]"""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    return (lat > 24.0) & (lat < 50.0) & (lon > -125.5) & (lon < -66.0)


def network_map(result: Any, network: Any, regions: Any = None, max_flows: int = 300) -> go.Figure:
    """Map of locations sized by shipped units, with flows to demand regions.

    With the orders at hand, only the orders the KPIs count (online, created after the
    warm-up) are drawn: wholesale orders go to wholesale DCs under every policy. Packages
    rejected at pick shipped nothing and are left out.

    Args:
        result: A `RunResult` (its ``shipments`` and ``orders``), or a shipments DataFrame
            (then no flows are drawn); several runs give the mean per run (the title
            says of how many).
        network: An `engine.Network`, or a DataFrame with columns id, kind, lat, lon.
        regions: Demand regions as a DataFrame (id, lat, lon) or `Region` objects;
            None = ``network.regions``.
        max_flows: Largest location -> region flows drawn (by units). [-]

    Returns:
        One `go.Scattergeo` line trace "flows" (when there are flows; flows to or from
        Alaska and Hawaii, insets of the Albers USA map, are not drawn and the trace's
        name says so), then one marker trace per location kind.
    """
    title = "Network and flows"
    locations = _locations_frame(network)
    if not _has(locations, "id", "lat", "lon"):
        return _empty(title)
    shipments = table(result, "shipments")
    orders = table(result, "orders") if not isinstance(result, pd.DataFrame) else pd.DataFrame()
    if _has(shipments, "status"):
        shipments = shipments[shipments["status"].astype(str) != "rejected"]
    runs = _runs(shipments)
    title = _per_run(title, runs)
    if _has(orders, "order_id") and _has(shipments, "order_id"):  # what the KPIs count
        keys = ["order_id"] + [c for c in _run_keys(shipments) if c in orders]
        shipments = shipments.merge(_measured(orders)[keys].drop_duplicates(), on=keys)
    units = (
        shipments.groupby("location", observed=True)["units"].sum() / runs
        if _has(shipments, "location", "units")
        else pd.Series(dtype=float)
    )
    locations = locations.assign(units=locations["id"].map(units).fillna(0).to_numpy(float))
    fig = go.Figure()
    region_xy = _regions_frame(network, regions).set_index("id")
    flows = _flows(shipments, orders, max_flows, runs)
    flows = flows[flows["region"].isin(region_xy.index) & flows["location"].isin(locations["id"])]
    loc_xy = locations.set_index("id")
    # Albers USA draws Alaska and Hawaii as insets: a line to them would cross the map
    drawable = _contiguous(
        region_xy.loc[flows["region"], "lat"], region_xy.loc[flows["region"], "lon"]
    ) & _contiguous(loc_xy.loc[flows["location"], "lat"], loc_xy.loc[flows["location"], "lon"])
    left_out = int((~drawable).sum())
    flows = flows[drawable]
    if not flows.empty:
        lats: list[float | None] = []
        lons: list[float | None] = []
        for loc, region in zip(flows["location"], flows["region"], strict=True):
            lats += [loc_xy.at[loc, "lat"], region_xy.at[region, "lat"], None]
            lons += [loc_xy.at[loc, "lon"], region_xy.at[region, "lon"], None]
        fig.add_trace(
            go.Scattergeo(
                lat=lats,
                lon=lons,
                mode="lines",
                line={"width": 1, "color": "rgba(90,90,90,0.25)"},
                name="flows" if not left_out else "flows (none drawn to Alaska, Hawaii)",
                hoverinfo="skip",
            )
        )
    peak = max(float(locations["units"].max()), 1.0)
    kind = locations["kind"].astype(str) if "kind" in locations else pd.Series("location")
    for k in dict.fromkeys(kind):
        part = locations[kind.to_numpy() == k]
        fig.add_trace(
            go.Scattergeo(
                lat=part["lat"],
                lon=part["lon"],
                mode="markers",
                name=k,
                marker={"size": 5 + 25 * np.sqrt(part["units"].to_numpy() / peak)},
                text=[
                    f"{i}: {u:,.0f} units" for i, u in zip(part["id"], part["units"], strict=True)
                ],
                hoverinfo="text",
            )
        )
    fig.update_layout(
        title=title,
        geo={"scope": "usa", "projection_type": "albers usa"},
        height=600,  # the map fills the width of a page or notebook cell
        margin={"l": 0, "r": 0, "t": 50, "b": 0},
    )
    return fig


def store_workload(result: Any) -> go.Figure:
    """Heat map of orders picked per store (and dark store) per simulated day.

    Args:
        result: Shipments table(s) (columns location, location_kind, order_id, picked_h);
            several runs give the mean per run (the title says of how many).

    Returns:
        One `go.Heatmap` trace, stores (busiest first; ties in the order the ``location``
        column sorts in, network order for a run's table) x day. [orders/day]
    """
    title = "Store workload (orders picked per day)"
    shipments = table(result, "shipments")
    if not _has(shipments, "location", "order_id", "picked_h"):
        return _empty(title)
    runs = _runs(shipments)
    title = _per_run(title, runs)
    picked = shipments[shipments["picked_h"].notna()]
    if "location_kind" in picked.columns:
        picked = picked[picked["location_kind"].astype(str).isin(STORE_KINDS)]
    if picked.empty:
        return _empty(title, "no orders picked at stores")
    picked = picked.assign(day=(picked["picked_h"] // 24).astype(int))
    orders = picked.drop_duplicates([*_run_keys(picked), "location", "day", "order_id"])
    counts = orders.groupby(["location", "day"], observed=True).size().unstack(fill_value=0)
    counts = counts / runs
    counts = counts.reindex(columns=range(counts.columns.min(), counts.columns.max() + 1))
    busiest = counts.sum(axis=1).sort_values(ascending=False, kind="stable").index
    counts = counts.fillna(0).loc[busiest]
    fig = go.Figure(
        go.Heatmap(
            z=counts.to_numpy(),
            x=list(counts.columns),
            y=list(counts.index),
            colorscale="Blues",
            colorbar={"title": "orders"},
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title="day (UTC; pickup orders included, so a day can pass the ship cap)",
        yaxis_title="location",
        height=max(450, 18 * len(counts) + 160),  # room to name every store
    )
    fig.update_xaxes(dtick=1)  # whole days
    fig.update_yaxes(autorange="reversed", dtick=1)  # every store named
    return fig


def walk_in_lost(result: Any) -> go.Figure:
    """Share of walk-in (POS) units store customers could not buy, by policy.

    Ship-from-store takes units off the same shelves walk-in customers buy from: this is
    its cost at the counter, which the online KPIs do not show.

    Args:
        result: Utilisation table(s) (columns walk_in_units, walk_in_lost_units; policy).

    Returns:
        One `go.Bar` trace, one bar per policy: lost / asked-for walk-in units over the
        horizon (warm-up included), all stores together. [share]
    """
    title = "Walk-in sales lost at stores"
    util = table(result, "utilisation")
    if not _has(util, "walk_in_units", "walk_in_lost_units"):
        return _empty(title)
    names, share, lost, asked = [], [], [], []
    for policy, part in _by_policy(util):
        units = int(part["walk_in_units"].sum())
        if units > 0:
            names.append(policy or "all")
            lost.append(int(part["walk_in_lost_units"].sum()))
            asked.append(units)
            share.append(lost[-1] / units)
    if not names:
        return _empty(title, "no walk-in sales")
    colours = policy_colours(names)
    fig = go.Figure(
        go.Bar(
            x=names,
            y=share,
            marker_color=[colours[p] for p in names],
            customdata=np.column_stack([lost, asked]),
            hovertemplate="%{x}: %{y:.1%} (%{customdata[0]:,} of %{customdata[1]:,} units)"
            "<extra></extra>",
        )
    )
    fig.update_layout(
        title=title, xaxis_title="policy", yaxis_title="share of walk-in units lost",
        yaxis_tickformat=".1%", showlegend=False,
    )  # fmt: skip
    return fig


ATS_VALUE_COLUMNS = ("ats", "on_hand", "mean_on_hand")


_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def ats_over_time(
    result: Any, by: str = "kind", value: str | None = None, horizon_days: int | None = None
) -> go.Figure:
    """Daily stock level summed by location kind (or by location), at the end of each day.

    Args:
        result: Inventory table (the rows of the daily series: a ``day`` column, a group
            column and a value column), a `RunResult`, or several.
        by: Group column, ``"kind"`` (default) or ``"location"``.
        value: Value column; None = the first of ``ats``, ``on_hand``, ``mean_on_hand``.
        horizon_days: Days with demand; when given, only those days are drawn (the later
            days only finish the orders in flight, and a short run has several of them)
            and the title says how many were left out. [days]

    Returns:
        One `go.Scatter` line per group and policy, in the policy's colour (as in every
        chart) with a dash per group (markers on a line of one day). [units]
    """
    title = "Stock over time"
    inventory = table(result, "inventory")
    if value is None:
        value = next((c for c in ATS_VALUE_COLUMNS if c in inventory.columns), "ats")
    if not _has(inventory, "day", value):
        return _empty(title)
    daily = inventory[inventory["day"].notna()]
    if horizon_days is not None:  # day d's row is the level at its end
        later = daily["day"] >= horizon_days
        if later.any():
            drained = daily.loc[later, "day"].nunique()
            title += f" (days with demand; {drained} later day(s) finishing orders not shown)"
            daily = daily[~later]
    if by not in daily.columns:
        by = "location" if "location" in daily.columns else ""
    if daily.empty:
        return _empty(title)
    keys = [k for k in ("policy", by) if k and k in daily.columns]
    grouped = daily.groupby([*keys, "day"], as_index=False, sort=False, observed=True)[value].sum()
    if "replication" in daily.columns:  # several replications: mean of the sums
        grouped[value] /= max(daily["replication"].nunique(), 1)
    colours = policy_colours(grouped["policy"].astype(str)) if "policy" in keys else {}
    groups = list(dict.fromkeys(grouped[by].astype(str))) if by in keys else []
    fig = go.Figure()
    for key, part in grouped.groupby(keys, sort=False, observed=True) if keys else [((), grouped)]:
        named = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        label = " / ".join(str(k) for k in named.values() if k != "")
        line = {}  # a policy's colour, as in every chart; a dash per location kind
        if "policy" in named:
            line["color"] = colours[str(named["policy"])]
        if by in named:
            line["dash"] = _DASHES[groups.index(str(named[by])) % len(_DASHES)]
        part = part.sort_values("day")
        mode = "lines" if len(part) > 1 else "markers"
        fig.add_trace(
            go.Scatter(x=part["day"], y=part[value], mode=mode, name=label or value, line=line)
        )
    fig.update_layout(title=title, xaxis_title="day", yaxis_title=f"{value} (units)")
    fig.update_xaxes(dtick=1 if grouped["day"].nunique() <= 15 else None)  # whole days
    return fig


def _kpi_point(rows: pd.DataFrame, kpi: str) -> tuple[float, float, float]:
    row = rows[rows["kpi"] == kpi]
    if row.empty:
        return np.nan, np.nan, np.nan
    r = row.iloc[0]
    return float(r["mean"]), float(r.get("ci_low", np.nan)), float(r.get("ci_high", np.nan))


def cost_speed_tradeoff(
    compare_df: pd.DataFrame,
    x_kpi: str = "cost_per_order",
    y_kpi: str = "click_to_door_hours_p90",
) -> go.Figure:
    """Cost against speed, one point per policy, with 95% intervals on both axes.

    Args:
        compare_df: Output of `sim.compare.compare`.
        x_kpi: KPI on the x axis. [USD/order by default]
        y_kpi: KPI on the y axis. [h by default]

    Returns:
        One `go.Scatter` trace (a labelled marker) per policy.
    """
    title = "Cost vs speed"
    if not _has(compare_df, "policy", "kpi", "mean"):
        return _empty(title)
    policies: Sequence[str] = list(dict.fromkeys(compare_df["policy"].astype(str)))
    colours = policy_colours(policies)
    fig = go.Figure()
    for policy in policies:
        rows = compare_df[compare_df["policy"].astype(str) == policy]
        x, x_lo, x_hi = _kpi_point(rows, x_kpi)
        y, y_lo, y_hi = _kpi_point(rows, y_kpi)
        if np.isnan(x) or np.isnan(y):
            continue
        fig.add_trace(
            go.Scatter(
                x=[x],
                y=[y],
                mode="markers",  # the legend names them: labels collide when policies tie
                name=policy,
                hovertemplate=f"{policy}<br>%{{x:.4g}}, %{{y:.4g}}<extra></extra>",
                marker={"size": 12, "color": colours[policy]},
                error_x={"type": "data", "array": [x_hi - x], "arrayminus": [x - x_lo]},
                error_y={"type": "data", "array": [y_hi - y], "arrayminus": [y - y_lo]},
            )
        )
    if not fig.data:
        return _empty(title, f"no {x_kpi} / {y_kpi} values")
    fig.update_layout(title=title, xaxis_title=kpi_axis(x_kpi), yaxis_title=kpi_axis(y_kpi))
    return fig
