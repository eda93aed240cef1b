"""Disruptions: location outages and carrier delays from the scenario.

An outage makes a location unavailable from ``start_day`` for ``days``: the OMS excludes it
from routing, it does not pick (its queue waits, see `sim.model.clock.Calendar`), walk-in
sales stop, and no carrier calls. A carrier delay adds ``extra_days`` of transit to parcels
handed over during its window (optionally only for some zones).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.model.timers import Timer, call_later

if TYPE_CHECKING:
    from sim.model.world import World
    from sim.scenario.schema import Scenario

__all__ = ["Disruptions", "outage_windows"]


def outage_windows(scn: Scenario, index: dict[str, int]) -> dict[int, list[tuple[float, float]]]:
    """Location row -> outage windows `(start_h, end_h)`. [h]"""
    out: dict[int, list[tuple[float, float]]] = {}
    for o in scn.disruptions.outages:
        start = o.start_day * 24.0
        out.setdefault(index[o.location], []).append((start, start + o.days * 24.0))
    return out


class Disruptions:
    """Answers "which locations are down now?" and "how much extra transit?".

    Args:
        w: The world.
        windows: Outage windows per location row. [h]
    """

    def __init__(self, w: World, windows: dict[int, list[tuple[float, float]]]) -> None:
        self.w = w
        self.windows = windows
        self._down: tuple[str, ...] = ()
        self._rows_down: dict[int, int] = {}
        self.delays = [
            (d.start_day * 24.0, (d.start_day + d.days) * 24.0, d.extra_days,
             None if d.zones is None else frozenset(d.zones))
            for d in w.scn.disruptions.carrier_delays
        ]  # fmt: skip
        env = w.env
        for row, spans in sorted(windows.items()):
            for start, end in spans:
                call_later(env, start, self._toggle, (row, +1))
                call_later(env, end, self._toggle, (row, -1))

    def _toggle(self, ev: Timer) -> None:
        row, delta = ev.value
        n = self._rows_down.get(row, 0) + delta
        if n > 0:
            self._rows_down[row] = n
        else:
            self._rows_down.pop(row, None)
        ids = self.w.loc_ids
        self._down = tuple(ids[r] for r in sorted(self._rows_down))
        kind = "outage_start" if delta > 0 else "outage_end"
        self.w.rec.event(self.w.env.now, kind, location=row)

    def down_ids(self, t: float) -> tuple[str, ...]:
        """Ids of the locations down now (routing excludes them)."""
        return self._down

    def extra_days(self, t: float, zone: int) -> float:
        """Extra transit days for a parcel of `zone` handed over at `t`. [days]"""
        extra = 0.0
        for start, end, days, zones in self.delays:
            if start <= t < end and (zones is None or zone in zones):
                extra += days
        return extra
