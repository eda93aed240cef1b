"""Inventory ledger: on-hand, reservations and available-to-sell (ATS) per location and SKU.

The ledger is the engine's *record* of stock. It only knows what it is told (receipts,
POS sales, counts, returns), so it can disagree with the shelf; the simulation measures
that gap. Quantities are held in dense ``(L, S)`` numpy arrays (locations x SKUs, int32 by
default: 40 MB each at 500 x 20,000) so that ATS for a few SKUs over every location is a
handful of vectorised operations on the routing hot path.

ATS (Shopify / HotWax style), per channel ``c``, location ``l`` and SKU ``s``::

    ats = max(0, on_hand - reserved - safety_stock - channel_buffer[c, l])

and, on online channels only, a store's ATS counts only when ``ats >= online_threshold[l]``
(otherwise 0). Every stock movement is written to an `AuditLog`, and
`Ledger.check_conservation` proves that every unit is accounted for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np

from engine.audit import Op
from engine.errors import LedgerError
from engine.stock import (
    Incoming,
    StockBook,
    check_ids,
    check_reason,
    is_int,
    readonly_view,
    utc_ts,
)

DEFAULT_CHANNELS: tuple[str, ...] = ("web", "app", "marketplace", "social", "pos", "wholesale")
"""Sales channels, same values as `engine.order.Channel`."""

ONLINE_CHANNELS: tuple[str, ...] = ("web", "app", "marketplace", "social")
"""Channels where a store's stock is offered only at or above its online threshold."""

# Enum members as module constants: on the hot path (per order) a member read from its
# class (`Op.FULFIL`) costs several times a global in CPython 3.11.
_FULFIL, _RESERVE = Op.FULFIL, Op.RESERVE


class FulfilResult(list):
    """What `Ledger.fulfil` consumed: a list of ``(sku_idx, qty)`` plus the shortfall.

    It *is* the list of consumed ``(sku_idx, qty)`` pairs (so it can be used wherever a
    plain list is expected); ``short`` lists the ``(sku_idx, qty)`` that were reserved but
    not on hand (e.g. after a late POS report) and must be rerouted by the caller.
    """

    __slots__ = ("short",)

    def __init__(self, consumed: Iterable[tuple[int, int]] = (), short=()) -> None:
        super().__init__(consumed)
        self.short: list[tuple[int, int]] = list(short)

    @property
    def consumed(self) -> list[tuple[int, int]]:
        """Consumed ``(sku_idx, qty)`` pairs (the list itself)."""
        return list(self)

    @property
    def complete(self) -> bool:
        """True when nothing was short."""
        return not self.short

    def __repr__(self) -> str:
        return f"FulfilResult(consumed={list(self)!r}, short={self.short!r})"


def _parts(wanted: dict[tuple[int, int], int]) -> dict[int, dict[int, int]]:
    """A reservation record: ``{loc_idx: {sku_idx: qty}}`` of ``{(loc_idx, sku_idx): qty}``."""
    parts: dict[int, dict[int, int]] = {}
    for (i, s), q in wanted.items():
        parts.setdefault(i, {})[s] = q
    return parts


