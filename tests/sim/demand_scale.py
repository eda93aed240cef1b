"""Overrides that scale a scenario's demand (a helper module for small test runs)."""

from __future__ import annotations

from sim.scenario.sections import ONLINE_CHANNELS


def scaled_demand(scn, scale: float) -> dict[str, object]:
    """Overrides multiplying every channel's volume (online, wholesale, walk-in) by `scale`."""
    ch = scn.demand.channels
    over: dict[str, object] = {
        f"demand.channels.{c}.orders_per_day": getattr(ch, c).orders_per_day * scale
        for c in (*ONLINE_CHANNELS, "wholesale")
    }
    over["demand.channels.pos.sales_per_store_per_day"] = ch.pos.sales_per_store_per_day * scale
    return over
