"""Parcel carriers and same-day couriers.

A packed parcel waits at its location for the next daily carrier pickup whose cut-off it
made (``carriers.cutoff_hour``, local time; the truck comes at ``pickup_hour``). All parcels
of one location and pickup share one SimPy event. Transit time in hours is

    T = 24 * (transit_days[zone] + extra_days + sd * Z) - 10 * U,  at least 2 h,

with Z standard normal (``delay_sd_days`` = sd), U uniform on [0, 1) (parcels are delivered
during the delivery day's rounds, up to 10 h before the clock time of the pickup) and
`extra_days` from carrier-delay disruptions. Same-day parcels leave with a courier as soon
as they are packed and arrive within ``operations.courier_hours`` (uniform on [50%, 100%]);
the promise, ``operations.same_day_hours`` from routing, also covers the hold and the pick.

An order's first package has its own Z and U, drawn up front, so it meets the same luck in
transit under every policy (common random numbers); other packages draw in event order.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.model.arrivals import METHODS
from sim.model.timers import Timer, call_later

if TYPE_CHECKING:
    from sim.model.orders import Package
    from sim.model.world import World

__all__ = ["Carriers"]

BOPIS = METHODS.index("bopis")
_BLOCK = 4096
MIN_TRANSIT_HOURS = 2.0
ROUNDS_HOURS = 10.0


class Carriers:
    """Carrier pickups, transit and deliveries.

    Args:
        w: The world.
    """

    def __init__(self, w: World) -> None:
        self.w = w
        self.env = w.env
        self.flows = w.stock.flows
        self.transit = w.network.transit_table.tolist()
        self.sd = w.scn.carriers.delay_sd_days
        self.courier_h = w.scn.operations.courier_hours
        self.rng: np.random.Generator = w.streams["transit"]
        self.docks: dict[tuple[int, float], list[Package]] = {}
        self._normal: list[float] = []
        self._uniform: list[float] = []
        orders = len(w.demand)  # each order's first package: its own draws
        self._z0 = self.rng.standard_normal(orders) if self.sd > 0 else np.zeros(0)
        self._u0 = self.rng.random(orders)

    def _z(self) -> float:
        if not self._normal:
            self._normal = self.rng.standard_normal(_BLOCK).tolist()
        return self._normal.pop()

    def _u(self) -> float:
        if not self._uniform:
            self._uniform = self.rng.random(_BLOCK).tolist()
        return self._uniform.pop()

    def enqueue(self, pkg: Package, t: float) -> None:
        """A packed parcel waits for the next carrier pickup at its location."""
        self.flows.awaiting_carrier += pkg.units
        cutoff, pickup = self.w.calendar.next_pickup(pkg.row, t)
        if math.isinf(pickup):
            return  # no pickup left within the calendar: stays in flight
        key = (pkg.row, pickup)
        dock = self.docks.get(key)
        if dock is None:
            dock = self.docks[key] = []
            call_later(self.env, pickup - t, self._collect, key)
        dock.append(pkg)

    def _collect(self, ev: Timer) -> None:
        t = self.env.now
        for pkg in self.docks.pop(ev.value):
            self._ship(pkg, t)

    def transit_hours(self, zone: int, t: float, order: int = -1) -> float:
        """Random door-to-door hours for a parcel of `zone` handed over at `t`, with the own
        draws of order row `order` (its first package; -1: the stream's next). [h]"""
        days = self.transit[zone] + self.w.disruptions.extra_days(t, zone)
        if order >= 0:
            if self.sd > 0:
                days += self.sd * float(self._z0[order])
            u = float(self._u0[order])
        else:
            if self.sd > 0:
                days += self.sd * self._z()
            u = self._u()
        return max(24.0 * days - ROUNDS_HOURS * u, MIN_TRANSIT_HOURS)

    def _ship(self, pkg: Package, t: float) -> None:
        flows = self.flows
        flows.awaiting_carrier -= pkg.units
        if pkg.method == BOPIS:
            flows.transfer += pkg.units  # to the pickup store
        else:
            flows.shipped += pkg.units
        self.w.oms.handed_over(pkg, t)
        call_later(self.env, self.transit_hours(pkg.zone, t, pkg.draw_row), self._arrive, pkg)

    def courier(self, pkg: Package, t: float) -> None:
        """A same-day parcel leaves with a courier right away."""
        self.flows.shipped += pkg.units
        self.w.oms.handed_over(pkg, t)
        u = self._u() if pkg.draw_row < 0 else float(self._u0[pkg.draw_row])
        hours = self.courier_h * (0.5 + 0.5 * u)
        call_later(self.env, hours, self._arrive, pkg)

    def _arrive(self, ev: Timer) -> None:
        pkg: Package = ev.value
        if pkg.method == BOPIS:
            self.flows.transfer -= pkg.units
        self.w.oms.delivered(pkg, self.env.now)