class Ledger(StockBook):
    """Stock record over locations x SKUs, with reservations, ATS and an audit trail.

    All operations validate their input and raise `LedgerError` with a message naming the
    location, SKU or decision; on error nothing changes. The public arrays are read-only
    views: stock changes only through the audited operations, so `check_conservation` holds.

    Args:
        location_ids: Unique location ids; row order of every ``(L, ...)`` array.
        skus: Unique SKU ids; column order of every ``(..., S)`` array.
        channels: Channel names (plain strings or `Channel` members).
        dtype: Signed integer dtype of the quantity arrays.
        online_channels: Channels on which store online thresholds apply.

    Attributes:
        on_hand: Units on hand per location and SKU, never negative. (L, S) [units]
        reserved: Units reserved by open decisions. (L, S) [units]
        safety_stock: Units withheld from every channel (use `set_safety_stock`). (L, S)
            [units]
        channel_buffer: Units per location-SKU withheld from a channel (read-only; use
            `set_channel_buffer`). (C, L) [units]
        online_threshold: Minimum store ATS shown online (read-only; use
            `configure_locations`). (L,) [units]
        is_store: Whether the threshold applies to a location (read-only). (L,)
        audit: Every movement, see `AuditLog`.
    """

    def __init__(
        self,
        location_ids: Sequence[str],
        skus: Sequence[str],
        channels: Sequence[str] = DEFAULT_CHANNELS,
        dtype: np.dtype | type = np.int32,
        online_channels: Iterable[str] = ONLINE_CHANNELS,
    ) -> None:
        super().__init__(location_ids, skus, dtype)
        self.channels = tuple(str(c) for c in channels)
        check_ids("channel", self.channels)
        self.channel_index = {ch: i for i, ch in enumerate(self.channels)}
        online = {str(c) for c in online_channels}
        self._online = tuple(ch in online for ch in self.channels)
        self._buffer = np.zeros((len(self.channels), len(self.location_ids)), self.dtype)
        self.channel_buffer = readonly_view(self._buffer)
        self._buffer_rows: list[np.ndarray | None] = [None] * len(self.channels)
        self.configure_locations(online_threshold=0, is_store=False)
        self._open: dict[str, dict[int, dict[int, int]]] = {}  # decision -> loc -> sku -> qty
        # units `fulfil` consumed per decision: `_fulfilled` holds the open decisions with
        # some consumed, `_closed` every closed decision (0 when all of it was given back)
        self._fulfilled: dict[str, int] = {}
        self._closed: dict[str, int] = {}

    def __repr__(self) -> str:
        n_loc, n_sku = self.shape
        return f"Ledger({n_loc} locations x {n_sku} SKUs, {len(self._open)} open decisions)"

    # ------------------------------------------------------------------ configuration

    def configure_locations(
        self,
        online_threshold: int | Sequence[int] | np.ndarray | None = None,
        is_store: bool | Sequence[bool] | np.ndarray | None = None,
    ) -> None:
        """Set store flags and online thresholds (scalars broadcast to every location).

        Args:
            online_threshold: Minimum ATS for a store's stock to count online. [units]
            is_store: Whether each location is a store (thresholds apply to stores only).

        Raises:
            LedgerError: Thresholds that are not non-negative integers, or store flags that
                are not booleans (nothing changes).
        """
        n_loc = len(self.location_ids)
        thr = self.online_threshold if online_threshold is None else online_threshold
        store = self.is_store if is_store is None else is_store
        thr = np.broadcast_to(np.asarray(thr), (n_loc,))
        store = np.broadcast_to(np.asarray(store), (n_loc,))
        if thr.dtype.kind not in "iu" or (thr < 0).any() or (thr > self._max).any():
            raise LedgerError(
                f"online_threshold must be integers in [0, {self._max:,}], one per location"
            )
        if store.dtype != np.bool_:
            raise LedgerError("is_store must be booleans, one per location")
        self.online_threshold = thr.astype(self.dtype)
        self.is_store = store.copy()
        self.online_threshold.flags.writeable = False
        self.is_store.flags.writeable = False
        effective = np.where(self.is_store, self.online_threshold, 0).astype(self.dtype)
        self._thr_list = effective.tolist()
        # ATS of an integer cell is kept iff ats >= max(threshold, 1): one test does both the
        # clamp at 0 and the store threshold. None = no threshold on this channel.
        floor = np.maximum(effective, 1)
        self._floors = tuple(
            floor if (online and effective.any()) else None for online in self._online
        )

    def set_channel_buffer(self, channel: str, units: int, loc: str | int | None = None) -> None:
        """Withhold ``units`` of every SKU from ``channel`` at one or all locations. [units]

        Raises:
            LedgerError: Unknown channel or location, or units not an integer >= 0.
        """
        c = self._chan(channel)
        if not is_int(units) or not 0 <= units <= self._max:
            raise LedgerError(
                f"channel buffer must be an integer in [0, {self._max:,}], got {units!r}"
            )
        if loc is None:
            self._buffer[c, :] = units
        else:
            self._buffer[c, self._loc(loc)] = units
        row = self._buffer[c]
        self._buffer_rows[c] = row.copy() if row.any() else None

    # ------------------------------------------------------------------ lookups

    def _chan(self, channel: str) -> int:
        c = self.channel_index.get(channel)
        if c is None:
            raise LedgerError(f"unknown channel {channel!r}; known: {', '.join(self.channels)}")
        return c

    # ------------------------------------------------------------------ ATS

    def ats(
        self, channel: str, sku_idx: np.ndarray | Sequence[int] | int | None = None
    ) -> np.ndarray:
        """Available to sell on ``channel`` for the given SKU columns, at every location.

        Args:
            channel: Channel name.
            sku_idx: SKU column indices in ``0..S-1`` (array-like of k ints), a single int,
                or None for all SKUs. Negative indices are refused, not counted from the
                end.

        Returns:
            A new int array ``(L, k)`` (``(L,)`` for an int, ``(L, S)`` for None), >= 0,
            with store online thresholds applied on online channels; Fortran-ordered. [units]

        Raises:
            LedgerError: Unknown channel, or a SKU index that is not an integer in
                ``0..S-1`` (the message names it).
        """
        c = self._chan(channel)
        if sku_idx is None or is_int(sku_idx):
            if sku_idx is not None and not 0 <= sku_idx < len(self.skus):
                raise LedgerError(
                    f"unknown SKU index {sku_idx!r}: SKU indices are 0..{len(self.skus) - 1}"
                )
            return self._ats(c, sku_idx)
        return self._ats(c, self._sku_columns(sku_idx))

    def _sku_columns(self, sku_idx: np.ndarray | Sequence[int]) -> np.ndarray:
        """``sku_idx`` as an int64 array, checked to hold integers in ``0..S-1``.

        Raises:
            LedgerError: Naming the first index out of range (negative ones included) or
                the dtype of indices that are not integers.
        """
        cols = np.asarray(sku_idx)
        if cols.size == 0:
            return cols.astype(np.int64).reshape(-1)
        if cols.dtype.kind not in "iu":
            raise LedgerError(f"SKU indices must be integers, got an array of {cols.dtype}")
        n_sku = len(self.skus)
        bad = (cols < 0) | (cols >= n_sku)
        if bad.any():
            raise LedgerError(
                f"unknown SKU index {int(cols[bad].flat[0])}: SKU indices are 0..{n_sku - 1}"
            )
        return cols.astype(np.int64, copy=False)

    def _ats(self, c: int, sku_idx: np.ndarray | Sequence[int] | int | None) -> np.ndarray:
        """`ats` on channel index ``c`` without checking ``sku_idx``.

        For callers whose indices come from `sku_index` (the routing hot path, once per
        order): an index outside ``0..S-1`` here is not refused (a negative one wraps).
        """
        # Work in the (k, L) layout of _free_t and return the transpose: every op then runs
        # over contiguous rows of L locations.
        if sku_idx is None:
            a = self._free_t.copy()
        elif is_int(sku_idx):
            a = self._free_t[sku_idx].copy()
        else:
            a = self._free_t.take(sku_idx, axis=0)
        buffer, floor = self._buffer_rows[c], self._floors[c]
        if buffer is not None:
            a -= buffer
        if floor is None:
            np.maximum(a, 0, out=a)
        else:
            a[a < floor] = 0
        return a.T

    def _ats_cell(self, c: int, i: int, s: int, less: int = 0) -> int:
        """ATS of one cell on channel index `c`, as if `less` more units were reserved."""
        v = int(self._free_t[s, i]) - less
        if self._buffer_rows[c] is not None:  # (None: no buffer on this channel)
            v -= int(self._buffer[c, i])
        if v <= 0:
            return 0
        if self._floors[c] is not None and v < self._thr_list[i]:
            return 0
        return v

    def ats_for(self, loc: str | int, sku: str | int, channel: str) -> int:
        """ATS of one SKU at one location on ``channel``. [units]"""
        c = self._chan(channel)
        return self._ats_cell(c, self._loc(loc), self._sku(sku))

    def network_ats(self, channel: str) -> np.ndarray:
        """ATS summed over all locations, per SKU (int64). (S,) [units]"""
        return self.ats(channel).sum(axis=0, dtype=np.int64)

    def hidden_skus(self, channel: str) -> list[str]:
        """SKU ids with no ATS anywhere on ``channel`` (not offered there)."""
        return [self.skus[i] for i in np.flatnonzero(self.network_ats(channel) == 0)]

    @property
    def oversold(self) -> np.ndarray:
        """Units reserved beyond what is on hand, ``max(0, reserved - on_hand)``. (L, S) [units]

        On-hand never goes negative; each increase is also audited as ``oversell`` when the
        report that causes it arrives.
        """
        return np.maximum(self._reserved - self._on_hand, 0)

    # ------------------------------------------------------------------ reservations

    def reserve(
        self,
        decision_id: str,
        allocations: Iterable[tuple[int, int, int]],
        channel: str,
        at: datetime,
    ) -> bool:
        """Reserve stock for a routing decision, all or nothing, against ATS on ``channel``.

        Idempotent by ``decision_id``: reserving an open decision again is a no-op.

        Args:
            decision_id: Unique id of the routing decision (a reroute needs a new id).
            allocations: ``(loc_idx, sku_idx, qty)`` triples; repeats of a cell add up.
            channel: Channel whose ATS (buffers, thresholds) the reservation must fit.
            at: Time of the reservation (UTC).

        Returns:
            True if the decision's reservation is held (now or already); False if the
            decision was already closed (fulfilled or released), in which case nothing
            is reserved.

        Raises:
            LedgerError: Bad decision id, channel, time, index or quantity, or a quantity
                above ATS (the message names the location and SKU).
        """
        if not isinstance(decision_id, str) or not decision_id:
            raise LedgerError(f"decision id must be a non-empty string, got {decision_id!r}")
        c = self._chan(channel)
        ts = utc_ts(at)
        if decision_id in self._open:
            return True
        if decision_id in self._closed:
            return False
        wanted: dict[tuple[int, int], int] = {}
        for item in allocations:
            try:
                i, s, q = item
            except (TypeError, ValueError):
                raise LedgerError(
                    f"decision {decision_id!r}: allocation {item!r} is not (loc_idx, sku_idx, qty)"
                ) from None
            key = (self._loc(i), self._sku(s))
            wanted[key] = wanted.get(key, 0) + self._qty(q, f"decision {decision_id!r}")
        return self._reserve_cells(decision_id, wanted, c, ts)

    def _reserve_cells(
        self, decision_id: str, wanted: dict[tuple[int, int], int], c: int, ts: float
    ) -> bool:
        """`reserve` after validation: ``wanted`` maps valid ``(loc_idx, sku_idx)`` cells
        to positive quantities (Python ints, at most ``max_units``), ``c`` is a channel index.

        Still checks idempotence and that every quantity fits ATS (all or nothing).
        """
        if decision_id in self._open:
            return True
        if decision_id in self._closed:
            return False
        for (i, s), q in wanted.items():
            available = self._ats_cell(c, i, s)
            if q > available:
                raise LedgerError(
                    f"decision {decision_id!r}: cannot reserve {q} of SKU {self.skus[s]!r} at "
                    f"{self.location_ids[i]!r} on {self.channels[c]}: ATS is {available}"
                )
        for (i, s), q in wanted.items():
            self._reserved[i, s] += q
            self._free_t[s, i] -= q
        self._open[decision_id] = _parts(wanted)
        if wanted:
            cells = list(wanted)
            self.audit.extend(
                ts,
                Op.RESERVE,
                [i for i, _ in cells],
                [s for _, s in cells],
                list(wanted.values()),
                decision_id,
                self.channels[c],
            )
        return True

    def _reserve_fresh(
        self,
        decisions: list[tuple[str, int, dict[tuple[int, int], int]]],
        ts: float,
    ) -> None:
        """Reserve several new decisions at once, in sequence order.

        For callers that have already checked, in sequence, that every decision is new and
        fits ATS after the ones before it (`engine.routing.batch`): the arrays and the audit
        log end up exactly as after one `_reserve_cells` call per decision.

        Args:
            decisions: ``(decision id, channel index, {(loc_idx, sku_idx): qty})`` each.
            ts: Time of the reservations, seconds since the epoch. [s]
        """
        locs: list[int] = []
        skus: list[int] = []
        qtys: list[int] = []
        refs: list[str] = []
        reasons: list[str] = []
        reserved, free_t = self._reserved, self._free_t
        for decision_id, c, wanted in decisions:
            for (i, s), q in wanted.items():  # cell by cell: a batch holds a few cells
                reserved[i, s] += q
                free_t[s, i] -= q
                locs.append(i)
                skus.append(s)
                qtys.append(q)
            self._open[decision_id] = _parts(wanted)
            refs.extend([decision_id] * len(wanted))
            reasons.extend([self.channels[c]] * len(wanted))
        if not qtys:
            return
        li, si, qi = np.array(locs), np.array(skus), np.array(qtys, dtype=np.int64)
        self.audit.extend_each(ts, _RESERVE, li, si, qi, refs, reasons)

    def _decision(self, decision_id: str, op: str) -> dict[int, dict[int, int]]:
        parts = self._open.get(decision_id)
        if parts is None:
            state = "already closed" if decision_id in self._closed else "unknown"
            raise LedgerError(f"{op}: decision {decision_id!r} is {state}")
        return parts

    def _part(self, parts: dict, decision_id: str, loc_idx: str | int, op: str) -> int:
        i = self._loc(loc_idx)
        if i not in parts:
            raise LedgerError(
                f"{op}: decision {decision_id!r} holds nothing at {self.location_ids[i]!r}"
            )
        return i

    def _close_if_done(self, decision_id: str, parts: dict) -> None:
        if not parts:
            del self._open[decision_id]
            done = self._fulfilled
            self._closed[decision_id] = done.pop(decision_id) if decision_id in done else 0

    def release(
        self,
        decision_id: str,
        at: datetime,
        loc_idx: str | int | None = None,
        reason: str = "release",
    ) -> None:
        """Give back a decision's reservation: all of it, or only one location's part.

        Args:
            decision_id: An open decision.
            at: Time of the release (UTC).
            loc_idx: Location index (or id) whose part to release; None releases all.
            reason: Short reason, e.g. ``"cancel"``, ``"reroute"``, ``"reject"``.

        Raises:
            LedgerError: Unknown or closed decision, a location where the decision holds
                nothing, a naive time or a bad reason (nothing changes).
        """
        parts = self._decision(decision_id, "release")
        ts = utc_ts(at)
        check_reason(reason)
        if loc_idx is None:
            targets = list(parts)
        else:
            targets = [self._part(parts, decision_id, loc_idx, "release")]
        for i in targets:
            lines = parts.pop(i)
            for s, q in lines.items():
                self._reserved[i, s] -= q
                self._free_t[s, i] += q
            self.audit.extend(
                ts,
                Op.RELEASE,
                [i] * len(lines),
                list(lines),
                list(lines.values()),
                decision_id,
                reason,
            )
        self._close_if_done(decision_id, parts)

    def fulfil(
        self, decision_id: str, loc_idx: str | int, at: datetime, reason: str = "ship"
    ) -> FulfilResult:
        """Consume one location's part of a decision: reservation and on-hand go down.

        If on-hand fell below the reservation (a late POS report), only what is on hand is
        consumed; the rest of the reservation is released and reported as ``short`` (and
        audited as ``shortfall``) so the caller can reroute it. The units consumed are
        counted per decision (`units_fulfilled`, `was_fulfilled`): the router will not
        cancel the decision, nor re-route its order unless the order records them.

        Args:
            decision_id: An open decision.
            loc_idx: Location index (or id) that picked the units.
            at: Time of the fulfilment (UTC).
            reason: Short reason, e.g. ``"ship"`` or ``"pickup"``.

        Returns:
            The consumed ``(sku_idx, qty)`` pairs, with ``.short`` listing what was missing.

        Raises:
            LedgerError: Unknown or closed decision, a location where the decision holds
                nothing, a naive time or a bad reason (nothing changes).
        """
        parts = self._decision(decision_id, "fulfil")
        ts = utc_ts(at)
        check_reason(reason)
        i = self._part(parts, decision_id, loc_idx, "fulfil")
        result = FulfilResult()
        on_hand, reserved, append = self._on_hand, self._reserved, self.audit.append
        units = 0
        for s, q in parts.pop(i).items():
            have = int(on_hand[i, s])
            take = q if q <= have else have
            on_hand[i, s] = have - take
            reserved[i, s] -= q
            if take:
                units += take
                result.append((s, take))
                append(ts, _FULFIL, i, s, take, decision_id, reason)
            if take < q:  # ATS (on hand - reserved - safety) rises by the units not taken
                self._free_t[s, i] += q - take
                result.short.append((s, q - take))
                append(ts, Op.RELEASE, i, s, q - take, decision_id, "shortfall")
                append(ts, Op.SHORTFALL, i, s, q - take, decision_id, reason)
        done = self._fulfilled  # (no method calls: this runs once per package)
        if parts:
            if units:
                done[decision_id] = done[decision_id] + units if decision_id in done else units
        else:  # `_close_if_done`, counting the units
            del self._open[decision_id]
            before = done.pop(decision_id) if decision_id in done else 0
            self._closed[decision_id] = before + units
        return result

    def reservations(self, decision_id: str) -> list[tuple[int, int, int]]:
        """Open ``(loc_idx, sku_idx, qty)`` of a decision; empty if it is not open."""
        parts = self._open.get(decision_id, {})
        return [(i, s, q) for i, lines in parts.items() for s, q in lines.items()]

    def is_open(self, decision_id: str) -> bool:
        """Whether the decision still holds a reservation record."""
        return decision_id in self._open

    def was_fulfilled(self, decision_id: str) -> bool:
        """Whether `fulfil` consumed units of the decision (at any location), so that they
        can no longer be given back; False for unknown decisions."""
        return self.units_fulfilled(decision_id) > 0

    def units_fulfilled(self, decision_id: str) -> int:
        """Units of the decision `fulfil` consumed so far, over all its locations (not the
        ones short); 0 for unknown decisions. [units]"""
        return self._fulfilled.get(decision_id, 0) or self._closed.get(decision_id, 0)

    def knows(self, decision_id: str) -> bool:
        """Whether `decision_id` holds a reservation now or held one before."""
        return decision_id in self._open or decision_id in self._closed

    def open_decisions(self) -> list[str]:
        """Ids of decisions with an open reservation, in reservation order."""
        return list(self._open)

    # ------------------------------------------------------------------ checks

    def check_conservation(self) -> None:
        """Check that every unit is accounted for, from the audit's running totals.

        ``initial + receive + return + adjust_up == on_hand.sum() + fulfil + adjust_down +
        dispose`` and ``reserve - release - fulfil == reserved.sum()``.

        Raises:
            LedgerError: Naming both sides of the failed balance.
        """
        t = self.audit.totals_by_op()
        inflow = t["initial"] + t["receive"] + t["return"] + t["adjust_up"]
        on_hand = int(self.on_hand.sum(dtype=np.int64))
        outflow = on_hand + t["fulfil"] + t["adjust_down"] + t["dispose"]
        if inflow != outflow:
            raise LedgerError(
                f"units not conserved: in {inflow} (initial {t['initial']}, receive "
                f"{t['receive']}, return {t['return']}, adjust_up {t['adjust_up']}) != "
                f"on_hand {on_hand} + fulfil {t['fulfil']} + adjust_down {t['adjust_down']}"
                f" + dispose {t['dispose']} = {outflow}"
            )
        reserved = int(self.reserved.sum(dtype=np.int64))
        held = t["reserve"] - t["release"] - t["fulfil"]
        if held != reserved:
            raise LedgerError(
                f"reservations not conserved: reserve {t['reserve']} - release "
                f"{t['release']} - fulfil {t['fulfil']} = {held} != reserved {reserved}"
            )

    def reserved_by_decisions(self) -> np.ndarray:
        """Sum of open reservations per cell, rebuilt from the decisions (L, S)."""
        total = np.zeros(self.shape, dtype=np.int64)
        for parts in self._open.values():
            for i, lines in parts.items():
                for s, q in lines.items():
                    total[i, s] += q
        return total

    def check_reservations(self) -> None:
        """Check, cell by cell, that ``reserved`` equals the sum of open reservations and
        that the cached free stock equals ``on_hand - reserved - safety_stock``.

        Raises:
            LedgerError: Naming the first mismatching location and SKU.
        """
        free = self._on_hand.astype(np.int64) - self._reserved - self._safety
        bad = np.flatnonzero(free != self._free_t.T)
        if bad.size:
            i, s = np.unravel_index(bad[0], self.shape)
            raise LedgerError(
                f"free stock cache for SKU {self.skus[s]!r} at {self.location_ids[i]!r} is "
                f"{int(self._free_t[s, i])}, expected {int(free[i, s])}"
            )
        diff = np.flatnonzero(self.reserved_by_decisions() != self.reserved)
        if diff.size:
            i, s = np.unravel_index(diff[0], self.shape)
            raise LedgerError(
                f"reserved for SKU {self.skus[s]!r} at {self.location_ids[i]!r} is "
                f"{int(self.reserved[i, s])}, open decisions hold "
                f"{int(self.reserved_by_decisions()[i, s])}"
            )


__all__ = [
    "DEFAULT_CHANNELS",
    "ONLINE_CHANNELS",
    "FulfilResult",
    "Incoming",
    "Ledger",
]
