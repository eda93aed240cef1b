"""Returns disposition, refunds and exchanges."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from routing_world import LOCATIONS, OPEN, delivered, order, world

from engine import LocationKind, OrderStatus, UnknownLocationError
from engine.returns import Condition, ReturnAction, ReturnDecision, ReturnItem, ReturnsPolicy

LATER = datetime(2024, 3, 20, 15, tzinfo=UTC)


@pytest.fixture
def setup():
    _, ledger, network = world({("ST1", "A"): 3, ("DC1", "A"): 5})
    return network, ledger


def decide(setup, item, price=20.0, **kw):
    network, ledger = setup
    return ReturnsPolicy(**kw).decide(item, network, ledger, LATER, price)


def test_damaged_is_disposed_where_received(setup):
    d = decide(setup, ReturnItem("O1", "A", 1, "ST1", Condition.DAMAGED))
    assert (d.action, d.location, d.refund_amount) == (ReturnAction.DISPOSE, "ST1", 20.0)


def test_new_at_dc_restocks_there(setup):
    d = decide(setup, ReturnItem("O1", "A", 2, "DC2", Condition.NEW))
    assert (d.action, d.location, d.refund_amount) == (ReturnAction.RESTOCK, "DC2", 40.0)


def test_new_at_store_restocks_if_store_carries_sku(setup):
    d = decide(setup, ReturnItem("O1", "A", 1, "ST1"))
    assert (d.action, d.location) == (ReturnAction.RESTOCK, "ST1")


def test_new_at_store_not_carrying_sku_goes_to_nearest_dc(setup):
    d = decide(setup, ReturnItem("O1", "B", 1, "ST2"))
    assert (d.action, d.location) == (ReturnAction.TRANSFER_TO_DC, "DC1")
    d = decide(setup, ReturnItem("O1", "B", 1, "ST2"), restock_at_any_store=True)
    assert (d.action, d.location) == (ReturnAction.RESTOCK, "ST2")


def test_opened_goes_to_dc_for_inspection_unless_setting(setup):
    d = decide(setup, ReturnItem("O1", "A", 1, "ST1", Condition.OPENED))
    assert (d.action, d.location) == (ReturnAction.TRANSFER_TO_DC, "DC1")
    d = decide(setup, ReturnItem("O1", "A", 1, "DC2", Condition.OPENED))
    assert (d.action, d.location) == (ReturnAction.TRANSFER_TO_DC, "DC2")  # inspected there
    d = decide(setup, ReturnItem("O1", "A", 1, "ST1", Condition.OPENED), restock_opened=True)
    assert (d.action, d.location) == (ReturnAction.RESTOCK, "ST1")


def test_exchange_creates_new_order_and_no_refund(setup):
    network, ledger = setup
    original = delivered(order(("A", 2), ("B", 1), id="W1"))
    policy = ReturnsPolicy()
    d = policy.decide(
        ReturnItem("W1", "A", 1, "ST1", wants_exchange=True), network, ledger, LATER, 20.0, original
    )
    assert d.refund_amount == 0.0
    ex = d.exchange_order
    assert ex.id == "W1-X1" and ex.created_at == LATER and ex.status is OrderStatus.CREATED
    assert [(line.sku, line.quantity) for line in ex.lines] == [("A", 1)]
    assert (ex.customer_id, ex.dest_lat, ex.channel) == (
        original.customer_id,
        original.dest_lat,
        original.channel,
    )
    d2 = policy.decide(
        ReturnItem("W1", "B", 1, "ST1", wants_exchange=True), network, ledger, LATER, 5.0
    )
    assert d2.exchange_order.id == "W1-X2"


def test_apply_updates_ledger_and_refund(setup):
    network, ledger = setup
    policy = ReturnsPolicy()
    original = delivered(order(("A", 1), id="R1"))
    d = policy.decide(ReturnItem("R1", "A", 1, "ST1"), network, ledger, LATER, 20.0)
    assert policy.apply(d, ledger, LATER, order=original)
    assert ledger.on_hand[ledger.loc_index["ST1"], 0] == 4
    assert original.refunds[0].amount == 20.0 and original.refunds[0].sku == "A"
    d = policy.decide(
        ReturnItem("R1", "A", 1, "ST1", Condition.DAMAGED), network, ledger, LATER, 20.0
    )
    assert policy.apply(d, ledger, LATER)
    assert ledger.on_hand[ledger.loc_index["ST1"], 0] == 4  # audited return + dispose
    d = policy.decide(
        ReturnItem("R1", "A", 2, "ST1", Condition.OPENED), network, ledger, LATER, 20.0
    )
    assert not policy.apply(d, ledger, LATER)  # transfer left to the caller
    assert policy.apply(d, ledger, LATER, transfer_now=True)
    assert ledger.on_hand[ledger.loc_index["DC1"], 0] == 7
    ledger.check_conservation()


def test_invalid_returns(setup):
    with pytest.raises(ValueError, match="quantity must be > 0"):
        ReturnItem("O1", "A", 0, "ST1")
    with pytest.raises(ValueError, match="unknown condition"):
        ReturnItem("O1", "A", 1, "ST1", "soggy")
    with pytest.raises(UnknownLocationError):
        decide(setup, ReturnItem("O1", "A", 1, "NOPE"))
    with pytest.raises(ValueError, match="unit_price"):
        decide(setup, ReturnItem("O1", "A", 1, "ST1"), price=-1)
    with pytest.raises(ValueError, match="no item"):
        ReturnsPolicy().apply(
            ReturnDecision(ReturnAction.RESTOCK, "ST1", 0.0, None), setup[1], OPEN
        )


def test_a_store_whose_units_were_all_counted_away_but_are_reserved_still_carries_the_sku():
    _, ledger, network = world({("ST1", "A"): 3, ("DC1", "A"): 5})
    i, s = ledger.index_of("ST1", "A")
    assert ledger.reserve("D1", [(i, s, 3)], "web", OPEN)
    ledger.count(i, s, 0, OPEN, "D1")  # on hand 0, still 3 reserved: the store sells it
    assert (int(ledger.on_hand[i, s]), int(ledger.reserved[i, s])) == (0, 3)
    d = ReturnsPolicy().decide(ReturnItem("O1", "A", 1, "ST1"), network, ledger, LATER, 20.0)
    assert (d.action, d.location) == (ReturnAction.RESTOCK, "ST1")


def test_a_third_party_warehouse_takes_transfers_like_a_dc():
    locs = [replace(x, kind=LocationKind.THREE_PL) if x.id == "DC1" else x for x in LOCATIONS]
    _, ledger, network = world({("ST1", "A"): 3}, locations=locs)
    d = ReturnsPolicy().decide(ReturnItem("O1", "B", 1, "ST2"), network, ledger, LATER, 5.0)
    assert d.location == "DC1"


def test_an_exchange_keeps_the_channel_and_the_quantity_returned():
    _, ledger, network = world({("ST1", "A"): 3})
    original = delivered(order(("A", 3), id="M1", channel="marketplace"))
    item = ReturnItem("M1", "A", 2, "ST1", wants_exchange=True)
    ex = ReturnsPolicy().decide(item, network, ledger, LATER, 20.0, original).exchange_order
    assert str(ex.channel) == "marketplace"
    assert [(line.sku, line.quantity) for line in ex.lines] == [("A", 2)]


def test_a_free_item_is_refunded_nothing_without_error():
    _, ledger, network = world({("ST1", "A"): 3})
    d = ReturnsPolicy().decide(ReturnItem("O1", "A", 1, "ST1"), network, ledger, LATER, 0.0)
    assert d.refund_amount == 0.0


def test_restocking_opened_items_follows_the_rules_for_new_ones():
    _, ledger, network = world({("ST1", "A"): 3})
    policy = ReturnsPolicy(restock_opened=True)
    carried = policy.decide(
        ReturnItem("O1", "A", 1, "ST1", Condition.OPENED), network, ledger, LATER, 5.0
    )
    assert (carried.action, carried.location) == (ReturnAction.RESTOCK, "ST1")
    assert carried.reason == "opened at a store that carries the SKU"
    other = policy.decide(
        ReturnItem("O1", "B", 1, "ST2", Condition.OPENED), network, ledger, LATER, 5.0
    )
    assert (other.action, other.location) == (ReturnAction.TRANSFER_TO_DC, "DC1")
    assert other.reason == "opened at a store that does not carry the SKU"
