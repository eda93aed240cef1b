"""Expected receipts (purchase orders, transfers) are consumed by receipts, earliest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.ledger import Ledger

AT = datetime(2025, 3, 1, 12, tzinfo=UTC)


def test_receiving_exactly_what_was_expected_leaves_nothing_expected():
    lg = Ledger(["S1"], ["A"])
    lg.expect("S1", "A", 5, AT + timedelta(days=1))
    lg.expect("S1", "A", 2, AT + timedelta(days=2))
    lg.receive("S1", "A", 5, AT)  # exactly the first receipt
    assert lg.incoming and all(r.quantity > 0 for r in lg.incoming)  # no 0-unit receipt left
    assert [(r.quantity, r.expected_at) for r in lg.incoming] == [(2, AT + timedelta(days=2))]
    assert int(lg.incoming_units[0, 0]) == lg.incoming_qty("S1", "A") == 2
    lg.receive("S1", "A", 2, AT)
    assert lg.incoming == []
    assert int(lg.incoming_units[0, 0]) == lg.incoming_qty("S1", "A") == 0


def test_a_receipt_expected_exactly_at_the_cut_off_counts_as_expected_by_then():
    lg = Ledger(["S1"], ["A"])
    due = AT + timedelta(days=3)
    lg.expect("S1", "A", 4, due)
    lg.expect("S1", "A", 6, due + timedelta(seconds=1))
    assert lg.incoming_qty("S1", "A", until=due - timedelta(seconds=1)) == 0
    assert lg.incoming_qty("S1", "A", until=due) == 4  # "by `until`" includes `until`
    assert lg.incoming_qty("S1", "A", until=due + timedelta(seconds=1)) == 10
    assert lg.incoming_qty("S1", "A") == 10


def test_receipts_consume_the_earliest_expected_receipt_first_whatever_the_booking_order():
    lg = Ledger(["S1"], ["A"])
    late, early = AT + timedelta(days=5), AT + timedelta(days=1)
    lg.expect("S1", "A", 3, late)
    lg.expect("S1", "A", 3, early)  # booked second, due first
    lg.receive("S1", "A", 2, AT)
    assert [(r.quantity, r.expected_at) for r in lg.incoming] == [(1, early), (3, late)]
    assert lg.incoming_qty("S1", "A", until=early) == 1
