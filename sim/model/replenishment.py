"""Periodic-review, order-up-to replenishment: suppliers -> DCs -> stores.

Every ``review_days`` each store orders from its nearest DC, and each DC from its
supplier, up to ``order_up_to_days`` of forecast demand. The inventory position is the
system's view: ledger on-hand - reserved + units already on the way. The forecast per
location-SKU blends the last review period's observed outflow (picks, walk-in sales,
transfers out) with the rate the initial stock was sized for:
``rate = ALPHA * observed + (1 - ALPHA) * prior``. A DC ships what it has free (units
neither reserved nor missing), stores in network order. Lead times are normal with
``lead_sd_days`` (at least a tenth of the mean). Transfers are audited in the ledger as an
adjustment down at the DC, an expected receipt and a receipt at the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.timers import Timer, call_later

if TYPE_CHECKING:
    import simpy

    from sim.model.world import World

__all__ = ["ALPHA", "Replenishment"]

ALPHA = 0.7
"""Weight of the observed outflow in the replenishment forecast. [-]"""


class Replenishment:
    """Store and DC reviews with lead times.

    Args:
        w: The world.
    """

    def __init__(self, w: World) -> None:
        self.w = w
        rp = w.scn.inventory.replenishment
        self.review_days = rp.review_days
        self.store_days = rp.order_up_to_days.store
        self.dc_days = rp.order_up_to_days.dc
        self.store_lead = rp.store_lead_days
        self.dc_lead = rp.dc_lead_days
        self.lead_sd = rp.lead_sd_days
        self.rng = w.streams["replenishment"]
        self.store_rows = np.flatnonzero(w.is_store)
        self.dc_rows = np.flatnonzero(w.is_dc)
        self.source = w.source_dc  # store row -> DC row (-1: none)
        self.inbound = np.zeros(w.stock.on_hand.shape, dtype=np.int64)
        self._last = w.outflow.copy()

    def process(self) -> simpy.events.ProcessGenerator:
        """SimPy process: a review every `review_days` within the horizon."""
        env, w = self.w.env, self.w
        while True:
            yield env.timeout(self.review_days * 24.0)
            if env.now > w.horizon_h:
                return
            observed = (w.outflow - self._last) / self.review_days
            self._last = w.outflow.copy()
            rate = ALPHA * observed + (1.0 - ALPHA) * w.prior_rate
            self._stores(rate)
            self._dcs(rate)

    def _lead_hours(self, mean_days: float) -> float:
        days = mean_days + self.lead_sd * float(self.rng.standard_normal())
        return 24.0 * max(days, 0.1 * mean_days)

    def _need(self, rows: np.ndarray, rate: np.ndarray, days: float) -> np.ndarray:
        ledger = self.w.ledger
        target = np.rint(rate[rows] * days).astype(np.int64)
        position = (
            ledger.on_hand[rows].astype(np.int64) - ledger.reserved[rows] + self.inbound[rows]
        )
        return np.maximum(target - position, 0)

    def _stores(self, rate: np.ndarray) -> None:
        w, now = self.w, self.w.env.now
        rows = self.store_rows[self.source[self.store_rows] >= 0]
        if rows.size == 0:
            return
        need = self._need(rows, rate, self.store_days)
        ledger, stock = w.ledger, w.stock
        at = w.clock.dt(now)
        for dc in sorted(set(self.source[rows].tolist())):
            mine = self.source[rows] == dc
            want = need[mine]
            free = np.minimum(stock.on_hand[dc], ledger.on_hand[dc]) - ledger.reserved[dc]
            free = np.maximum(free, 0)
            before = np.cumsum(want, axis=0) - want
            give = np.clip(free[None, :] - before, 0, want)
            for k, store in enumerate(rows[mine].tolist()):
                skus = np.flatnonzero(give[k])
                if skus.size == 0:
                    continue
                qty = give[k, skus]
                took = stock.take_upto(np.full(skus.size, dc), skus, qty, now)
                if not np.array_equal(took, qty):
                    raise RuntimeError(f"replenishment: DC row {dc} short of free stock")
                total = int(qty.sum())
                stock.flows.transfer += total
                np.add.at(w.outflow[dc], skus, qty)
                lead = self._lead_hours(self.store_lead)
                eta = w.clock.dt(now + lead)
                for s, q in zip(skus.tolist(), qty.tolist(), strict=True):
                    ledger.adjust(dc, s, -q, at, "transfer_out")
                    ledger.expect(store, s, q, eta)
                self.inbound[store, skus] += qty
                w.rec.event(now, "replenish_store", location=store, qty=total,
                            detail=f"from {w.loc_ids[dc]}, {skus.size} skus")  # fmt: skip
                call_later(w.env, lead, self._arrive, (store, skus, qty, True))

    def _dcs(self, rate: np.ndarray) -> None:
        w, now = self.w, self.w.env.now
        rows = self.dc_rows
        if rows.size == 0:
            return
        need = self._need(rows, rate, self.dc_days)
        for k, dc in enumerate(rows.tolist()):
            skus = np.flatnonzero(need[k])
            if skus.size == 0:
                continue
            qty = need[k, skus]
            lead = self._lead_hours(self.dc_lead)
            eta = w.clock.dt(now + lead)
            for s, q in zip(skus.tolist(), qty.tolist(), strict=True):
                w.ledger.expect(dc, s, q, eta)
            self.inbound[dc, skus] += qty
            w.rec.event(now, "replenish_dc", location=dc, qty=int(qty.sum()),
                        detail=f"{skus.size} skus")  # fmt: skip
            call_later(w.env, lead, self._arrive, (dc, skus, qty, False))

    def _arrive(self, ev: Timer) -> None:
        row, skus, qty, transfer = ev.value
        w, now = self.w, self.w.env.now
        at = w.clock.dt(now)
        total = int(qty.sum())
        w.stock.put_many(np.full(skus.size, row), skus, qty, now)
        if transfer:
            w.stock.flows.transfer -= total
        else:
            w.stock.flows.received += total
        reason = "transfer" if transfer else "receipt"
        for s, q in zip(skus.tolist(), qty.tolist(), strict=True):
            w.ledger.receive(row, s, q, at, reason)
        self.inbound[row, skus] -= qty
        w.rec.event(now, "receipt", location=row, qty=total, detail=reason)
