"""Columnar audit log of inventory movements.

Every change the `Ledger` makes to on-hand or reserved stock is appended here as one
record: time, operation, location, SKU, quantity, a free reference (usually a decision or
order id) and a short reason. Records live in growable numpy columns (amortised doubling),
about 30-40 bytes per record, so a simulated year of movements fits comfortably in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from enum import IntEnum
from typing import NamedTuple

import numpy as np


class Op(IntEnum):
    """Kind of movement; stored as int8 in the log."""

    INITIAL = 0  # opening stock loaded into the ledger (inflow)
    RECEIVE = 1  # receipt from a supplier or transfer (inflow)
    RESERVE = 2  # units reserved for a routing decision (no on-hand change)
    RELEASE = 3  # reservation given back (no on-hand change)
    FULFIL = 4  # reserved units consumed by a shipment or pickup (outflow)
    ADJUST_UP = 5  # positive adjustment, e.g. a count above the record (inflow)
    ADJUST_DOWN = 6  # negative adjustment applied, e.g. a POS sale or shrink (outflow)
    SHORTFALL = 7  # units asked for that were not on hand (no on-hand change)
    RETURN = 8  # customer return put back into stock (inflow)
    DISPOSE = 9  # units written off, e.g. a damaged return (outflow)
    OVERSELL = 10  # on-hand fell below reserved by this much more (no on-hand change)


OP_NAMES: tuple[str, ...] = tuple(op.name.lower() for op in Op)
"""Op names by code, e.g. ``OP_NAMES[Op.FULFIL] == "fulfil"``."""

ALL = -1
"""Location or SKU index meaning "all" (used by bulk records, e.g. a whole-location load)."""


class Movement(NamedTuple):
    """One audit record with ids resolved.

    Attributes:
        at: Time of the movement (UTC).
        op: Operation name, one of `OP_NAMES`.
        location: Location id ("*" for a record over all locations).
        sku: SKU id ("*" for a record over all SKUs of the location).
        quantity: Units moved (>= 0).
        ref: ``"<reason>:<reference>"`` (e.g. ``"ship:D-17"``), or just the reason or
            reference when the other is empty.
    """

    at: datetime
    op: str
    location: str
    sku: str
    quantity: int
    ref: str


class AuditLog:
    """Append-only, columnar log of inventory movements.

    Args:
        location_ids: Location ids, in ledger row order (used to resolve indices).
        skus: SKU ids, in ledger column order.
        capacity: Initial number of records allocated; grows by doubling.
    """

    _COLUMNS = (
        ("_ts", np.float64),
        ("_op", np.int8),
        ("_loc", np.int32),
        ("_sku", np.int32),
        ("_qty", np.int32),
        ("_reason", np.int16),
    )

    def __init__(
        self, location_ids: Sequence[str], skus: Sequence[str], capacity: int = 1024
    ) -> None:
        self.location_ids = tuple(location_ids)
        self.skus = tuple(skus)
        self._n = 0
        self._cap = max(16, int(capacity))
        for name, dtype in self._COLUMNS:
            setattr(self, name, np.empty(self._cap, dtype=dtype))
        self._refs: list[str] = []
        self._reason_codes: dict[str, int] = {"": 0}
        self._reasons: list[str] = [""]
        self._totals = [0] * len(Op)

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return f"AuditLog({self._n} records)"

    @property
    def nbytes(self) -> int:
        """Bytes held by the numpy columns and the reference list (not the strings)."""
        cols = sum(getattr(self, name).nbytes for name, _ in self._COLUMNS)
        return cols + 8 * len(self._refs)

    def _reserve_space(self, extra: int) -> None:
        need = self._n + extra
        if need <= self._cap:
            return
        cap = self._cap
        while cap < need:
            cap *= 2
        for name, dtype in self._COLUMNS:
            grown = np.empty(cap, dtype=dtype)
            grown[: self._n] = getattr(self, name)[: self._n]
            setattr(self, name, grown)
        self._cap = cap

    def _reason_code(self, reason: str) -> int:
        code = self._reason_codes.get(reason)
        if code is None:
            if len(self._reasons) >= np.iinfo(np.int16).max:
                raise ValueError("too many distinct audit reasons (max 32767)")
            code = len(self._reasons)
            self._reason_codes[reason] = code
            self._reasons.append(reason)
        return code

    def append(
        self, at_ts: float, op: int, loc: int, sku: int, qty: int, ref: str, reason: str = ""
    ) -> None:
        """Append one record.

        Args:
            at_ts: Time in seconds since the Unix epoch (UTC). [s]
            op: `Op` code.
            loc: Location index (or `ALL`).
            sku: SKU index (or `ALL`).
            qty: Units moved. [units]
            ref: Free reference, usually a decision or order id.
            reason: Short reason, e.g. ``"pos_sale"``; interned, so repeats are cheap.
        """
        if self._n == self._cap:
            self._reserve_space(1)
        i = self._n
        self._ts[i] = at_ts
        self._op[i] = op
        self._loc[i] = loc
        self._sku[i] = sku
        self._qty[i] = qty
        self._reason[i] = self._reason_code(reason)
        self._refs.append(ref)
        self._totals[op] += int(qty)
        self._n = i + 1

    def extend(
        self,
        at_ts: float,
        op: int,
        locs: Sequence[int] | np.ndarray,
        skus: Sequence[int] | np.ndarray,
        qtys: Sequence[int] | np.ndarray,
        ref: str,
        reason: str = "",
    ) -> None:
        """Append several records sharing time, op, reference and reason.

        Args:
            at_ts: Time in seconds since the Unix epoch (UTC). [s]
            op: `Op` code.
            locs: Location indices, one per record.
            skus: SKU indices, one per record.
            qtys: Units per record. [units]
            ref: Free reference shared by all records.
            reason: Short reason shared by all records.
        """
        qtys = np.asarray(qtys, dtype=np.int64)
        if len(qtys):
            self._put(at_ts, op, locs, skus, qtys, [ref] * len(qtys), self._reason_code(reason))

    def extend_each(
        self,
        at_ts: float,
        op: int,
        locs: np.ndarray,
        skus: np.ndarray,
        qtys: np.ndarray,
        refs: list[str],
        reasons: list[str],
    ) -> None:
        """Append several records sharing time and op, each with its own reference and reason.

        Args:
            at_ts: Time in seconds since the Unix epoch (UTC). [s]
            op: `Op` code.
            locs: Location indices, one per record.
            skus: SKU indices, one per record.
            qtys: Units per record, int64. [units]
            refs: Reference per record.
            reasons: Reason per record.
        """
        code = self._reason_code
        self._put(at_ts, op, locs, skus, qtys, refs, [code(r) for r in reasons])

    def extend_ops(
        self,
        at_ts: float,
        ops: np.ndarray,
        locs: np.ndarray,
        skus: np.ndarray,
        qtys: np.ndarray,
        ref: str,
        reason: str = "",
    ) -> None:
        """Append several records sharing time, reference and reason, each with its own op.

        Args:
            at_ts: Time in seconds since the Unix epoch (UTC). [s]
            ops: `Op` code per record.
            locs: Location indices, one per record.
            skus: SKU indices, one per record.
            qtys: Units per record, int64. [units]
            ref: Reference shared by all records.
            reason: Reason shared by all records.
        """
        if len(qtys):
            self._put(at_ts, ops, locs, skus, qtys, [ref] * len(qtys), self._reason_code(reason))

    def _put(
        self,
        at_ts: float,
        op: int | np.ndarray,
        locs: Sequence[int] | np.ndarray,
        skus: Sequence[int] | np.ndarray,
        qtys: np.ndarray,
        refs: list[str],
        reason_codes: int | list[int],
    ) -> None:
        """Write records at the end of the columns (growing them as needed)."""
        k = len(qtys)
        if k == 0:
            return
        self._reserve_space(k)
        sl = slice(self._n, self._n + k)
        self._ts[sl] = at_ts
        self._op[sl] = op
        self._loc[sl] = locs
        self._sku[sl] = skus
        self._qty[sl] = qtys
        self._reason[sl] = reason_codes
        self._refs.extend(refs)
        if isinstance(op, np.ndarray):
            by_op = np.bincount(op, weights=qtys, minlength=len(self._totals)).tolist()
            self._totals = [t + int(u) for t, u in zip(self._totals, by_op, strict=True)]
        else:  # (usually a few records: a sum of Python ints costs less than numpy's)
            self._totals[op] += sum(qtys.tolist())
        self._n += k

    def totals_by_op(self) -> dict[str, int]:
        """Units per op over the whole log, e.g. ``{"initial": 1200, "fulfil": 300, ...}``.

        Kept as running totals, so this is O(1) in the number of records.
        """
        return dict(zip(OP_NAMES, self._totals, strict=True))

    def columns(self) -> dict[str, np.ndarray | list[str]]:
        """Copies of the columns, ready for ``pandas.DataFrame(log.columns())``.

        Returns:
            ``timestamp`` (float64 seconds since epoch), ``op`` (int8 `Op` codes; names via
            `OP_NAMES`), ``loc`` and ``sku`` (int32 indices, -1 = all; ids via
            ``location_ids`` / ``skus``), ``qty`` (int32 units), ``ref`` and ``reason``
            (lists of str). All have the same length.
        """
        n = self._n
        reasons = self._reasons
        return {
            "timestamp": self._ts[:n].copy(),
            "op": self._op[:n].copy(),
            "loc": self._loc[:n].copy(),
            "sku": self._sku[:n].copy(),
            "qty": self._qty[:n].copy(),
            "ref": list(self._refs),
            "reason": [reasons[c] for c in self._reason[:n].tolist()],
        }

    def records(self, start: int = 0) -> Iterator[Movement]:
        """Yield records from index ``start`` on as `Movement` tuples with ids resolved."""
        locs, skus, reasons = self.location_ids, self.skus, self._reasons
        n = self._n
        rows = zip(
            self._ts[start:n].tolist(),
            self._op[start:n].tolist(),
            self._loc[start:n].tolist(),
            self._sku[start:n].tolist(),
            self._qty[start:n].tolist(),
            self._reason[start:n].tolist(),
            self._refs[start:n],
            strict=True,
        )
        for ts, op, loc, sku, qty, reason_code, ref in rows:
            reason = reasons[reason_code]
            label = f"{reason}:{ref}" if reason and ref else (reason or ref)
            yield Movement(
                at=datetime.fromtimestamp(ts, UTC),
                op=OP_NAMES[op],
                location="*" if loc == ALL else locs[loc],
                sku="*" if sku == ALL else skus[sku],
                quantity=qty,
                ref=label,
            )
