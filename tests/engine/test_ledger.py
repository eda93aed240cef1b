"""Unit tests of the inventory `Ledger`: ATS, every operation, errors and atomicity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from engine.errors import LedgerError
from engine.ledger import DEFAULT_CHANNELS, ONLINE_CHANNELS, FulfilResult, Ledger
from engine.order import Channel
from engine.stock import MAX_UNITS

AT = datetime(2025, 3, 1, 12, tzinfo=UTC)
LOCS = ("DC1", "S1", "S2")  # S1 and S2 are stores
SKUS = ("A", "B", "C")


@pytest.fixture
def ledger() -> Ledger:
    lg = Ledger(LOCS, SKUS)
    lg.configure_locations(online_threshold=[0, 3, 0], is_store=[False, True, True])
    for loc in LOCS:
        for sku in SKUS:
            lg.set_stock(loc, sku, 10)
    return lg


def snapshot(lg: Ledger) -> tuple:
    return (
        lg.on_hand.copy(),
        lg.reserved.copy(),
        lg.safety_stock.copy(),
        lg.channel_buffer.copy(),
        len(lg.audit),
        {d: lg.reservations(d) for d in lg.open_decisions()},
        lg.incoming,
    )


def assert_unchanged(lg: Ledger, before: tuple) -> None:
    after = snapshot(lg)
    for x, y in zip(before, after, strict=True):
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y


# ---------------------------------------------------------------- construction


def test_construction_shapes_and_defaults():
    lg = Ledger(LOCS, SKUS)
    assert lg.shape == (3, 3)
    assert lg.on_hand.dtype == np.int32
    assert lg.channel_buffer.shape == (len(DEFAULT_CHANNELS), 3)
    assert lg.online_threshold.shape == (3,) and not lg.is_store.any()
    assert lg.loc_index == {"DC1": 0, "S1": 1, "S2": 2}
    assert lg.index_of("S2", "B") == (2, 1)
    np.testing.assert_array_equal(lg.sku_indices(["C", "A"]), [2, 0])
    assert set(ONLINE_CHANNELS) < set(DEFAULT_CHANNELS)
    assert "pos" not in ONLINE_CHANNELS and "wholesale" not in ONLINE_CHANNELS


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"location_ids": [], "skus": SKUS}, "at least one location"),
        ({"location_ids": ["X", "X"], "skus": SKUS}, "duplicate location"),
        ({"location_ids": LOCS, "skus": ["A", ""]}, "non-empty"),
        ({"location_ids": LOCS, "skus": SKUS, "dtype": np.float64}, "signed integer"),
        ({"location_ids": LOCS, "skus": SKUS, "channels": ["web", "web"]}, "duplicate channel"),
    ],
)
def test_construction_errors(kwargs, match):
    with pytest.raises(LedgerError, match=match):
        Ledger(**kwargs)


def test_large_ledger_is_compact():
    lg = Ledger([f"L{i}" for i in range(500)], [f"S{j}" for j in range(20_000)])
    assert lg.on_hand.nbytes == 500 * 20_000 * 4  # 40 MB per int32 array


def test_public_arrays_are_read_only(ledger):
    for arr in (ledger.on_hand, ledger.reserved, ledger.safety_stock, ledger.channel_buffer):
        with pytest.raises(ValueError):
            arr[0, 0] = 5
    with pytest.raises(ValueError):
        ledger.online_threshold[0] = 1


# ---------------------------------------------------------------- ATS


def test_ats_formula_with_safety_stock_and_buffer(ledger):
    ledger.set_safety_stock(2, loc="DC1", sku="A")
    ledger.set_channel_buffer("marketplace", 3, loc="DC1")
    ledger.reserve("D1", [(0, 0, 4)], "web", AT)
    # DC1/A: 10 on hand - 4 reserved - 2 safety = 4; marketplace also withholds 3.
    assert ledger.ats_for("DC1", "A", "web") == 4
    assert ledger.ats_for("DC1", "A", "marketplace") == 1
    assert ledger.ats_for("DC1", "B", "marketplace") == 7
    ledger.set_channel_buffer("marketplace", 9, loc="DC1")
    assert ledger.ats_for("DC1", "A", "marketplace") == 0  # never negative
    assert ledger.ats("marketplace", [0])[0, 0] == 0


def test_ats_never_wraps_around_at_the_largest_quantities():
    lg = Ledger(["W"], ["A"])
    big = lg.max_units
    assert big == MAX_UNITS == 536_870_911  # the scenario schema's cap on thresholds
    with pytest.raises(LedgerError, match="channel buffer must be an integer in"):
        lg.set_channel_buffer("marketplace", 2**31 - 1)  # would wrap ATS to +2**31 - 1
    lg.set_stock("W", "A", big)
    lg.reserve("D1", [(0, 0, big)], "web", AT)
    lg.set_safety_stock(big)
    lg.set_channel_buffer("marketplace", big)
    lg.configure_locations(online_threshold=big, is_store=True)
    lg.adjust("W", "A", -big, AT, "pos_sale")  # the reserved units are sold at the till
    # on hand 0 - reserved - safety - buffer is -3 x max_units: still no wrap-around
    for channel in lg.channels:
        assert lg.ats_for("W", "A", channel) == 0
        assert lg.network_ats(channel).tolist() == [0]
    assert lg.hidden_skus("marketplace") == ["A"]


def test_ats_online_threshold_applies_to_stores_on_online_channels_only(ledger):
    ledger.count("S1", "A", 3, AT)  # S1 threshold 3: exactly at threshold counts
    ledger.count("S1", "B", 2, AT)  # below threshold: hidden online
    ledger.configure_locations(online_threshold=[5, 3, 0])  # DC1 is not a store
    ledger.count("DC1", "A", 2, AT)
    for ch in ONLINE_CHANNELS:
        assert ledger.ats_for("S1", "A", ch) == 3
        assert ledger.ats_for("S1", "B", ch) == 0
        assert ledger.ats_for("DC1", "A", ch) == 2
    for ch in ("pos", "wholesale"):
        assert ledger.ats_for("S1", "B", ch) == 2
    np.testing.assert_array_equal(ledger.ats("web", [0, 1])[:, 1], [10, 0, 10])
    np.testing.assert_array_equal(ledger.ats("pos", [0, 1])[:, 1], [10, 2, 10])


def test_ats_shapes_and_copies(ledger):
    assert ledger.ats("web", np.array([0, 2])).shape == (3, 2)
    assert ledger.ats("web", [1]).shape == (3, 1)
    assert ledger.ats("web", 1).shape == (3,)
    assert ledger.ats("web").shape == (3, 3)
    a = ledger.ats("web", [0])
    a[:] = 99
    assert ledger.ats_for("DC1", "A", "web") == 10
    with pytest.raises(LedgerError, match="unknown SKU index"):
        ledger.ats("web", 7)


@pytest.mark.parametrize("bad", [[-1], np.array([0, -3]), [3], np.array([[0], [5]]), -1, 3])
def test_ats_refuses_sku_indices_out_of_range_negative_ones_included(ledger, bad):
    """A negative index is not counted from the end: [-1] would be SKU C's ATS, not A's."""
    ledger.count("S2", "C", 4, AT)
    with pytest.raises(LedgerError, match=r"unknown SKU index -?\d+: SKU indices are 0\.\.2"):
        ledger.ats("web", bad)
    with pytest.raises(LedgerError, match="SKU indices must be integers"):
        ledger.ats("web", np.array([0.0, 2.0]))
    assert ledger.ats("web", []).shape == (3, 0)
    assert ledger.ats("web", np.array([2], dtype=np.uint8))[:, 0].tolist() == [10, 10, 4]


def test_row_and_column_indices_are_refused_out_of_range_with_the_range_named(ledger):
    with pytest.raises(LedgerError, match=r"unknown location -1: location indices are 0\.\.2"):
        ledger.ats_for(-1, "A", "web")
    with pytest.raises(LedgerError, match=r"unknown SKU -1: SKU indices are 0\.\.2"):
        ledger.set_stock("DC1", -1, 5)
    with pytest.raises(LedgerError, match=r"SKU index -1 is out of range 0\.\.2"):
        ledger.adjust_many(np.array([0]), np.array([-1]), np.array([-1]), AT, "pos_sale")


def test_ats_accepts_channel_enum_and_rejects_unknown(ledger):
    np.testing.assert_array_equal(ledger.ats(Channel.WEB, [0]), ledger.ats("web", [0]))
    with pytest.raises(LedgerError, match="unknown channel 'fax'"):
        ledger.ats("fax", [0])


def test_network_ats_and_hidden_skus(ledger):
    for loc in LOCS:
        ledger.count(loc, "C", 0, AT)
    ledger.count("DC1", "B", 0, AT)
    ledger.count("S2", "B", 0, AT)
    ledger.count("S1", "B", 2, AT)  # below S1's online threshold of 3
    np.testing.assert_array_equal(ledger.network_ats("web"), [30, 0, 0])
    np.testing.assert_array_equal(ledger.network_ats("pos"), [30, 2, 0])
    assert ledger.hidden_skus("web") == ["B", "C"]
    assert ledger.hidden_skus("pos") == ["C"]


# ---------------------------------------------------------------- loading


def test_set_stock_audits_initial_and_decrease():
    lg = Ledger(LOCS, SKUS)
    lg.set_stock("S1", "B", 7, safety_stock=2, at=AT)
    assert lg.on_hand[1, 1] == 7 and lg.safety_stock[1, 1] == 2
    lg.set_stock("S1", "B", 5)
    assert lg.audit.totals_by_op()["initial"] == 7
    assert lg.audit.totals_by_op()["adjust_down"] == 2
    assert lg.ats_for("S1", "B", "pos") == 5  # set_stock also set safety stock back to 0
    lg.check_conservation()
    lg.check_reservations()


def test_load_stock_bulk():
    lg = Ledger(LOCS, SKUS)
    stock = np.arange(9, dtype=np.int64).reshape(3, 3)
    lg.load_stock(stock, safety_stock=np.ones((3, 3), dtype=np.int32), at=AT)
    np.testing.assert_array_equal(lg.on_hand, stock)
    assert len(lg.audit) == 3  # one record per location
    assert [m.sku for m in lg.audit.records()] == ["*", "*", "*"]
    assert lg.ats_for("S2", "C", "web") == 7
    lg.check_conservation()
    lg.check_reservations()
    with pytest.raises(LedgerError, match="empty ledger"):
        lg.load_stock(stock)


@pytest.mark.parametrize(
    "stock",
    [np.zeros((2, 3), dtype=int), np.full((3, 3), -1), np.full((3, 3), 1.5)],
)
def test_load_stock_errors(stock):
    lg = Ledger(LOCS, SKUS)
    with pytest.raises(LedgerError, match="load_stock"):
        lg.load_stock(stock)


def test_set_safety_stock_scopes(ledger):
    ledger.set_safety_stock(1)
    ledger.set_safety_stock(4, loc="S1")
    ledger.set_safety_stock(np.array([0, 5, 6]), sku="C")
    np.testing.assert_array_equal(ledger.safety_stock, [[1, 1, 0], [4, 4, 5], [1, 1, 6]])
    assert ledger.ats_for("S2", "C", "pos") == 4
    ledger.check_reservations()


# ---------------------------------------------------------------- reservations


def test_reserve_reduces_ats_and_is_audited(ledger):
    assert ledger.reserve("D1", [(0, 0, 3), (1, 1, 2), (0, 0, 1)], Channel.WEB, AT) is True
    assert ledger.reserved[0, 0] == 4 and ledger.reserved[1, 1] == 2
    assert ledger.ats_for("DC1", "A", "web") == 6
    assert sorted(ledger.reservations("D1")) == [(0, 0, 4), (1, 1, 2)]
    moves = [m for m in ledger.audit.records() if m.op == "reserve"]
    assert {(m.location, m.sku, m.quantity, m.ref) for m in moves} == {
        ("DC1", "A", 4, "web:D1"),
        ("S1", "B", 2, "web:D1"),
    }
    ledger.check_conservation()


def test_reserve_is_all_or_nothing_and_names_location_and_sku(ledger):
    before = snapshot(ledger)
    with pytest.raises(LedgerError, match=r"'D1'.*11 of SKU 'B' at 'S2' on web: ATS is 10"):
        ledger.reserve("D1", [(0, 0, 3), (2, 1, 11)], "web", AT)
    assert_unchanged(ledger, before)
    assert not ledger.is_open("D1")


def test_reserve_respects_online_threshold_but_pos_does_not(ledger):
    ledger.count("S1", "A", 2, AT)  # below S1's threshold of 3
    with pytest.raises(LedgerError, match="ATS is 0"):
        ledger.reserve("D1", [(1, 0, 1)], "web", AT)
    assert ledger.reserve("D2", [(1, 0, 2)], "pos", AT)


def test_reserve_is_idempotent_by_decision_id(ledger):
    assert ledger.reserve("D1", [(0, 0, 3)], "web", AT)
    n = len(ledger.audit)
    assert ledger.reserve("D1", [(0, 0, 3)], "web", AT) is True
    assert ledger.reserved[0, 0] == 3 and len(ledger.audit) == n
    ledger.fulfil("D1", 0, AT)
    assert ledger.reserve("D1", [(0, 0, 3)], "web", AT) is False  # closed: no-op
    assert ledger.reserved[0, 0] == 0


def test_reserve_empty_decision_opens_and_releases(ledger):
    assert ledger.reserve("D0", [], "web", AT)
    assert ledger.is_open("D0") and ledger.reservations("D0") == []
    ledger.release("D0", AT)
    assert not ledger.is_open("D0")


@pytest.mark.parametrize(
    "decision, allocations, channel, at, match",
    [
        ("", [(0, 0, 1)], "web", AT, "decision id"),
        ("D9", [(0, 0, 0)], "web", AT, "positive integer"),
        ("D9", [(0, 0, -2)], "web", AT, "positive integer"),
        ("D9", [(0, 0, 1.0)], "web", AT, "positive integer"),
        ("D9", [(5, 0, 1)], "web", AT, "unknown location 5"),
        ("D9", [(0, 9, 1)], "web", AT, "unknown SKU 9"),
        ("D9", [(0, 0)], "web", AT, "not \\(loc_idx, sku_idx, qty\\)"),
        ("D9", [(0, 0, 1)], "telex", AT, "unknown channel"),
        ("D9", [(0, 0, 1)], "web", datetime(2025, 1, 1), "timezone-aware"),
    ],
)
def test_reserve_validation_is_atomic(ledger, decision, allocations, channel, at, match):
    ledger.reserve("D1", [(0, 1, 2)], "web", AT)
    before = snapshot(ledger)
    with pytest.raises(LedgerError, match=match):
        ledger.reserve(decision, [(1, 1, 1), *allocations], channel, at)
    assert_unchanged(ledger, before)


def test_release_all_or_one_location(ledger):
    ledger.reserve("D1", [(0, 0, 2), (1, 0, 3), (1, 2, 1)], "pos", AT)
    ledger.release("D1", AT, loc_idx=1, reason="reroute")
    assert ledger.reservations("D1") == [(0, 0, 2)]
    assert ledger.reserved[1].sum() == 0
    ledger.release("D1", AT)
    assert not ledger.is_open("D1") and ledger.reserved.sum() == 0
    refs = [m.ref for m in ledger.audit.records() if m.op == "release"]
    assert refs == ["reroute:D1", "reroute:D1", "release:D1"]
    ledger.check_conservation()


def test_release_errors(ledger):
    ledger.reserve("D1", [(0, 0, 2)], "web", AT)
    before = snapshot(ledger)
    with pytest.raises(LedgerError, match="decision 'nope' is unknown"):
        ledger.release("nope", AT)
    with pytest.raises(LedgerError, match="holds nothing at 'S2'"):
        ledger.release("D1", AT, loc_idx="S2")
    with pytest.raises(LedgerError, match="reason"):
        ledger.release("D1", AT, reason="a:b")
    assert_unchanged(ledger, before)
    ledger.release("D1", AT)
    with pytest.raises(LedgerError, match="already closed"):
        ledger.release("D1", AT)


def test_fulfil_consumes_reservation_and_on_hand(ledger):
    ledger.reserve("D1", [(0, 0, 2), (0, 1, 1), (2, 2, 4)], "web", AT)
    result = ledger.fulfil("D1", 0, AT)
    assert isinstance(result, FulfilResult) and isinstance(result, list)
    assert sorted(result) == [(0, 2), (1, 1)] and result.short == [] and result.complete
    assert ledger.on_hand[0, 0] == 8 and ledger.reserved[0, 0] == 0
    assert ledger.is_open("D1")
    assert ledger.fulfil("D1", "S2", AT, reason="pickup") == [(2, 4)]
    assert not ledger.is_open("D1")
    assert ledger.audit.totals_by_op()["fulfil"] == 7
    ledger.check_conservation()
    with pytest.raises(LedgerError, match="already closed"):
        ledger.fulfil("D1", 0, AT)


def test_was_fulfilled_remembers_decisions_with_units_consumed(ledger):
    ledger.reserve("D1", [(0, 0, 2), (2, 2, 4)], "web", AT)
    ledger.reserve("D2", [(1, 1, 3)], "web", AT)
    ledger.reserve("D3", [(0, 1, 1)], "web", AT)
    assert not ledger.was_fulfilled("D1")
    ledger.fulfil("D1", 0, AT)  # still open at S2
    assert ledger.was_fulfilled("D1") and ledger.is_open("D1")
    ledger.adjust("S1", "B", -10, AT)  # a late POS report: nothing left to pick
    assert ledger.fulfil("D2", "S1", AT).short == [(1, 3)]
    ledger.release("D3", AT)
    assert not ledger.was_fulfilled("D2") and not ledger.was_fulfilled("D3")
    assert not ledger.was_fulfilled("nope")
    # the units consumed are counted, while the decision is open and once it closes
    assert [ledger.units_fulfilled(d) for d in ("D1", "D2", "D3", "nope")] == [2, 0, 0, 0]
    ledger.fulfil("D1", 2, AT)
    assert not ledger.is_open("D1") and ledger.units_fulfilled("D1") == 2 + 4
    assert ledger.was_fulfilled("D1")


def test_fulfil_errors_are_atomic(ledger):
    ledger.reserve("D1", [(0, 0, 2)], "web", AT)
    before = snapshot(ledger)
    with pytest.raises(LedgerError, match="holds nothing at 'S1'"):
        ledger.fulfil("D1", 1, AT)
    with pytest.raises(LedgerError, match="unknown location 'ZZ'"):
        ledger.fulfil("D1", "ZZ", AT)
    with pytest.raises(LedgerError, match="unknown"):
        ledger.fulfil("D2", 0, AT)
    assert_unchanged(ledger, before)


def test_late_pos_report_shows_oversell_and_fulfil_reports_shortfall(ledger):
    ledger.count("S2", "A", 3, AT)
    ledger.reserve("D1", [(2, 0, 3)], "web", AT)
    # The POS sale happened before the reservation but is reported late: 2 units gone.
    assert ledger.adjust("S2", "A", -2, AT + timedelta(minutes=5), reason="pos_sale") == -2
    assert ledger.on_hand[2, 0] == 1 and ledger.reserved[2, 0] == 3
    assert ledger.oversold[2, 0] == 2 and ledger.oversold.sum() == 2
    assert ledger.ats_for("S2", "A", "web") == 0
    oversell = [m for m in ledger.audit.records() if m.op == "oversell"]
    assert [(m.location, m.sku, m.quantity, m.ref) for m in oversell] == [
        ("S2", "A", 2, "pos_sale")
    ]
    # A second late sale oversells one more unit (on-hand 1 -> 0); only the increase is
    # recorded, and on-hand stays at 0 rather than going negative.
    assert ledger.adjust("S2", "A", -3, AT + timedelta(minutes=6), reason="pos_sale") == -1
    assert ledger.on_hand[2, 0] == 0 and ledger.oversold[2, 0] == 3
    assert ledger.audit.totals_by_op()["oversell"] == 3
    assert ledger.audit.totals_by_op()["shortfall"] == 2
    ledger.receive("S2", "A", 1, AT + timedelta(minutes=7))  # one unit turns up again
    ledger.check_conservation()

    result = ledger.fulfil("D1", 2, AT + timedelta(hours=1))
    assert list(result) == [(0, 1)] and result.consumed == [(0, 1)]
    assert result.short == [(0, 2)] and not result.complete
    assert ledger.on_hand[2, 0] == 0 and ledger.reserved[2, 0] == 0
    assert ledger.oversold.sum() == 0 and not ledger.is_open("D1")
    totals = ledger.audit.totals_by_op()
    assert totals["shortfall"] == 2 + 2 and totals["fulfil"] == 1
    ledger.check_conservation()
    ledger.check_reservations()


# ---------------------------------------------------------------- stock movements


def test_adjust_up_down_and_clamp(ledger):
    assert ledger.adjust("S1", "C", 5, AT, reason="found") == 5
    assert ledger.adjust("S1", "C", -4, AT, reason="shrink") == -4
    assert ledger.on_hand[1, 2] == 11
    assert ledger.adjust("S1", "C", -15, AT, reason="pos_sale", ref="T-9") == -11
    assert ledger.on_hand[1, 2] == 0
    short = [m for m in ledger.audit.records() if m.op == "shortfall"]
    assert [(m.location, m.sku, m.quantity, m.ref) for m in short] == [
        ("S1", "C", 4, "pos_sale:T-9")
    ]
    assert ledger.adjust("S1", "C", 0, AT) == 0
    ledger.check_conservation()


def test_write_offs_of_reserved_units_record_oversell(ledger):
    ledger.count("DC1", "B", 4, AT)
    ledger.reserve("D1", [(0, 1, 3)], "web", AT)
    ledger.dispose("DC1", "B", 2, AT, reason="damaged")  # 2 left for 3 reserved
    ledger.set_stock("DC1", "B", 0, at=AT)  # recount to 0: 2 more oversold
    ledger.count("DC1", "B", 0, AT)  # no change, nothing new recorded
    oversell = [(m.quantity, m.ref) for m in ledger.audit.records() if m.op == "oversell"]
    assert oversell == [(1, "damaged"), (2, "set_stock")]
    assert ledger.oversold[0, 1] == 3
    ledger.check_conservation()


def test_adjust_never_below_zero_even_from_zero(ledger):
    ledger.count("DC1", "A", 0, AT)
    assert ledger.adjust("DC1", "A", -3, AT) == 0
    assert ledger.on_hand.min() >= 0
    assert ledger.audit.totals_by_op()["shortfall"] == 3


def test_count_sets_on_hand(ledger):
    assert ledger.count("S2", "B", 4, AT) == -6
    assert ledger.count("S2", "B", 9, AT) == 5
    assert ledger.count("S2", "B", 9, AT) == 0
    assert ledger.on_hand[2, 1] == 9
    reasons = {m.ref for m in ledger.audit.records() if m.op.startswith("adjust")}
    assert reasons == {"cycle_count"}
    ledger.check_conservation()


def test_receive_consumes_expected_receipts_earliest_first(ledger):
    later = AT + timedelta(days=3)
    ledger.expect("DC1", "A", 5, later)
    ledger.expect("DC1", "A", 4, AT + timedelta(days=1))
    ledger.expect("S1", "B", 2, AT)
    assert [r.quantity for r in ledger.incoming] == [2, 4, 5]
    assert ledger.incoming[0].location == "S1" and ledger.incoming[0].expected_at == AT
    assert ledger.incoming_qty("DC1", "A") == 9
    assert ledger.incoming_qty("DC1", "A", until=AT + timedelta(days=2)) == 4
    ledger.receive("DC1", "A", 6, AT, ref="PO-1")
    assert ledger.on_hand[0, 0] == 16
    assert ledger.incoming_qty("DC1", "A") == 3
    assert ledger.incoming_units[0, 0] == 3 and ledger.incoming_units[1, 1] == 2
    ledger.receive("DC1", "A", 10, AT)
    assert ledger.incoming_qty("DC1", "A") == 0
    assert ledger.incoming_units.sum() == 2  # only S1's expected B is still on its way
    assert [m.ref for m in ledger.audit.records() if m.op == "receive"] == [
        "receipt:PO-1",
        "receipt",
    ]
    ledger.check_conservation()


def test_return_to_stock_and_dispose(ledger):
    ledger.return_to_stock("S1", "A", 2, AT, ref="O-1")
    assert ledger.on_hand[1, 0] == 12
    ledger.dispose("S1", "A", 3, AT, reason="damaged")
    assert ledger.on_hand[1, 0] == 9
    ledger.dispose("S1", "A", 1, AT, reason="damaged", from_return=True)
    assert ledger.on_hand[1, 0] == 9  # a returned unit written off on arrival
    totals = ledger.audit.totals_by_op()
    assert totals["return"] == 3 and totals["dispose"] == 4
    ledger.check_conservation()


def test_dispose_more_than_on_hand_fails(ledger):
    before = snapshot(ledger)
    with pytest.raises(LedgerError, match="11 units asked, only 10 on hand"):
        ledger.dispose("S1", "A", 11, AT)
    assert_unchanged(ledger, before)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda lg: lg.receive("XX", "A", 1, AT), "unknown location 'XX'"),
        (lambda lg: lg.receive("DC1", "Q", 1, AT), "unknown SKU 'Q'"),
        (lambda lg: lg.receive("DC1", "A", 0, AT), "positive integer"),
        (lambda lg: lg.receive("DC1", "A", 1, AT, reason=""), "reason"),
        (lambda lg: lg.receive("DC1", "A", 2**31, AT), "over the limit of 536,870,911 units"),
        (lambda lg: lg.receive("DC1", "A", lg.max_units, AT), "would pass"),
        (lambda lg: lg.expect("DC1", "A", -1, AT), "positive integer"),
        (lambda lg: lg.expect("DC1", "A", 1, datetime(2025, 1, 1)), "timezone-aware"),
        (lambda lg: lg.adjust("DC1", "A", 1.5, AT), "delta must be an integer"),
        (lambda lg: lg.adjust("DC1", "A", True, AT), "delta must be an integer"),
        (lambda lg: lg.adjust("DC1", "A", -1, "now"), "timezone-aware"),
        (lambda lg: lg.count("DC1", "A", -1, AT), "counted"),
        (lambda lg: lg.return_to_stock("S1", "A", -1, AT), "positive integer"),
        (lambda lg: lg.dispose(7, "A", 1, AT), "unknown location 7"),
        (lambda lg: lg.set_stock("DC1", "A", -1), "on_hand"),
        (lambda lg: lg.set_stock("DC1", "A", 1, safety_stock=-1), "safety_stock"),
        (lambda lg: lg.set_safety_stock(-1, loc="S1"), "set_safety_stock"),
        (lambda lg: lg.set_safety_stock(np.ones(2, dtype=int), loc="S1"), "do not fit"),
        (lambda lg: lg.set_channel_buffer("web", -1), "channel buffer"),
        (lambda lg: lg.set_channel_buffer("web", 1, loc="XX"), "unknown location"),
        (lambda lg: lg.configure_locations(online_threshold=[1, -1, 0]), "online_threshold"),
        (lambda lg: lg.configure_locations(is_store=[1, 0, 1]), "is_store"),
        (lambda lg: lg.ats_for("DC1", "A", "fax"), "unknown channel"),
    ],
)
def test_invalid_operations_raise_and_change_nothing(ledger, call, match):
    before = snapshot(ledger)
    with pytest.raises(LedgerError, match=match):
        call(ledger)
    assert_unchanged(ledger, before)


# ---------------------------------------------------------------- checks


def test_check_conservation_detects_unaudited_change(ledger):
    ledger.check_conservation()
    ledger._on_hand[0, 0] += 1  # bypass the audited operations on purpose
    with pytest.raises(LedgerError, match="units not conserved"):
        ledger.check_conservation()


def test_check_reservations_detects_drift(ledger):
    ledger.reserve("D1", [(0, 0, 2)], "web", AT)
    ledger.check_reservations()
    ledger._reserved[0, 0] += 1
    ledger._free_t[0, 0] -= 1
    with pytest.raises(LedgerError, match="reserved for SKU 'A' at 'DC1'"):
        ledger.check_reservations()
