"""Physical stock on the shelves, with unit flows and time-weighted levels.

This is the world, not the engine's record: the `engine.Ledger` only learns about these
units through reported events (POS syncs, receipts, counts, returns). Every change goes
through `PhysicalStock` so that (1) stock never goes negative, (2) every unit that leaves or
enters a shelf is counted in a flow, which makes conservation checkable at the end of a run,
and (3) per-location levels are integrated over time (level-change accounting, no sampling).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["ConservationError", "Flows", "PhysicalStock"]


class ConservationError(RuntimeError):
    """Units were created or lost by the model: a bug, never a scenario outcome."""


@dataclass(slots=True)
class Flows:
    """Cumulative physical unit flows of a run. [units]

    Inflows: `initial`, `received` (supplier receipts at DCs), `returned` (customer returns
    arriving at a location). Outflows: `sold` (POS), `shipped` (handed to a carrier or
    courier), `picked_up` (BOPIS collected), `disposed`, `shrunk` (lost from store shelves
    unrecorded: theft, damage). Pipelines (units off the shelf but
    still ours): `awaiting_carrier` (packed, waiting for the pickup), `awaiting_pickup` (BOPIS
    ready at the store), `transfer` (between locations), `inspection` (returns being
    inspected).
    """

    initial: int = 0
    received: int = 0
    returned: int = 0
    sold: int = 0
    shipped: int = 0
    picked_up: int = 0
    disposed: int = 0
    shrunk: int = 0
    awaiting_carrier: int = 0
    awaiting_pickup: int = 0
    transfer: int = 0
    inspection: int = 0

    @property
    def in_transit(self) -> int:
        """Units in any pipeline. [units]"""
        return self.awaiting_carrier + self.awaiting_pickup + self.transfer + self.inspection

    def as_dict(self) -> dict[str, int]:
        """All flows as plain ints."""
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}


class PhysicalStock:
    """Units on each shelf (L, S), never negative, with per-location level statistics.

    Args:
        initial: Opening units per location and SKU, integer (L, S). [units]
        days: Number of daily buckets for the daily level series. [days]

    Attributes:
        on_hand: int64 (L, S) units on the shelf. Write only through the methods.
        flows: Cumulative flows, see `Flows`.
    """

    def __init__(self, initial: np.ndarray, days: int) -> None:
        if initial.ndim != 2 or initial.size and initial.min() < 0:
            raise ValueError("initial stock must be a non-negative (L, S) array")
        self.on_hand = np.array(initial, dtype=np.int64)
        n_loc = self.on_hand.shape[0]
        self.flows = Flows(initial=int(self.on_hand.sum()))
        level = self.on_hand.sum(axis=1).tolist()
        self._level: list[int] = level
        self._last: list[float] = [0.0] * n_loc
        self._area: list[float] = [0.0] * n_loc  # unit-hours since the start
        self._day_area: list[float] = [0.0] * n_loc  # unit-hours since the last day close
        self._min: list[int] = list(level)
        self._max: list[int] = list(level)
        self._day_min: list[int] = list(level)
        self._day_max: list[int] = list(level)
        self._days: list[tuple[int, float, list[float], list[int], list[int], list[int]]] = []
        self._day_start = 0.0
        self.n_days = days

    # ------------------------------------------------------------------ level accounting

    def _touch(self, row: int, delta: int, t: float) -> None:
        level = self._level[row]
        span = level * (t - self._last[row])
        self._area[row] += span
        self._day_area[row] += span
        self._last[row] = t
        level += delta
        self._level[row] = level
        if level < self._min[row]:
            self._min[row] = level
        elif level > self._max[row]:
            self._max[row] = level
        if level < self._day_min[row]:
            self._day_min[row] = level
        elif level > self._day_max[row]:
            self._day_max[row] = level

    def close_day(self, day: int, t: float) -> None:
        """Close the daily bucket `day` at time `t` (called once per simulated day). [h]"""
        width = max(t - self._day_start, 1e-12)
        means = []
        for row, level in enumerate(self._level):
            span = level * (t - self._last[row])
            self._area[row] += span
            means.append((self._day_area[row] + span) / width)
            self._last[row] = t
        self._days.append(
            (day, width, means, list(self._day_min), list(self._day_max), list(self._level))
        )
        self._day_area = [0.0] * len(self._level)
        self._day_min = list(self._level)
        self._day_max = list(self._level)
        self._day_start = t

    def summary(self, t_end: float) -> dict[str, np.ndarray]:
        """Whole-run level statistics per location up to `t_end`. [units]"""
        area = np.array(
            [
                a + lv * (t_end - last)
                for a, lv, last in zip(self._area, self._level, self._last, strict=True)
            ]
        )
        return {
            "mean_on_hand": area / max(t_end, 1e-12),
            "min_on_hand": np.array(self._min),
            "max_on_hand": np.array(self._max),
            "end_on_hand": np.array(self._level),
        }

    def daily(self) -> list[tuple[int, float, list[float], list[int], list[int], list[int]]]:
        """Closed daily buckets: `(day, hours, mean, min, max, end)` per day."""
        return self._days

    # ------------------------------------------------------------------ single cells

    def available(self, row: int, sku: int) -> int:
        """Units of `sku` on the shelf at location `row`. [units]"""
        return int(self.on_hand[row, sku])

    def take(self, row: int, sku: int, qty: int, t: float) -> None:
        """Take `qty` units off a shelf; raises ConservationError if they are not there."""
        self._remove(row, sku, qty, t)
        self._touch(row, -qty, t)

    def pick_lines(
        self, row: int, lines: list[tuple[int, int, int]], t: float
    ) -> list[tuple[int, int, int]]:
        """Take a package's `(sku, qty, _)` `lines` at location `row`, with one update of
        the location's level statistics, if the shelves hold them all; else take nothing.

        Returns:
            The lines the shelves cannot fill (empty when the package was taken).

        Raises:
            ConservationError: The same SKU twice, together more than its shelf holds.
        """
        on_hand = self.on_hand
        short = [line for line in lines if on_hand.item(row, line[0]) < line[1]]
        if short or not lines:
            return short
        units = 0
        for s, q, _ in lines:
            self._remove(row, s, q, t)
            units += q
        self._touch(row, -units, t)
        return short

    def _remove(self, row: int, sku: int, qty: int, t: float) -> None:
        """Lower one shelf by `qty` (level statistics not updated); raises
        ConservationError if the units are not there."""
        have = self.on_hand.item(row, sku)
        if qty > have:
            raise ConservationError(
                f"shelf {row}/{sku} holds {have} units, cannot take {qty} at t={t:.3f} h"
            )
        self.on_hand[row, sku] = have - qty

    def put(self, row: int, sku: int, qty: int, t: float) -> None:
        """Put `qty` units on a shelf."""
        self.on_hand[row, sku] += qty
        self._touch(row, qty, t)

    # ------------------------------------------------------------------ batches

    def take_upto(
        self, rows: np.ndarray, skus: np.ndarray, qty: np.ndarray, t: float
    ) -> np.ndarray:
        """Take up to `qty` units from each (row, sku); repeats of a cell are served in order.

        Returns:
            int64 units actually taken per entry (<= qty). [units]
        """
        if rows.size == 0:
            return np.zeros(0, dtype=np.int64)
        n_sku = self.on_hand.shape[1]
        key = rows.astype(np.int64) * n_sku + skus
        order = np.argsort(key, kind="stable")
        k, q = key[order], qty[order].astype(np.int64)
        uniq, first = np.unique(k, return_index=True)
        have = self.on_hand.reshape(-1)[uniq]
        # cumulative demand within each cell, in arrival order
        cum = np.cumsum(q)
        start = np.repeat(cum[first] - q[first], np.diff(np.append(first, k.size)))
        before = cum - q - start
        cell_have = np.repeat(have, np.diff(np.append(first, k.size)))
        took_sorted = np.clip(cell_have - before, 0, q)
        took = np.empty_like(took_sorted)
        took[order] = took_sorted
        flat = self.on_hand.reshape(-1)
        np.subtract.at(flat, k, took_sorted)
        per_row = np.bincount(rows, weights=took, minlength=self.on_hand.shape[0])
        for row in np.flatnonzero(per_row).tolist():
            self._touch(row, -int(per_row[row]), t)
        return took

    def put_many(self, rows: np.ndarray, skus: np.ndarray, qty: np.ndarray, t: float) -> None:
        """Put units on many shelves at once."""
        if rows.size == 0:
            return
        np.add.at(self.on_hand, (rows, skus), qty)
        per_row = np.bincount(rows, weights=qty, minlength=self.on_hand.shape[0])
        for row in np.flatnonzero(per_row).tolist():
            self._touch(row, int(per_row[row]), t)

    # ------------------------------------------------------------------ checks

    def check(self) -> dict[str, int]:
        """Check conservation of units and the level bookkeeping.

        ``initial + received + returned == on_hand + sold + shipped + picked_up + disposed +
        shrunk + in_transit``, stock never negative, pipelines never negative, and per-location
        running levels equal the shelf sums.

        Returns:
            The totals (flows, pipelines, `on_hand`, `in_transit`). [units]

        Raises:
            ConservationError: Naming both sides of the failed balance.
        """
        f = self.flows
        on_hand = int(self.on_hand.sum())
        out = f.as_dict()
        out["on_hand"] = on_hand
        out["in_transit"] = f.in_transit
        inflow = f.initial + f.received + f.returned
        outflow = on_hand + f.sold + f.shipped + f.picked_up + f.disposed + f.shrunk + f.in_transit
        if inflow != outflow:
            raise ConservationError(
                f"physical units not conserved: initial {f.initial} + received {f.received} + "
                f"returned {f.returned} = {inflow} != on_hand {on_hand} + sold {f.sold} + "
                f"shipped {f.shipped} + picked_up {f.picked_up} + disposed {f.disposed} + "
                f"shrunk {f.shrunk} + in_transit {f.in_transit} = {outflow}"
            )
        if self.on_hand.size and int(self.on_hand.min()) < 0:
            raise ConservationError("negative physical stock on some shelf")
        negative = [
            k
            for k in ("awaiting_carrier", "awaiting_pickup", "transfer", "inspection")
            if out[k] < 0
        ]
        if negative:
            raise ConservationError(f"negative pipeline(s): {negative}")
        sums = self.on_hand.sum(axis=1).tolist()
        if sums != self._level:
            raise ConservationError("per-location level bookkeeping drifted from the shelves")
        return out
