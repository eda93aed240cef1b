"""Settings of a valid scenario that do little or nothing in a run: wholesale demand with
no wholesale DC to serve it, pickup demand with no location offering pickup, a peak wholly
outside the simulated days or wholly inside the warm-up (left out of the KPIs), an outage
or a carrier delay that starts after them or ends within the warm-up (a wrong year, or a
horizon shortened with ``--days`` or the app's lever), no online orders at all (nothing
for the KPIs to measure). They are not errors, so the CLI and the app warn."""

from __future__ import annotations

from datetime import timedelta

from sim.scenario.schema import Scenario

__all__ = ["idle_settings"]


def idle_settings(scn: Scenario, days: int | None = None) -> list[tuple[str, str]]:
    """``(field path, reason)`` of each dated setting that falls outside the run.

    Args:
        scn: A validated scenario.
        days: Days simulated; None means the scenario's ``horizon_days``. [days]
    """
    warmup = scn.warmup_for(days)
    days = scn.horizon_days if days is None else int(days)
    first, last = scn.start, scn.start + timedelta(days=days - 1)
    span = f"the run covers {first.isoformat()} to {last.isoformat()}"
    in_warmup = f"the first {warmup} day(s) are warm-up, left out of the KPIs"
    out: list[tuple[str, str]] = []
    for i, peak in enumerate(scn.demand.peaks):
        end = peak.start + timedelta(days=peak.days - 1)
        if end < first or peak.start > last:
            out.append((f"demand.peaks.{i}", f"{peak.start} to {end} has no effect: {span}"))
        elif (end - first).days < warmup:
            out.append((f"demand.peaks.{i}", f"{peak.start} to {end} only meets orders the "
                        f"KPIs leave out: {in_warmup}"))  # fmt: skip
    b2b = scn.demand.channels.wholesale.orders_per_day
    if b2b > 0 and not any(
        w.kind == "wholesale_dc" and (w.capabilities is None or "wholesale" in w.capabilities)
        for w in scn.network.warehouses
    ):
        out.append((
            "demand.channels.wholesale.orders_per_day",
            f"{b2b:g} orders a day go unfilled: no location of kind wholesale_dc serves them",
        ))  # fmt: skip
    out += _pickup_nowhere(scn)
    out += _no_online_demand(scn)
    inaccuracy = scn.inventory.record_inaccuracy
    if inaccuracy.max_units == 0 and (inaccuracy.share > 0 or inaccuracy.daily_share > 0):
        out.append((
            "inventory.record_inaccuracy.max_units",
            "is 0, so no record overstates its shelf and no shelf shrinks: share and "
            "daily_share have no effect",
        ))  # fmt: skip
    windows = [("disruptions.outages", w) for w in scn.disruptions.outages]
    windows += [("disruptions.carrier_delays", w) for w in scn.disruptions.carrier_delays]
    counts: dict[str, int] = {}
    for name, w in windows:
        i = counts[name] = counts.get(name, -1) + 1
        if w.start_day >= days:
            out.append((f"{name}.{i}", f"starts on day {w.start_day:g}, after the {days} "
                        "simulated days: only orders still in flight can meet it"))  # fmt: skip
        elif w.start_day + w.days <= warmup:
            out.append((f"{name}.{i}", f"ends on day {w.start_day + w.days:g}, within the "
                        f"warm-up: {in_warmup}"))  # fmt: skip
    return out


def _no_online_demand(scn: Scenario) -> list[tuple[str, str]]:
    """No online channel has orders: every KPI (all of them are over online orders) is
    undefined, so there is nothing to compare."""
    from sim.scenario.sections import ONLINE_CHANNELS

    channels = scn.demand.channels
    if any(getattr(channels, name).orders_per_day > 0 for name in ONLINE_CHANNELS):
        return []
    return [(
        "demand.channels",
        f"no online orders ({', '.join(ONLINE_CHANNELS)} all at 0 a day): every KPI is "
        "over online orders, so none can be measured",
    )]  # fmt: skip


def _pickup_nowhere(scn: Scenario) -> list[tuple[str, str]]:
    """Pickup (BOPIS) shares of online channels when no location offers pickup."""
    from engine import Capability
    from sim.scenario.build import sites
    from sim.scenario.sections import ONLINE_CHANNELS

    if any(Capability.PICKUP in s.location.capabilities for s in sites(scn)):
        return []
    out = []
    for name in ONLINE_CHANNELS:
        channel = getattr(scn.demand.channels, name)
        if channel.orders_per_day > 0 and channel.methods.bopis > 0:
            out.append((
                f"demand.channels.{name}.methods.bopis",
                f"{channel.methods.bopis:.0%} of {name} orders ask for pickup, but no location "
                "offers it: they ship instead (requested_method keeps the wish)",
            ))  # fmt: skip
    return out
