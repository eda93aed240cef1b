"""The `World`: one run's environment, random streams, engine objects and model parts.

`World.build` turns a `Scenario` into everything a run needs, in a fixed order: the engine
network, catalogue, ledger (with the initial stock the system believes) and router; the
physical shelves (with record inaccuracy: some store shelves hold less than the ledger
says); the calendars; the pre-generated demand; and the model parts, which find each other
through the world. `World.run` drives the SimPy environment.

Randomness: the run owns a `numpy.random.SeedSequence(seed, spawn_key=(SIM_KEY,
replication))` and spawns one generator per concern in the fixed order of `STREAMS`, so
adding a concern at the end never changes the others, replications are independent, and
two policies with the same seed and replication see the same demand.
"""

from __future__ import annotations

import dataclasses
import gc
import math
from bisect import bisect_left
from collections.abc import Callable

import numpy as np
import simpy

from engine import Capability, LocationKind, Network
from engine.ledger import Ledger
from engine.routing import Router
from engine.routing.context import Policy
from sim.model.arrivals import POS_PAD_HOURS, RegionTable, generate_online, generate_pos
from sim.model.bopis import Bopis
from sim.model.carriers import Carriers
from sim.model.clock import Calendar, Clock
from sim.model.disruptions import Disruptions, outage_windows
from sim.model.locations import DcSite, PickTimes, StoreSite
from sim.model.oms import Oms
from sim.model.pos import PointOfSale
from sim.model.replenishment import Replenishment
from sim.model.returns import Returns
from sim.model.service import CustomerService
from sim.model.stock import PhysicalStock
from sim.records import Recorder
from sim.scenario import geography
from sim.scenario.build import (
    build_catalogue,
    build_network,
    build_rate_card,
    build_routing_settings,
    expected_daily_units,
    sites,
    stock_plan,
)
from sim.scenario.schema import Scenario

__all__ = ["BOPIS_MAX_MILES", "DRAIN_DAYS", "SIM_KEY", "STREAMS", "World"]

SIM_KEY = 7
"""First spawn-key element of the run's seed sequence (the scenario build uses 1 and 2)."""
STREAMS = (
    "arrivals.web", "arrivals.app", "arrivals.marketplace", "arrivals.social",
    "arrivals.wholesale", "customers", "baskets", "methods", "service", "bopis", "returns",
    "pos", "inaccuracy", "pick", "transit", "replenishment",
)  # fmt: skip
"""Random streams, one per concern, spawned in this order."""
DRAIN_DAYS = 12
"""After the horizon, the run continues (no new demand) until nothing is in flight or this
many days have passed, so that late orders can finish. [days]"""
BOPIS_MAX_MILES = 100.0
"""Customers farther than this from every pickup store (or returns desk) do not use one:
their BOPIS orders ship, their returns go by mail. [mi]"""

_DC_KINDS = (LocationKind.WAREHOUSE, LocationKind.THREE_PL, LocationKind.WHOLESALE_DC)


def _nearest(dist: np.ndarray, mask: np.ndarray, limit: float = math.inf) -> np.ndarray:
    """Per row of `dist` (R, L): column of the nearest masked location within `limit`, or -1."""
    if not mask.any():
        return np.full(dist.shape[0], -1, dtype=np.int64)
    d = np.where(mask[None, :], dist, np.inf)
    best = d.argmin(axis=1)
    return np.where(d[np.arange(d.shape[0]), best] <= limit, best, -1)


