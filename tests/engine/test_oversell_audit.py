"""Every oversold unit is audited once: audited oversells add up to `Ledger.oversold`.

A late POS report can push on-hand below the reservations; each further report on the same
cell adds only the *extra* units oversold. `adjust_many` (the POS sync) must audit the same
as `adjust` cell after cell, also when a cell is already oversold before the sync.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from engine.audit import OP_NAMES
from engine.ledger import Ledger

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _oversell_units(lg: Ledger) -> int:
    return lg.audit.totals_by_op()["oversell"]


def _held(on_hand: int, reserved: int) -> Ledger:
    lg = Ledger(["S1", "S2"], ["A", "B"])
    for loc in ("S1", "S2"):
        for sku in ("A", "B"):
            lg.set_stock(loc, sku, on_hand)
    lg.reserve("D1", [(0, 0, reserved), (1, 1, reserved)], "web", T0)
    return lg


def test_audited_oversells_add_up_to_what_is_oversold_after_repeated_pos_syncs():
    one, many = _held(5, 5), _held(5, 5)
    at = T0 + timedelta(hours=1)
    # three syncs on the two held cells: 5 on hand, 5 reserved -> 3 -> 2 -> 0 (clamped)
    for step, delta in enumerate((-2, -1, -4)):
        t = at + timedelta(minutes=step)
        for i, s in ((0, 0), (1, 1)):
            one.adjust(i, s, delta, t, "pos_sale")
        many.adjust_many(
            np.array([0, 1]), np.array([0, 1]), np.array([delta, delta]), t, "pos_sale"
        )
        # hand count: oversold = reserved - on_hand per held cell
        expected_oversold = {0: 2, 1: 3, 2: 5}[step]
        for lg in (one, many):
            assert int(lg.oversold[0, 0]) == int(lg.oversold[1, 1]) == expected_oversold
            assert _oversell_units(lg) == int(lg.oversold.sum()) == 2 * expected_oversold
    a, b = one.audit.columns(), many.audit.columns()
    for k in a:
        assert list(b[k]) == list(a[k]), k
    assert "oversell" in OP_NAMES
    one.check_conservation()
    many.check_conservation()


def test_a_pos_sale_of_unreserved_units_is_no_oversell():
    lg = _held(5, 2)
    lg.adjust_many(np.array([0, 1]), np.array([0, 1]), np.array([-3, -4]), T0, "pos_sale")
    # S1/A: 2 on hand, 2 reserved -> none oversold; S2/B: 1 on hand, 2 reserved -> 1
    assert lg.oversold[0, 0] == 0 and lg.oversold[1, 1] == 1
    assert _oversell_units(lg) == 1
