"""Walk-in store sales (POS): they take shelf stock at once and reach the OMS later.

Sales are pre-drawn (`sim.model.arrivals.generate_pos`) and applied in ticks of
`tick_h` (at most 15 minutes, and a whole fraction of ``inventory.pos_sync_delay_minutes``
so that every sync falls on a tick): the units a tick's customers
want are taken from the shelf if they are there (else the walk-in sale is lost), and the
sales are reported to the ledger ``pos_sync_delay_minutes`` later, batched per
location-SKU, as a real POS would sync. Until then the ledger overstates the shelf: the root
cause of most oversells.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import simpy

    from sim.model.world import World

__all__ = ["PointOfSale"]

MAX_TICK_HOURS = 0.25


class PointOfSale:
    """Applies walk-in sales to shelves and syncs them to the ledger after a delay.

    Args:
        w: The world.
    """

    def __init__(self, w: World) -> None:
        self.w = w
        self.delay_h = w.scn.inventory.pos_sync_delay_minutes / 60.0
        # the longest tick up to MAX_TICK_HOURS that divides the delay: syncs land on ticks
        steps = math.ceil(self.delay_h / MAX_TICK_HOURS - 1e-9)
        self.tick_h = self.delay_h / steps if steps > 0 else MAX_TICK_HOURS
        self.sales = w.pos_demand
        self._pending: deque[tuple[float, np.ndarray, np.ndarray, np.ndarray]] = deque()
        n_loc = len(w.loc_ids)
        #: walk-in units asked for and not on the shelf, per location row [units]
        self.lost_by_row = np.zeros(n_loc, dtype=np.int64)
        #: walk-in units asked for over the horizon, per location row [units]
        self.units_by_row = np.bincount(
            self.sales.store, weights=self.sales.qty, minlength=n_loc
        ).astype(np.int64)
        self.n_sku = w.ledger.shape[1]

    def process(self) -> simpy.events.ProcessGenerator:
        """SimPy process: one tick every `tick_h` until the horizon's sales are synced."""
        env, w = self.w.env, self.w
        times = self.sales.time_h
        i, n = 0, len(self.sales)
        horizon = w.horizon_h
        while True:
            yield env.timeout(self.tick_h)
            now = env.now
            j = int(np.searchsorted(times, now, side="right"))
            if j > i:
                self._sell(i, j, now)
                i = j
            self._sync(now)
            if now >= horizon and i >= n and not self._pending:
                return

    def _sell(self, i: int, j: int, now: float) -> None:
        w = self.w
        rows, skus, qty = self.sales.store[i:j], self.sales.sku[i:j], self.sales.qty[i:j]
        took = w.stock.take_upto(rows, skus, qty, now)
        sold = int(took.sum())
        w.stock.flows.sold += sold
        lost = qty - took
        if lost.any():
            per_store = np.bincount(rows, weights=lost, minlength=len(w.loc_ids))
            for row in np.flatnonzero(per_store).tolist():
                w.rec.event(now, "pos_lost", location=row, qty=int(per_store[row]))
            self.lost_by_row += per_store.astype(np.int64)
        if sold:
            keep = took > 0
            key = rows[keep] * self.n_sku + skus[keep]
            cells, inverse = np.unique(key, return_inverse=True)
            units = np.bincount(inverse, weights=took[keep]).astype(np.int64)
            r, s = cells // self.n_sku, cells % self.n_sku
            np.add.at(w.pending_pos, (r, s), units)
            np.add.at(w.outflow, (r, s), units)
            self._pending.append((now + self.delay_h, r, s, units))

    def _sync(self, now: float) -> None:
        pending = self._pending
        if not pending or pending[0][0] > now + 1e-9:
            return
        w = self.w
        at = w.clock.dt(now)
        while pending and pending[0][0] <= now + 1e-9:
            _, rows, skus, units = pending.popleft()
            np.subtract.at(w.pending_pos, (rows, skus), units)
            w.ledger.adjust_many(rows, skus, -units, at, "pos_sale")