class World:
    """Everything one run is made of. Build with `World.build`."""

    env: simpy.Environment

    @classmethod
    def build(
        cls,
        scn: Scenario,
        policy: Policy | str,
        seed: int,
        replication: int = 0,
        days: int | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> World:
        """Build a ready-to-run world.

        Args:
            scn: The scenario.
            policy: Routing policy (object or registered name).
            seed: Run seed (the scenario's structure - catalogue, initial stock - uses the
                scenario seed, so it is the same world for every run seed).
            replication: Replication index (independent streams per index).
            days: Horizon override. [days]
            progress: Called with the fraction done once per simulated day.
        """
        w = cls()
        w.scn, w.seed, w.replication, w.progress = scn, seed, replication, progress
        w.days = int(days if days is not None else scn.horizon_days)
        w.horizon_h = 24.0 * w.days
        w.warmup_h = 24.0 * scn.warmup_for(days)
        w.env = simpy.Environment()
        w.clock = Clock(scn.start)
        root = np.random.SeedSequence(seed, spawn_key=(SIM_KEY, replication))
        w.streams = {
            name: np.random.default_rng(child)
            for name, child in zip(STREAMS, root.spawn(len(STREAMS)), strict=True)
        }
        w._engine(policy)
        w._physical()
        w._demand()
        w._parts()
        return w

    # ------------------------------------------------------------------ building

    def _engine(self, policy: Policy | str) -> None:
        scn = self.scn
        self.site_specs = sites(scn)
        self.network: Network = build_network(scn, self.site_specs)
        self.catalogue = build_catalogue(scn)
        net = self.network
        self.loc_ids = tuple(x.id for x in net.locations)
        self.sku_ids = tuple(self.catalogue.skus)
        kinds = [x.kind for x in net.locations]
        self.loc_kinds = tuple(str(k.value) for k in kinds)
        self.is_store = net.is_store
        self.is_dc = np.array([k in _DC_KINDS for k in kinds])
        plan = stock_plan(scn, net, self.catalogue)
        on_hand, safety = plan.on_hand, plan.safety
        self.initial = on_hand
        self.ranged = plan.ranged  # what each store's walk-in customers can buy
        self.ledger = Ledger(self.loc_ids, self.sku_ids)  # the router sets store thresholds
        self.ledger.load_stock(on_hand, safety, at=self.clock.dt(0.0))
        self.rates = build_rate_card(scn)
        settings = build_routing_settings(scn, expected_daily_units(scn, self.catalogue))
        # the simulation never asks a decision for its reasons: do not keep their arrays
        settings = dataclasses.replace(settings, keep_reasons=False)
        self.router = Router(net, self.ledger, self.rates, policy, settings)
        self._bands = net.zone_bands_miles.tolist()
        cover = scn.inventory.initial_days_of_cover
        days = np.where(self.is_store, cover.store, cover.dc)[:, None]
        self.prior_rate = np.divide(on_hand, days, out=np.zeros(on_hand.shape), where=days > 0)

    def _physical(self) -> None:
        scn = self.scn
        physical = self.initial.copy()
        inacc = scn.inventory.record_inaccuracy
        if inacc.share > 0 and inacc.max_units > 0 and self.is_store.any():
            rng = self.streams["inaccuracy"]
            rows = np.flatnonzero(self.is_store)
            block = physical[rows]
            hit = (rng.random(block.shape) < inacc.share) & (block > 0)
            missing = rng.integers(1, inacc.max_units + 1, size=block.shape)
            physical[rows] = np.where(hit, np.maximum(block - missing, 0), block)
        self.end_h = self.horizon_h + 24.0 * DRAIN_DAYS
        cal_days = self.days + DRAIN_DAYS + 1
        self.stock = PhysicalStock(physical, cal_days)
        self.pending_pos = np.zeros(physical.shape, dtype=np.int64)
        self.outflow = np.zeros(physical.shape, dtype=np.int64)
        windows = outage_windows(scn, self.network.index)
        self.outages = windows
        car = scn.carriers
        self.calendar = Calendar(
            self.clock, self.network.locations, cal_days, windows,
            car.cutoff_hour, car.pickup_hour,
        )  # fmt: skip

    def _demand(self) -> None:
        scn, net = self.scn, self.network
        top = geography.top_cities(scn.demand.regions)
        self.region_ids = tuple(c.label for c in top)
        lat = np.array([c.lat for c in top])
        lon = np.array([c.lon for c in top])
        pop = np.array([c.population for c in top], dtype=np.float64)
        dist = net.region_distances() if net.regions else np.zeros((len(top), len(self.loc_ids)))
        pickup = net.can[Capability.PICKUP]
        ship = net.can[Capability.SHIP]
        returns = net.can[Capability.RETURNS]
        same_day_ok = (
            (np.where(ship[None, :], dist, np.inf).min(axis=1) <= scn.routing.same_day_max_miles)
            if ship.any()
            else np.zeros(len(top), dtype=bool)
        )
        self.regions = RegionTable(
            lat=lat,
            lon=lon,
            weight=pop / pop.sum(),
            tz=tuple(c.timezone for c in top),
            pickup_store=_nearest(dist, pickup & self.is_store, BOPIS_MAX_MILES),
            same_day_ok=same_day_ok,
        )
        self.region_miles = dist  # (R, L) [mi]
        self.return_dc = _nearest(dist, returns & self.is_dc).tolist()
        self.return_store = _nearest(dist, returns & self.is_store, BOPIS_MAX_MILES).tolist()
        self.demand = generate_online(
            scn, self.clock, self.days, self.regions, self.catalogue.popularity,
            self.catalogue.return_rate, self.streams,
        )  # fmt: skip
        selling = np.flatnonzero(np.array([x.kind is LocationKind.STORE for x in net.locations]))
        hours = 24 * self.days
        pad, cal = POS_PAD_HOURS, self.calendar
        frac = np.zeros((selling.size, hours))
        scheduled = np.zeros((selling.size, hours + 2 * pad))
        for k, r in enumerate(selling):
            frac[k] = cal.open_fraction(r, hours)
            scheduled[k] = cal.open_fraction(r, hours + 2 * pad, False, -pad)
        self.pos_demand = generate_pos(
            scn, self.clock, self.days, selling,
            tuple(net.locations[r].timezone for r in selling), frac,
            self._walk_in_popularity(selling), self.streams["pos"], scheduled=scheduled,
        )  # fmt: skip
        # each store's replenishing DC: the nearest warehouse or 3PL
        dcs = np.flatnonzero(
            np.isin(self.network.kind_codes, [list(LocationKind).index(k) for k in _DC_KINDS[:2]])
        )
        self.source_dc = np.full(len(self.loc_ids), -1, dtype=np.int64)
        if dcs.size:
            for r in np.flatnonzero(self.is_store).tolist():
                d = net.distances_from(float(net.lat[r]), float(net.lon[r]))[dcs]
                self.source_dc[r] = dcs[int(d.argmin())]

    def _walk_in_popularity(self, stores: np.ndarray) -> np.ndarray:
        """SKU weights of walk-in sales per store row in `stores`, (K, S): popularity over
        the store's range. A store that carries nothing (no store cover and no safety stock)
        is asked for the whole catalogue, and loses those sales."""
        pop = self.catalogue.popularity
        weights = np.where(self.ranged[stores], pop[None, :], 0.0)
        empty = weights.sum(axis=1) <= 0
        weights[empty] = pop
        return weights

    def _parts(self) -> None:
        scn = self.scn
        ops = scn.operations
        self.release_hold_h = ops.release_hold_minutes / 60.0
        self.pick_times = PickTimes(
            self.streams["pick"], ops.pick_time, ops.pick_time_cv, orders=len(self.demand)
        )
        self.rec = Recorder(len(self.demand), self.demand.line_sku.size)
        self.rec.l_units[:] = self.demand.line_qty
        self.disruptions = Disruptions(self, self.outages)
        self.sites: list[StoreSite | DcSite] = []
        for row, spec in enumerate(self.site_specs):
            cls = StoreSite if self.is_store[row] else DcSite
            self.sites.append(cls(self, row, spec.staff, spec.pick_minutes, spec.pack_minutes))
        self.oms = Oms(self)
        self.service = CustomerService(self)
        self.carriers = Carriers(self)
        self.bopis = Bopis(self)
        self.returns = Returns(self)
        self.replenishment = Replenishment(self)
        self.pos = PointOfSale(self)
        self.daily: list[tuple[int, np.ndarray, np.ndarray]] = []

    # ------------------------------------------------------------------ helpers

    def zone_of(self, miles: float) -> int:
        """Parcel zone of a distance (bands right-closed, as `engine.zone_for_miles`)."""
        return bisect_left(self._bands, miles) + 1

    # ------------------------------------------------------------------ running

    def _days(self) -> simpy.events.ProcessGenerator:
        env, day = self.env, 0
        shrink = self.scn.inventory.record_inaccuracy
        while True:
            yield env.timeout(24.0)
            # within the horizon, as POS sales and replenishment (the drain only finishes)
            if shrink.daily_share > 0 and shrink.max_units > 0 and env.now <= self.horizon_h:
                self._shrink(shrink.daily_share, shrink.max_units, env.now)
            self.stock.close_day(day, env.now)
            self.daily.append(
                (
                    day,
                    self.ledger.on_hand.sum(axis=1, dtype=np.int64),
                    self.ledger.ats("web").sum(axis=1, dtype=np.int64),
                )
            )
            day += 1
            if self.progress is not None:
                self.progress(min(1.0, env.now / self.horizon_h))

    def _shrink(self, share: float, max_units: int, t: float) -> None:
        """A day's shrink: each store shelf holding stock loses 1 to `max_units` units with
        probability `share`, on the shelf only (the records learn it from a count).

        The draws cover every store shelf, stocked or not, so the same shelves are hit, by
        the same amounts, under every policy (common random numbers)."""
        rows = np.flatnonzero(self.is_store)
        if not rows.size:
            return
        rng = self.streams["inaccuracy"]
        shelves = self.stock.on_hand[rows]
        hit = rng.random(shelves.shape) < share
        want = rng.integers(1, max_units + 1, size=shelves.shape)
        r, s = np.nonzero(hit & (shelves > 0))
        took = self.stock.take_upto(rows[r], s, want[r, s], t)
        self.stock.flows.shrunk += int(took.sum())
        for row, sku, units in zip(rows[r].tolist(), s.tolist(), took.tolist(), strict=True):
            self.rec.event(t, "shrink", -1, row, sku, units)

    def _drain(self) -> simpy.events.ProcessGenerator:
        env, oms, flows = self.env, self.oms, self.stock.flows
        yield env.timeout(self.horizon_h)
        while env.now < self.end_h:
            if (
                oms.arrived
                and not oms.live
                and not oms.live_packages
                and not oms.pending
                and flows.transfer == 0
                and flows.inspection == 0
            ):
                return
            yield env.timeout(1.0)

    def run(self) -> float:
        """Run the simulation to its end; returns the end time. [h]

        The cyclic garbage collector is paused while the model runs. The run allocates
        millions of acyclic objects that reference counting frees, but the collector would
        still scan each order's objects several times while it is in flight (about 10% of
        the CPU time). The run makes almost no cycles (a few thousand objects over a
        60,000-order run, most of them the world itself), so nothing accumulates; they are
        collected after the run, when the collector is restored to its previous state.
        """
        enabled = gc.isenabled()
        gc.collect()
        gc.disable()
        try:
            return self._run()
        finally:
            if enabled:
                gc.enable()

    def _run(self) -> float:
        env = self.env
        env.process(self.oms.arrivals())
        if self.oms.batch:
            env.process(self.oms.batches())
        every = getattr(self.router.policy, "every_minutes", None)
        if not self.oms.batch and every and hasattr(self.router.policy, "reoptimise"):
            env.process(self.oms.brokering(float(every) / 60.0))
        env.process(self.pos.process())
        env.process(self.replenishment.process())
        env.process(self._days())
        env.run(until=env.process(self._drain()))
        if env.now > 24.0 * len(self.daily) + 1e-9:  # the last, partial day
            self.stock.close_day(len(self.daily), env.now)
            self.daily.append(
                (
                    len(self.daily),
                    self.ledger.on_hand.sum(axis=1, dtype=np.int64),
                    self.ledger.ats("web").sum(axis=1, dtype=np.int64),
                )
            )
        if self.progress is not None:
            self.progress(1.0)
        return env.now
