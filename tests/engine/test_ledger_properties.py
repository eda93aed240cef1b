"""Property-based tests of ledger invariants over random operation sequences (hypothesis).

After every step: ATS is never negative and matches the formula, on-hand is never negative,
``reserved`` equals the sum of open reservations, oversell is explicit
(``reserved <= on_hand + oversold``) and every unit is accounted for. A failed operation
leaves the ledger unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from engine.audit import Op
from engine.errors import LedgerError
from engine.ledger import DEFAULT_CHANNELS, ONLINE_CHANNELS, Ledger

LOCS = ("DC1", "S1", "S2")
SKUS = ("A", "B", "C", "D")
T0 = datetime(2025, 1, 1, tzinfo=UTC)

locs = st.integers(0, len(LOCS) - 1)
skus = st.integers(0, len(SKUS) - 1)
qtys = st.integers(1, 8)
channels = st.sampled_from(DEFAULT_CHANNELS)
allocation = st.tuples(locs, skus, qtys)


def expected_ats(lg: Ledger, channel: str) -> np.ndarray:
    """Reference ATS straight from the definition, in int64."""
    c = lg.channels.index(channel)
    raw = (
        lg.on_hand.astype(np.int64)
        - lg.reserved
        - lg.safety_stock
        - lg.channel_buffer[c][:, None].astype(np.int64)
    )
    ats = np.maximum(raw, 0)
    if channel in ONLINE_CHANNELS:
        hidden = lg.is_store[:, None] & (ats < lg.online_threshold[:, None])
        ats[hidden] = 0
    return ats


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.lg = Ledger(LOCS, SKUS)
        self.lg.configure_locations(online_threshold=[0, 3, 2], is_store=[False, True, True])
        self.clock = T0
        self.n_decisions = 0

    def now(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    def snapshot(self) -> tuple:
        lg = self.lg
        return (
            lg.on_hand.copy(),
            lg.reserved.copy(),
            lg.safety_stock.copy(),
            len(lg.audit),
            {d: lg.reservations(d) for d in lg.open_decisions()},
        )

    def attempt(self, op, *args, **kwargs) -> None:
        """Run an op; if it raises LedgerError, the ledger must be unchanged."""
        before = self.snapshot()
        try:
            op(*args, **kwargs)
        except LedgerError:
            after = self.snapshot()
            for x, y in zip(before, after, strict=True):
                assert np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y

    # ------------------------------------------------------------ rules

    @initialize(stock=st.lists(st.integers(0, 12), min_size=12, max_size=12))
    def load(self, stock):
        self.lg.load_stock(np.array(stock).reshape(len(LOCS), len(SKUS)), at=self.now())

    @rule(loc=locs, sku=skus, qty=st.integers(0, 20), safety=st.integers(0, 3))
    def set_stock(self, loc, sku, qty, safety):
        self.lg.set_stock(loc, sku, qty, safety_stock=safety, at=self.now())

    @rule(loc=locs, sku=skus, qty=st.integers(-2, 15))
    def receive(self, loc, sku, qty):
        self.attempt(self.lg.receive, loc, sku, qty, self.now())

    @rule(
        loc=locs,
        sku=skus,
        delta=st.integers(-15, 10),
        reason=st.sampled_from(["pos_sale", "shrink", "found"]),
    )
    def adjust(self, loc, sku, delta, reason):
        before = int(self.lg.on_hand[loc, sku])
        applied = self.lg.adjust(loc, sku, delta, self.now(), reason=reason)
        assert applied == max(delta, -before)

    @rule(loc=locs, sku=skus, counted=st.integers(0, 12))
    def count(self, loc, sku, counted):
        self.lg.count(loc, sku, counted, self.now())
        assert self.lg.on_hand[loc, sku] == counted

    @rule(loc=locs, sku=skus, qty=qtys)
    def return_to_stock(self, loc, sku, qty):
        self.lg.return_to_stock(loc, sku, qty, self.now())

    @rule(loc=locs, sku=skus, qty=qtys, from_return=st.booleans())
    def dispose(self, loc, sku, qty, from_return):
        self.attempt(self.lg.dispose, loc, sku, qty, self.now(), from_return=from_return)

    @rule(loc=st.one_of(st.none(), locs), units=st.integers(0, 3))
    def safety(self, loc, units):
        self.lg.set_safety_stock(units, loc=loc)

    @rule(channel=channels, loc=locs, units=st.integers(0, 3))
    def buffer(self, channel, loc, units):
        self.lg.set_channel_buffer(channel, units, loc=loc)

    @rule(allocations=st.lists(allocation, max_size=3), channel=channels)
    def reserve(self, allocations, channel):
        self.n_decisions += 1
        decision = f"D{self.n_decisions}"
        ats = self.lg.ats(channel)
        wanted: dict[tuple[int, int], int] = {}
        for i, s, q in allocations:
            wanted[(i, s)] = wanted.get((i, s), 0) + q
        fits = all(q <= ats[i, s] for (i, s), q in wanted.items())
        self.attempt(self.lg.reserve, decision, allocations, channel, self.now())
        assert self.lg.is_open(decision) == fits
        if fits:  # idempotent
            reserved = self.lg.reserved.copy()
            assert self.lg.reserve(decision, allocations, channel, self.now())
            assert np.array_equal(reserved, self.lg.reserved)

    @rule(
        store=st.integers(1, 2),
        sku=skus,
        qty=st.integers(1, 3),
        channel=st.sampled_from(ONLINE_CHANNELS),
    )
    def reserve_online_at_store(self, store, sku, qty, channel):
        """Small online orders at stores, where the online threshold matters."""
        self.reserve([(store, sku, qty)], channel)

    @rule(data=st.data(), one_location=st.booleans())
    def release(self, data, one_location):
        open_ids = self.lg.open_decisions()
        if not open_ids:
            return
        decision = data.draw(st.sampled_from(open_ids))
        parts = sorted({i for i, _, _ in self.lg.reservations(decision)})
        loc = data.draw(st.sampled_from(parts)) if (one_location and parts) else None
        self.lg.release(decision, self.now(), loc_idx=loc)

    @rule(data=st.data())
    def fulfil(self, data):
        open_ids = [d for d in self.lg.open_decisions() if self.lg.reservations(d)]
        if not open_ids:
            return
        decision = data.draw(st.sampled_from(open_ids))
        loc = data.draw(st.sampled_from(sorted({i for i, _, _ in self.lg.reservations(decision)})))
        held = {s: q for i, s, q in self.lg.reservations(decision) if i == loc}
        on_hand = self.lg.on_hand[loc].copy()
        result = self.lg.fulfil(decision, loc, self.now())
        for s, q in held.items():
            consumed = dict(result).get(s, 0)
            short = dict(result.short).get(s, 0)
            assert consumed + short == q
            assert consumed == min(q, on_hand[s])

    @rule(data=st.data())
    def late_pos_report(self, data):
        """A POS sale reported after stock was reserved: on-hand may drop below reserved."""
        held = [r for d in self.lg.open_decisions() for r in self.lg.reservations(d)]
        if not held:
            return
        loc, sku, _ = data.draw(st.sampled_from(held))
        sold = data.draw(st.integers(1, int(self.lg.on_hand[loc, sku]) + 2))
        self.lg.adjust(loc, sku, -sold, self.now(), reason="pos_sale")

    @rule(decision=st.text(min_size=1, max_size=3), loc=locs)
    def bad_decision_ops(self, decision, loc):
        if self.lg.is_open(decision):
            return
        self.attempt(self.lg.release, decision, self.now())
        self.attempt(self.lg.fulfil, decision, loc, self.now())

    # ------------------------------------------------------------ invariants

    @invariant()
    def ats_matches_formula_and_is_never_negative(self):
        for channel in DEFAULT_CHANNELS:
            ats = self.lg.ats(channel)
            assert ats.min() >= 0
            np.testing.assert_array_equal(ats, expected_ats(self.lg, channel))
            np.testing.assert_array_equal(self.lg.ats(channel, [3, 1]), ats[:, [3, 1]])
            scalar = [[self.lg.ats_for(i, s, channel) for s in SKUS] for i in LOCS]
            np.testing.assert_array_equal(scalar, ats)  # the path reserve() checks against

    @invariant()
    def stock_never_negative_and_oversell_recorded(self):
        """reserved > on_hand only by oversell the audit log recorded when it happened."""
        lg = self.lg
        assert lg.on_hand.min() >= 0 and lg.reserved.min() >= 0
        cols = lg.audit.columns()
        recorded = np.zeros(lg.shape, dtype=np.int64)
        hit = cols["op"] == Op.OVERSELL
        np.add.at(recorded, (cols["loc"][hit], cols["sku"][hit]), cols["qty"][hit])
        excess = lg.reserved.astype(np.int64) - lg.on_hand
        assert (excess <= recorded).all(), "reserved above on-hand without a recorded oversell"
        np.testing.assert_array_equal(lg.oversold, np.maximum(excess, 0))

    @invariant()
    def reservations_and_units_conserved(self):
        np.testing.assert_array_equal(self.lg.reserved, self.lg.reserved_by_decisions())
        self.lg.check_reservations()
        self.lg.check_conservation()


LedgerMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerMachine = LedgerMachine.TestCase


def _twin_ledgers(stock: list[int], holds: list[tuple[int, int, int]]) -> tuple[Ledger, Ledger]:
    twins = []
    for _ in range(2):
        lg = Ledger(LOCS, SKUS)
        for k, q in enumerate(stock):
            lg.set_stock(k // len(SKUS), k % len(SKUS), q)
        for n, (i, s, q) in enumerate(holds):  # reservations where there is stock to hold
            q = min(q, int(lg.ats("pos")[i, s]))
            if q:
                assert lg.reserve(f"D{n}", [(i, s, q)], "pos", T0)
        twins.append(lg)
    return twins[0], twins[1]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stock=st.lists(st.integers(0, 6), min_size=12, max_size=12),
    holds=st.lists(allocation, max_size=6),
    changes=st.dictionaries(st.tuples(locs, skus), st.integers(-9, 5), max_size=12),
)
def test_adjust_many_is_adjust_cell_after_cell(stock, holds, changes) -> None:
    one, many = _twin_ledgers(stock, holds)
    cells = list(changes)
    at = T0 + timedelta(hours=1)
    expected = [one.adjust(i, s, changes[(i, s)], at, "pos_sale") for i, s in cells]
    got = many.adjust_many(
        np.array([i for i, _ in cells], dtype=np.int64),
        np.array([s for _, s in cells], dtype=np.int64),
        np.array(list(changes.values()), dtype=np.int64),
        at,
        "pos_sale",
    )
    assert got.tolist() == expected
    for name in ("on_hand", "reserved"):
        np.testing.assert_array_equal(getattr(many, name), getattr(one, name))
    np.testing.assert_array_equal(many.ats("web"), one.ats("web"))
    a, b = one.audit.columns(), many.audit.columns()
    for k in a:
        assert list(b[k]) == list(a[k]), k
    assert many.audit.totals_by_op() == one.audit.totals_by_op()
    many.check_reservations()


def test_adjust_many_rejects_bad_input_and_changes_nothing() -> None:
    lg = Ledger(LOCS, SKUS)
    lg.set_stock(0, 0, 5)
    n = len(lg.audit)
    one = np.array([0, 0])
    with pytest.raises(LedgerError, match="twice"):
        lg.adjust_many(one, np.array([1, 1]), np.array([-1, -1]), T0, "pos_sale")
    with pytest.raises(LedgerError, match="out of range"):
        lg.adjust_many(np.array([0, 9]), np.array([0, 1]), np.array([-1, -1]), T0, "pos_sale")
    with pytest.raises(LedgerError, match="integer"):
        lg.adjust_many(one, np.array([0, 1]), np.array([-1.0, 1.0]), T0, "pos_sale")
    with pytest.raises(LedgerError, match="reason"):
        lg.adjust_many(one, np.array([0, 1]), np.array([-1, 1]), T0, "a:b")
    for huge in (np.array([2**63 - 6, 1]), np.array([2**64 - 1, 1], dtype=np.uint64)):
        with pytest.raises(LedgerError, match="over the limit"):  # no int64 wrap-around
            lg.adjust_many(one, np.array([0, 1]), huge, T0, "pos_sale")
    with pytest.raises(LedgerError, match="would pass"):
        lg.adjust_many(one, np.array([0, 1]), np.array([lg.max_units, 1]), T0, "pos_sale")
    assert len(lg.audit) == n and int(lg.on_hand[0, 0]) == 5
