"""The lever widgets in the sidebar (`sim.levers.LEVERS`), grouped, with units, bound to the
URL; and the widget-state helpers the other parts share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from sim import levers as lv
from sim.scenario.schema import shortened_warmup
from ui.links import LinkCheck


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


def keep_within(key: str, allowed: Callable[[Any], Any]) -> None:
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
    """`keep_within` for a whole-number box: its remembered value moved into [lo, hi]."""
    keep_within(key, lambda v: min(max(v, lo), hi) if isinstance(v, int) else v)


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


def sync_levers(identity: str, data: dict[str, Any]) -> None:
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
