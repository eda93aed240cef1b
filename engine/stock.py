"""On-hand bookkeeping for the `Ledger`: ids, validation, loading and stock movements.

`StockBook` holds the (L, S) quantity arrays and the audit trail, and implements the
single-item operations that change on-hand: loading, receipts, expected receipts,
adjustments (POS sales, counts, shrink), returns and disposals. `engine.ledger.Ledger`
adds channels, ATS and reservations on top.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

import numpy as np

from engine.audit import ALL, AuditLog, Op
from engine.errors import LedgerError

_EPOCH_TS = 0.0


def max_units_for(dtype: np.dtype | type) -> int:
    """Largest quantity a cell, a movement, a buffer or a threshold of quantity arrays of
    `dtype` may hold: a quarter of the dtype's maximum, so that ATS, which subtracts
    reserved, safety stock, buffer and threshold from on hand, never wraps around, and at
    most 2,147,483,647, as the audit log keeps quantities as int32. [units]"""
    return min(int(np.iinfo(dtype).max) // 4, int(np.iinfo(np.int32).max))


MAX_UNITS = max_units_for(np.int32)
"""`StockBook.max_units` of the default int32 quantities: 536,870,911. [units]"""


class Incoming(NamedTuple):
    """An expected receipt (purchase order or transfer in transit)."""

    location: str
    sku: str
    quantity: int
    expected_at: datetime


def is_int(x: object) -> bool:
    """True for Python or numpy integers (not bools)."""
    if type(x) is int:  # the usual case (a bool's type is bool): one test
        return True
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def utc_ts(at: datetime) -> float:
    """Seconds since the epoch for a timezone-aware datetime. [s]"""
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise LedgerError(f"time must be a timezone-aware datetime (UTC), got {at!r}")
    return at.timestamp()


def check_reason(reason: str) -> str:
    """Return ``reason`` if it is a non-empty str without ':' (the audit's separator)."""
    if not isinstance(reason, str) or not reason or ":" in reason:
        raise LedgerError(f"reason must be a non-empty string without ':', got {reason!r}")
    return reason


def readonly_view(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a`` (writes through the view raise ValueError)."""
    view = a.view()
    view.flags.writeable = False
    return view


def check_ids(name: str, ids: Sequence[str]) -> None:
    """Raise `LedgerError` unless ``ids`` is a non-empty sequence of unique non-empty str."""
    if not ids:
        raise LedgerError(f"ledger needs at least one {name}")
    if not all(isinstance(i, str) and i for i in ids):
        raise LedgerError(f"{name} ids must be non-empty strings")
    if len(set(ids)) != len(ids):
        dupes = sorted(i for i, n in Counter(ids).items() if n > 1)[:5]
        raise LedgerError(f"duplicate {name} ids: {dupes}")


class StockBook:
    """Units on hand, reserved and withheld per location and SKU, with an audit trail.

    Args:
        location_ids: Unique location ids; row order of every ``(L, ...)`` array.
        skus: Unique SKU ids; column order of every ``(..., S)`` array.
        dtype: Signed integer dtype of the quantity arrays.

    Attributes:
        on_hand: Units on hand per location and SKU, never negative; read-only. (L, S)
            [units]
        reserved: Units reserved by open decisions; read-only. (L, S) [units]
        safety_stock: Units withheld from every channel; read-only, set with
            `set_stock`, `set_safety_stock` or `load_stock`. (L, S) [units]
        incoming_units: Units expected but not yet received per location and SKU;
            read-only; dated detail in `incoming`. (L, S) [units]
        audit: Every movement, see `AuditLog`.
        max_units: Largest quantity a cell, a movement, a buffer or a threshold may hold
            (`max_units_for` the dtype; `MAX_UNITS`, 536,870,911, for int32). [units]
    """

    def __init__(
        self, location_ids: Sequence[str], skus: Sequence[str], dtype: np.dtype | type = np.int32
    ) -> None:
        self.location_ids = tuple(location_ids)
        self.skus = tuple(skus)
        check_ids("location", self.location_ids)
        check_ids("SKU", self.skus)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "i":
            raise LedgerError(f"dtype must be a signed integer type, got {self.dtype}")
        self.max_units = max_units_for(self.dtype)
        self._max = self.max_units
        self.loc_index = {loc: i for i, loc in enumerate(self.location_ids)}
        self.sku_index = {sku: i for i, sku in enumerate(self.skus)}
        shape = (len(self.location_ids), len(self.skus))
        # Private writable arrays; the public attributes are read-only views so that every
        # change goes through an audited operation. _free_t caches
        # (on_hand - reserved - safety_stock).T, shape (S, L): ATS for k SKUs is then one
        # gather of k contiguous rows instead of three strided column gathers.
        self._on_hand = np.zeros(shape, dtype=self.dtype)
        self._reserved = np.zeros(shape, dtype=self.dtype)
        self._safety = np.zeros(shape, dtype=self.dtype)
        self._free_t = np.zeros(shape[::-1], dtype=self.dtype)
        self.on_hand = readonly_view(self._on_hand)
        self.reserved = readonly_view(self._reserved)
        self.safety_stock = readonly_view(self._safety)
        self._incoming: dict[tuple[int, int], list[tuple[int, datetime]]] = {}
        self._incoming_units = np.zeros(shape, dtype=self.dtype)
        self.incoming_units = readonly_view(self._incoming_units)
        self.audit = AuditLog(self.location_ids, self.skus)

    @property
    def shape(self) -> tuple[int, int]:
        """``(L, S)``: number of locations and SKUs."""
        return self.on_hand.shape

    def _move(self, i: int, s: int, delta: int) -> None:
        """Change on-hand of one cell by ``delta`` units, keeping ``_free_t`` in step."""
        self._on_hand[i, s] += delta
        self._free_t[s, i] += delta

    def _take(self, i: int, s: int, q: int, ts: float, op: Op, ref: str, reason: str) -> None:
        """Remove ``q`` (<= on-hand) units of one cell and audit it as ``op``.

        When the decrease leaves on-hand further below the reservations than before (a late
        POS report, a count, a write-off of reserved units), the extra oversold units are
        audited as ``oversell`` so that every oversell is on record, not only derivable.
        """
        reserved, before = int(self._reserved[i, s]), int(self._on_hand[i, s])
        self._move(i, s, -q)
        self.audit.append(ts, op, i, s, q, ref, reason)
        extra = max(0, reserved - (before - q)) - max(0, reserved - before)
        if extra:
            self.audit.append(ts, Op.OVERSELL, i, s, extra, ref, reason)

    def _add(
        self,
        loc: str | int,
        sku: str | int,
        qty: int,
        at: datetime,
        op: Op,
        what: str,
        reason: str,
        ref: str,
    ) -> tuple[int, int, int]:
        """Validate, then add ``qty`` units to one cell and audit them as ``op``."""
        i, s, where = self._cell(loc, sku)
        q = self._qty(qty, f"{what} {where}")
        ts = utc_ts(at)
        check_reason(reason)
        if int(self._on_hand[i, s]) + q > self._max:
            raise LedgerError(f"{what} {where}: on-hand would pass {self._max:,} units")
        self._move(i, s, q)
        self.audit.append(ts, op, i, s, q, ref, reason)
        return i, s, q

    # ------------------------------------------------------------------ lookups

    @staticmethod
    def _index(key: str | int, index: dict[str, int], size: int, what: str) -> int:
        """Row or column of an id, or of an integer index in ``0..size-1`` (a negative index
        is refused, not counted from the end)."""
        if isinstance(key, str):
            i = index.get(key)
            if i is not None:
                return i
        elif is_int(key):
            if 0 <= key < size:
                return int(key)
            raise LedgerError(f"unknown {what} {key!r}: {what} indices are 0..{size - 1}")
        raise LedgerError(f"unknown {what} {key!r}")

    def _loc(self, loc: str | int) -> int:
        return self._index(loc, self.loc_index, len(self.location_ids), "location")

    def _sku(self, sku: str | int) -> int:
        return self._index(sku, self.sku_index, len(self.skus), "SKU")

    def _qty(self, qty: int, what: str) -> int:
        if not is_int(qty) or qty <= 0:
            raise LedgerError(f"{what}: quantity must be a positive integer, got {qty!r}")
        if qty > self._max:
            raise LedgerError(f"{what}: quantity {qty} is over the limit of {self._max:,} units")
        return int(qty)

    def _cell(self, loc: str | int, sku: str | int) -> tuple[int, int, str]:
        i, s = self._loc(loc), self._sku(sku)
        return i, s, f"SKU {self.skus[s]!r} at {self.location_ids[i]!r}"

    def index_of(self, loc: str, sku: str) -> tuple[int, int]:
        """``(loc_idx, sku_idx)`` for ids; raises `LedgerError` for unknown ids."""
        return self._loc(loc), self._sku(sku)

    def sku_indices(self, skus: Iterable[str]) -> np.ndarray:
        """Column indices (int64 array) for SKU ids, for `ats`."""
        return np.fromiter((self._sku(s) for s in skus), dtype=np.int64)

    # ------------------------------------------------------------------ stock loading

    def set_stock(
        self,
        loc: str | int,
        sku: str | int,
        on_hand: int,
        safety_stock: int = 0,
        at: datetime | None = None,
    ) -> None:
        """Load a location-SKU's stock (audited as ``initial``; a decrease as ``adjust_down``).

        Args:
            loc: Location id (or index).
            sku: SKU id (or index).
            on_hand: Units on hand, >= 0. [units]
            safety_stock: Units withheld from every channel, >= 0. [units]
            at: Time of the load; None means the epoch.

        Raises:
            LedgerError: Unknown location or SKU, a quantity that is not an integer in
                [0, max_units], or a naive time (nothing changes).
        """
        i, s, where = self._cell(loc, sku)
        for name, v in (("on_hand", on_hand), ("safety_stock", safety_stock)):
            if not is_int(v) or not 0 <= v <= self._max:
                raise LedgerError(f"set_stock {where}: {name} must be an integer >= 0, got {v!r}")
        ts = _EPOCH_TS if at is None else utc_ts(at)
        delta = int(on_hand) - int(self._on_hand[i, s])
        self._free_t[s, i] += int(self._safety[i, s]) - safety_stock
        self._safety[i, s] = safety_stock
        if delta > 0:
            self._move(i, s, delta)
            self.audit.append(ts, Op.INITIAL, i, s, delta, "", "set_stock")
        elif delta < 0:
            self._take(i, s, -delta, ts, Op.ADJUST_DOWN, "", "set_stock")

    def load_stock(
        self,
        on_hand: np.ndarray,
        safety_stock: np.ndarray | None = None,
        at: datetime | None = None,
    ) -> None:
        """Bulk-load opening stock into an empty ledger (one ``initial`` record per location).

        Args:
            on_hand: Units on hand, shape (L, S), >= 0. [units]
            safety_stock: Units withheld from every channel, shape (L, S), >= 0. [units]
            at: Time of the load; None means the epoch.

        Raises:
            LedgerError: A non-empty ledger, arrays of the wrong shape or dtype, or values
                outside [0, max_units] (nothing changes).
        """
        ts = _EPOCH_TS if at is None else utc_ts(at)
        if self._on_hand.any() or self._reserved.any():
            raise LedgerError("load_stock needs an empty ledger; use set_stock or receive")
        arrays = {"on_hand": on_hand}
        if safety_stock is not None:
            arrays["safety_stock"] = safety_stock
        for name, arr in arrays.items():
            arr = np.asarray(arr)
            if arr.shape != self.shape or arr.dtype.kind not in "iu":
                raise LedgerError(f"load_stock: {name} must be an integer array of {self.shape}")
            if arr.size and (arr.min() < 0 or arr.max() > self._max):
                raise LedgerError(f"load_stock: {name} must be in [0, {self._max}]")
        self._on_hand[...] = on_hand
        if safety_stock is not None:
            self._safety[...] = safety_stock
        self._free_t[...] = (self._on_hand - self._safety).T
        int32_max = int(np.iinfo(np.int32).max)
        for i, total in enumerate(self.on_hand.sum(axis=1, dtype=np.int64).tolist()):
            while total > 0:  # audit quantities are int32: split huge location totals
                part = min(total, int32_max)
                self.audit.append(ts, Op.INITIAL, i, ALL, part, "", "load_stock")
                total -= part

    def set_safety_stock(
        self,
        units: int | np.ndarray,
        loc: str | int | None = None,
        sku: str | int | None = None,
    ) -> None:
        """Set safety stock for one cell, a location row, a SKU column or everything.

        Args:
            units: Units withheld from every channel, >= 0; a scalar or an array that
                broadcasts to the selected cells. [units]
            loc: Location id (or index); None selects every location.
            sku: SKU id (or index); None selects every SKU.

        Raises:
            LedgerError: Unknown location or SKU, or units that are not integers in
                [0, max_units] or do not broadcast to the selected cells.
        """
        rows = slice(None) if loc is None else self._loc(loc)
        cols = slice(None) if sku is None else self._sku(sku)
        target = self._safety[rows, cols]
        try:
            new = np.broadcast_to(np.asarray(units), np.shape(target))
        except ValueError:
            raise LedgerError(
                f"set_safety_stock: units of shape {np.shape(units)} do not fit {np.shape(target)}"
            ) from None
        if new.dtype.kind not in "iu" or (new.size and (new.min() < 0 or new.max() > self._max)):
            raise LedgerError(f"set_safety_stock: units must be integers in [0, {self._max}]")
        self._free_t[cols, rows] += (self._safety[rows, cols] - new).T
        self._safety[rows, cols] = new

    # ------------------------------------------------------------------ stock movements

    def receive(
        self,
        loc: str | int,
        sku: str | int,
        qty: int,
        at: datetime,
        reason: str = "receipt",
        ref: str = "",
    ) -> None:
        """Add received units to on-hand; matching expected receipts are consumed, earliest first.

        Args:
            loc: Location id (or index).
            sku: SKU id (or index).
            qty: Units received, > 0. [units]
            at: Time of the receipt (UTC).
            reason: Short reason, e.g. ``"receipt"`` or ``"transfer"``.
            ref: Free reference, e.g. a purchase order id.

        Raises:
            LedgerError: Unknown location or SKU, a quantity <= 0, a naive time, a bad
                reason, or an on-hand overflow (nothing changes).
        """
        i, s, q = self._add(loc, sku, qty, at, Op.RECEIVE, "receive", reason, ref)
        pending = self._incoming.get((i, s))
        left = q
        while pending and left:
            exp_q, exp_at = pending[0]
            if exp_q <= left:
                pending.pop(0)
                left -= exp_q
            else:
                pending[0] = (exp_q - left, exp_at)
                left = 0
        self._incoming_units[i, s] -= q - left
        if pending is not None and not pending:
            del self._incoming[(i, s)]

    def expect(self, loc: str | int, sku: str | int, qty: int, expected_at: datetime) -> None:
        """Record an expected receipt of ``qty`` units (not stock yet, not audited).

        Raises:
            LedgerError: Unknown location or SKU, a quantity <= 0, a naive time, or more
                units expected at the cell than the ledger's dtype holds.
        """
        i, s, where = self._cell(loc, sku)
        q = self._qty(qty, f"expect {where}")
        utc_ts(expected_at)
        if int(self._incoming_units[i, s]) + q > self._max:
            raise LedgerError(f"expect {where}: incoming units would pass {self._max:,}")
        pending = self._incoming.setdefault((i, s), [])
        pending.append((q, expected_at))
        self._incoming_units[i, s] += q
        pending.sort(key=lambda p: p[1])

    @property
    def incoming(self) -> list[Incoming]:
        """Expected receipts not yet received, ordered by expected time."""
        rows = [
            Incoming(self.location_ids[i], self.skus[s], q, when)
            for (i, s), pending in self._incoming.items()
            for q, when in pending
        ]
        return sorted(rows, key=lambda r: r.expected_at)

    def incoming_qty(self, loc: str | int, sku: str | int, until: datetime | None = None) -> int:
        """Units expected at a location-SKU (by ``until``, if given). [units]"""
        pending = self._incoming.get(self._cell(loc, sku)[:2], [])
        return sum(q for q, when in pending if until is None or when <= until)

    def adjust(
        self,
        loc: str | int,
        sku: str | int,
        delta: int,
        at: datetime,
        reason: str = "pos_sale",
        ref: str = "",
    ) -> int:
        """Change on-hand by ``delta`` (POS sale, count, shrink, found stock...).

        On-hand never goes below 0: a decrease larger than on-hand is clamped and the
        missing units are audited as ``shortfall`` (with this reason). Reservations are
        untouched, so on-hand may drop below reserved (a late POS report): the extra units
        oversold are audited as ``oversell`` and show in `Ledger.oversold`.

        Args:
            loc: Location id (or index).
            sku: SKU id (or index).
            delta: Units to add (> 0) or remove (< 0); 0 is a no-op. [units]
            at: Time of the report (UTC).
            reason: Short reason, e.g. ``"pos_sale"``, ``"cycle_count"``, ``"shrink"``.
            ref: Free reference.

        Returns:
            The change applied to on-hand (``delta`` unless clamped). [units]

        Raises:
            LedgerError: Unknown location or SKU, a non-integer delta, a naive time, a bad
                reason, or an on-hand overflow (nothing changes).
        """
        i, s, where = self._cell(loc, sku)
        if not is_int(delta) or abs(delta) > self._max:
            raise LedgerError(f"adjust {where}: delta must be an integer, got {delta!r}")
        ts = utc_ts(at)
        check_reason(reason)
        delta = int(delta)
        current = int(self._on_hand[i, s])
        if delta > 0:
            if current + delta > self._max:
                raise LedgerError(f"adjust {where}: on-hand would pass {self._max:,} units")
            self._move(i, s, delta)
            self.audit.append(ts, Op.ADJUST_UP, i, s, delta, ref, reason)
            return delta
        if delta == 0:
            return 0
        applied = min(-delta, current)
        if applied:
            self._take(i, s, applied, ts, Op.ADJUST_DOWN, ref, reason)
        if applied < -delta:
            self.audit.append(ts, Op.SHORTFALL, i, s, -delta - applied, ref, reason)
        return -applied

    def adjust_many(
        self,
        locs: np.ndarray,
        skus: np.ndarray,
        deltas: np.ndarray,
        at: datetime,
        reason: str,
        ref: str = "",
    ) -> np.ndarray:
        """`adjust` of several different cells at once, e.g. a POS sync.

        The ledger and the audit log end exactly as after ``adjust(loc, sku, delta, at,
        reason, ref)`` cell after cell, in the order given.

        Args:
            locs: Location index per cell, int (n,).
            skus: SKU index per cell, int (n,); no cell may repeat.
            deltas: Units to add (> 0) or remove (< 0) per cell, int (n,). [units]
            at: Time of the report (UTC).
            reason: Short reason, e.g. ``"pos_sale"``.
            ref: Free reference.

        Returns:
            The change applied to on-hand per cell (int64). [units]

        Raises:
            LedgerError: An index out of range, a repeated cell, a delta that is not an
                integer, a naive time, a bad reason, or an on-hand overflow (nothing
                changes).
        """
        i, s = np.asarray(locs), np.asarray(skus)
        d = np.asarray(deltas)
        ts = utc_ts(at)
        check_reason(reason)
        n_loc, n_sku = self.on_hand.shape
        if not (i.shape == s.shape == d.shape and i.ndim == 1) or any(
            a.dtype.kind not in "iu" for a in (i, s, d)
        ):
            raise LedgerError("adjust_many: locs, skus and deltas must be 1-d integer arrays")
        if i.size == 0:
            return np.zeros(0, dtype=np.int64)
        for what, idx, size in (("location", i, n_loc), ("SKU", s, n_sku)):
            bad = (idx < 0) | (idx >= size)
            if bad.any():
                raise LedgerError(
                    f"adjust_many: {what} index {int(idx[bad][0])} is out of range 0..{size - 1}"
                )
        cell = i.astype(np.int64) * n_sku + s
        if np.unique(cell).size != cell.size:
            raise LedgerError("adjust_many: a cell appears twice")
        if np.any(d > self._max) or np.any(d < -self._max):  # before any int64 arithmetic
            raise LedgerError(f"adjust_many: a delta is over the limit of {self._max:,} units")
        d = d.astype(np.int64)
        before = self._on_hand[i, s].astype(np.int64)
        if np.any(before + np.maximum(d, 0) > self._max):
            raise LedgerError(f"adjust_many: on-hand would pass {self._max:,} units")
        applied = np.where(d > 0, d, -np.minimum(-d, before))
        self._on_hand[i, s] += applied.astype(self.dtype)
        self._free_t[s, i] += applied.astype(self.dtype)
        reserved = self._reserved[i, s].astype(np.int64)
        extra = np.maximum(0, reserved - (before + applied)) - np.maximum(0, reserved - before)
        # Records cell by cell, as `adjust` writes them: the move, an oversell, a shortfall.
        qty = np.stack([np.abs(applied), extra, np.where(d < 0, -d + applied, 0)], axis=1)
        ops = np.empty(qty.shape, dtype=np.int8)
        ops[:, 0] = np.where(d > 0, Op.ADJUST_UP, Op.ADJUST_DOWN)
        ops[:, 1], ops[:, 2] = Op.OVERSELL, Op.SHORTFALL
        keep = (qty > 0).ravel()
        rows = np.repeat(i, 3)[keep]
        cols = np.repeat(s, 3)[keep]
        self.audit.extend_ops(ts, ops.ravel()[keep], rows, cols, qty.ravel()[keep], ref, reason)
        return applied

    def count(
        self, loc: str | int, sku: str | int, counted: int, at: datetime, ref: str = ""
    ) -> int:
        """Cycle count: set on-hand to ``counted`` via `adjust` (reason ``cycle_count``).

        Returns:
            The change applied to on-hand. [units]

        Raises:
            LedgerError: Unknown location or SKU, a count that is not an integer >= 0, or a
                naive time (nothing changes).
        """
        i, s, where = self._cell(loc, sku)
        if not is_int(counted) or not 0 <= counted <= self._max:
            raise LedgerError(f"count {where}: counted must be an integer >= 0, got {counted!r}")
        utc_ts(at)
        return self.adjust(i, s, int(counted) - int(self._on_hand[i, s]), at, "cycle_count", ref)

    def return_to_stock(
        self,
        loc: str | int,
        sku: str | int,
        qty: int,
        at: datetime,
        reason: str = "return",
        ref: str = "",
    ) -> None:
        """Put ``qty`` returned units back on hand (sellable again).

        Raises:
            LedgerError: Unknown location or SKU, a quantity <= 0, a naive time, a bad
                reason, or an on-hand overflow (nothing changes).
        """
        self._add(loc, sku, qty, at, Op.RETURN, "return", reason, ref)

    def dispose(
        self,
        loc: str | int,
        sku: str | int,
        qty: int,
        at: datetime,
        reason: str = "dispose",
        ref: str = "",
        from_return: bool = False,
    ) -> None:
        """Write units off.

        Args:
            loc: Location id (or index).
            sku: SKU id (or index).
            qty: Units disposed, > 0. [units]
            at: Time (UTC).
            reason: Short reason, e.g. ``"damaged"``.
            ref: Free reference.
            from_return: True for returned units that never went back on the shelf: they
                are audited as ``return`` then ``dispose`` and on-hand does not change.
                False takes the units from on-hand (at most what is on hand).

        Raises:
            LedgerError: Unknown location or SKU, a quantity <= 0, a naive time, a bad
                reason, or (not from a return) more units than are on hand.
        """
        i, s, where = self._cell(loc, sku)
        q = self._qty(qty, f"dispose {where}")
        ts = utc_ts(at)
        check_reason(reason)
        if from_return:
            self.audit.append(ts, Op.RETURN, i, s, q, ref, reason)
        else:
            on_hand = int(self._on_hand[i, s])
            if q > on_hand:
                raise LedgerError(f"dispose {where}: {q} units asked, only {on_hand} on hand")
            self._take(i, s, q, ts, Op.DISPOSE, ref, reason)
            return
        self.audit.append(ts, Op.DISPOSE, i, s, q, ref, reason)
