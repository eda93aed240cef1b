"""Tests of the columnar `AuditLog` and the `Movement` records the ledger writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from engine.audit import ALL, OP_NAMES, AuditLog, Movement, Op
from engine.ledger import Ledger

AT = datetime(2025, 3, 1, 12, 30, 15, 250_000, tzinfo=UTC)


def test_append_and_records_resolve_ids():
    log = AuditLog(["DC1", "S1"], ["A", "B"], capacity=4)
    log.append(AT.timestamp(), Op.RECEIVE, 1, 0, 5, "PO-7", "receipt")
    log.append(AT.timestamp(), Op.INITIAL, 0, ALL, 9, "", "load_stock")
    log.append(AT.timestamp(), Op.FULFIL, 0, 1, 2, "D-1", "")
    assert len(log) == 3
    assert list(log.records()) == [
        Movement(AT, "receive", "S1", "A", 5, "receipt:PO-7"),
        Movement(AT, "initial", "DC1", "*", 9, "load_stock"),
        Movement(AT, "fulfil", "DC1", "B", 2, "D-1"),
    ]
    assert [m.op for m in log.records(start=2)] == ["fulfil"]
    at, op, location, sku, quantity, ref = next(log.records())  # a plain 6-tuple
    assert at.tzinfo is not None and quantity == 5


def test_growth_by_doubling_keeps_records_and_totals():
    log = AuditLog(["L"], ["S"], capacity=16)
    for k in range(1_000):
        log.append(float(k), k % len(Op), 0, 0, 1, "r")
    assert len(log) == 1_000
    assert log._cap == 1_024  # 16 doubled six times
    cols = log.columns()
    np.testing.assert_array_equal(cols["timestamp"], np.arange(1_000, dtype=float))
    assert sum(log.totals_by_op().values()) == 1_000
    per_op = [sum(1 for k in range(1_000) if k % len(Op) == op) for op in Op]
    assert list(log.totals_by_op().values()) == per_op
    log.extend(2_000.0, Op.RESERVE, [0, 0, 0], [0, 0, 0], [3, 4, 5], "D", "web")
    assert len(log) == 1_003 and log.totals_by_op()["reserve"] == per_op[Op.RESERVE] + 12


def test_memory_per_record_is_about_40_bytes():
    log = AuditLog(["L"], ["S"], capacity=1 << 16)
    ref = "D-shared"
    for k in range(1 << 16):
        log.append(float(k), Op.FULFIL, 0, 0, 1, ref, "ship")
    assert log.nbytes / len(log) <= 40


def test_columns_are_equal_length_copies():
    lg = Ledger(["DC1", "S1"], ["A", "B"])
    lg.set_stock("DC1", "A", 5, at=AT)
    lg.reserve("D1", [(0, 0, 2)], "web", AT + timedelta(seconds=1))
    lg.adjust("S1", "B", -1, AT, reason="pos_sale")
    cols = lg.audit.columns()
    lengths = {k: len(v) for k, v in cols.items()}
    assert set(lengths.values()) == {3}
    assert set(cols) == {"timestamp", "op", "loc", "sku", "qty", "ref", "reason"}
    assert [OP_NAMES[c] for c in cols["op"]] == ["initial", "reserve", "shortfall"]
    assert cols["ref"] == ["", "D1", ""] and cols["reason"] == ["set_stock", "web", "pos_sale"]
    assert cols["timestamp"][1] - cols["timestamp"][0] == 1.0
    cols["qty"][:] = 0
    assert lg.audit.columns()["qty"].tolist() == [5, 2, 1]


def test_totals_by_op_has_every_op():
    log = AuditLog(["L"], ["S"])
    assert log.totals_by_op() == dict.fromkeys(OP_NAMES, 0)
    assert OP_NAMES == (
        "initial",
        "receive",
        "reserve",
        "release",
        "fulfil",
        "adjust_up",
        "adjust_down",
        "shortfall",
        "return",
        "dispose",
        "oversell",
    )
