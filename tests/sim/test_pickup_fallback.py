"""When the OMS offers pickup: a pickup store whose ATS covers every line *exactly* can
fill the order (no fallback to home delivery); one unit less, or an unknown SKU, and it
cannot. With store substitution allowed the store's stock does not decide.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from engine import Channel, DeliveryMethod, Ledger, Order, OrderLine
from sim.model.oms import Oms

AT = datetime(2026, 11, 2, 15, tzinfo=UTC)


def _order(*lines: tuple[str, int], substitution: bool = False) -> Order:
    return Order(
        "O1", Channel.WEB, "c", 40.0, -75.0, [OrderLine(s, q, i) for i, (s, q) in enumerate(lines)],
        DeliveryMethod.BOPIS, "S1", allow_store_substitution=substitution, created_at=AT,
    )  # fmt: skip


def test_a_pickup_store_with_exactly_enough_is_not_short():
    ledger = Ledger(["S1", "DC1"], ["A", "B"])
    ledger.set_stock("S1", "A", 2)
    ledger.set_stock("S1", "B", 1)
    oms = SimpleNamespace(ledger=ledger)
    assert not Oms._pickup_short(oms, _order(("A", 2), ("B", 1)))
    assert Oms._pickup_short(oms, _order(("A", 3), ("B", 1)))
    assert Oms._pickup_short(oms, _order(("A", 1), ("Z", 1)))  # unknown SKU
    assert not Oms._pickup_short(oms, _order(("A", 3), substitution=True))
