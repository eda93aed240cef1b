"""Pick/pack work at locations: staffed stores (SimPy resources) and wave-picking DCs.

Stores have a few pickers: a package waits for a free picker (first come, first served),
then for the store to be open and not down, then takes its pick time. With Poisson
arrivals, exponential pick times and an always-open store this is exactly an M/M/c queue
(see tests/sim/test_theory.py).

Warehouses pick in waves of `WAVE_HOURS`: at the start of each wave the DC takes as many
queued packages, first come first served, as its staff can pick in the wave (carrying any
overrun into the next wave) and they are done at the wave's end. This keeps DC work at one
event per wave instead of several per package.

Pick time of a package = ``pick_minutes * lines + pack_minutes`` on average, drawn from the
distribution in ``operations.pick_time`` (exponential, fixed or lognormal with
``operations.pick_time_cv``).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from sim.model.timers import Timer, call_later

if TYPE_CHECKING:
    from sim.model.orders import Package
    from sim.model.world import World

__all__ = ["DcSite", "PickTimes", "StoreSite", "WAVE_HOURS"]

WAVE_HOURS = 0.25
"""Length of a DC pick wave. [h]"""

_BLOCK = 4096


class PickTimes:
    """Random pick times with a given mean, drawn from the run's pick stream.

    The first package of each order has its own draw, made up front (`orders` of them), so
    it takes the same share of its mean under every policy: common random numbers, which
    make paired differences between policies less noisy. Other packages (splits, re-routes,
    exchanges) draw from the stream in event order.

    Args:
        rng: Pick-time stream.
        kind: ``exponential`` | ``fixed`` | ``lognormal``.
        cv: Coefficient of variation of the lognormal. [-]
        orders: Orders with a draw of their own (rows 0 to `orders` - 1). [-]

    Attributes:
        scv: Squared coefficient of variation of the distribution (1 for exponential).
    """

    def __init__(
        self, rng: np.random.Generator, kind: str = "exponential", cv: float = 0.5, orders: int = 0
    ):
        if kind not in ("exponential", "fixed", "lognormal"):
            raise ValueError(f"unknown pick time distribution {kind!r}")
        self.rng, self.kind = rng, kind
        self._sigma = math.sqrt(math.log1p(cv * cv))
        self.scv = {"exponential": 1.0, "fixed": 0.0, "lognormal": cv * cv}[kind]
        self._buf: list[float] = []
        self._first = self._unit(orders if kind != "fixed" else 0)

    def _unit(self, n: int) -> np.ndarray:
        """`n` draws with mean 1."""
        if self.kind == "exponential":
            return self.rng.standard_exponential(n)
        s = self._sigma
        return np.exp(s * self.rng.standard_normal(n) - 0.5 * s * s)

    def _refill(self) -> None:
        self._buf = self._unit(_BLOCK)[::-1].tolist()

    def draw(self, mean: float, order: int = -1) -> float:
        """One pick time with mean `mean` (same unit as `mean`): the own draw of order row
        `order` (its first package), or with ``order=-1`` the stream's next."""
        if self.kind == "fixed":
            return mean
        if order >= 0:
            return mean * float(self._first[order])
        if not self._buf:
            self._refill()
        return mean * self._buf.pop()


class _Site:
    """Common bookkeeping of a picking location."""

    def __init__(self, w: World, row: int, staff: int, pick_minutes: float, pack_minutes: float):
        self.w = w
        self.env = w.env
        self.row = row
        self.staff = staff
        self.pick_h = pick_minutes / 60.0
        self.pack_h = pack_minutes / 60.0
        self.busy_horizon_h = 0.0  # staff-hours spent picking within the horizon [h]
        self.jobs = 0
        self.waited = 0  # jobs that had to wait for a picker or for opening
        self.wait_h = 0.0  # summed queue waits [h]
        self.rejected = 0
        self.horizon_h = w.horizon_h

    def _book(self, start: float, staff_hours: float, jobs: int, parallel: int) -> None:
        """Account picking work started at `start` and done by `parallel` pickers."""
        if start < self.horizon_h:
            self.busy_horizon_h += min(staff_hours, (self.horizon_h - start) * parallel)
        self.jobs += jobs

    def mean_time(self, pkg: Package) -> float:
        """Mean pick time of a package. [h]"""
        return self.pick_h * len(pkg.lines) + self.pack_h


class StoreSite(_Site):
    """A store's `staff` pickers serving its packages first come, first served.

    A package takes a free picker at once, or waits in the store's queue until one is
    done. With its picker it waits for the store to be open (not down), then is picked.
    This is a multi-server FIFO queue driven by one timeout per pick (two when it waits
    for the opening), not a SimPy process per package.
    """

    def __init__(self, w: World, row: int, staff: int, pick_minutes: float, pack_minutes: float):
        super().__init__(w, row, staff, pick_minutes, pack_minutes)
        self.free = staff  # pickers not holding a package
        self.queue: deque[tuple[Package, float]] = deque()  # (package, time queued) [h]

    def submit(self, pkg: Package) -> None:
        """Queue a package for picking."""
        if self.free > 0:
            self.free -= 1
            self._start(pkg, self.env.now)
        else:
            self.queue.append((pkg, self.env.now))

    def _start(self, pkg: Package, queued: float) -> None:
        """A picker takes `pkg` now; work starts when the store is open."""
        env = self.env
        start = self.w.calendar.next_available(self.row, env.now)
        if start > env.now:
            if math.isinf(start):
                return  # never open again within the calendar: stays in flight
            call_later(env, start - env.now, self._opened, (pkg, queued))
        else:
            self._pick(pkg, queued)

    def _opened(self, ev: Timer) -> None:
        self._pick(*ev.value)

    def _pick(self, pkg: Package, queued: float) -> None:
        wait = self.env.now - queued
        duration = self.w.pick_times.draw(self.mean_time(pkg), pkg.draw_row)
        call_later(self.env, duration, self._done, (pkg, wait, duration))

    def _done(self, ev: Timer) -> None:
        pkg, wait, duration = ev.value
        pkg.wait_h = wait
        self.wait_h += wait
        if wait > 0.0:
            self.waited += 1
        self._book(self.env.now - duration, duration, 1, 1)
        self.w.oms.picked(pkg)
        if self.queue:
            self._start(*self.queue.popleft())
        else:
            self.free += 1


class DcSite(_Site):
    """A warehouse that picks its queue in fixed-length waves."""

    def __init__(self, w: World, row: int, staff: int, pick_minutes: float, pack_minutes: float):
        super().__init__(w, row, staff, pick_minutes, pack_minutes)
        self.queue: deque[Package] = deque()
        self._debt = 0.0  # staff-hours of the last wave's overrun
        self._running = False

    def submit(self, pkg: Package) -> None:
        """Queue a package for the next wave."""
        self.queue.append(pkg)
        if not self._running:
            self._running = True
            # waves are aligned to multiples of WAVE_HOURS from time 0
            now = self.env.now
            start = math.ceil(now / WAVE_HOURS - 1e-9) * WAVE_HOURS
            call_later(self.env, start - now, self._wave)

    def _wave(self, _: Timer) -> None:
        env, w = self.env, self.w
        now = env.now
        if not self.queue:
            self._running = False
            return
        if not w.calendar.is_available(self.row, now):
            nxt = w.calendar.next_available(self.row, now)
            if math.isinf(nxt):
                self._running = False  # never again: the queue stays in flight
                return
            start = math.ceil(nxt / WAVE_HOURS - 1e-9) * WAVE_HOURS
            call_later(env, start - now, self._wave)
            return
        capacity = self.staff * WAVE_HOURS - self._debt
        used = 0.0
        batch = []
        queue, draw = self.queue, w.pick_times.draw
        while queue and used < capacity:
            pkg = queue.popleft()
            used += draw(self.mean_time(pkg), pkg.draw_row)
            pkg.wait_h = now - pkg.released_h
            batch.append(pkg)
        self._debt = max(0.0, used - capacity)
        self._book(now, used, len(batch), self.staff)
        waits = [p.wait_h for p in batch]
        self.wait_h += sum(waits)
        self.waited += sum(1 for x in waits if x > 0.0)
        call_later(env, WAVE_HOURS, self._done, batch)

    def _done(self, ev: Timer) -> None:
        picked = self.w.oms.picked
        for pkg in ev.value:
            picked(pkg)
        self._wave(ev)
