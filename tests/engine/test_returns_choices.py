"""`engine.returns`: where a return goes, exchange ids and addresses, and refunds.

A store "carries" a SKU when it holds or has promised units of it (on hand + reserved),
mail and transfers prefer DCs with the returns capability, exchange ids count per order
(over every policy that decides its returns), and an exchange ships to the original
address.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from routing_world import DC2, LOCATIONS, OPEN, delivered, order, world

from engine import Capability
from engine.returns import Condition, ReturnAction, ReturnItem, ReturnsPolicy

LATER = datetime(2024, 3, 20, 15, tzinfo=UTC)


def test_a_store_whose_units_are_all_reserved_still_carries_the_sku() -> None:
    """ATS 0 is not "does not carry": the store sells the SKU, so a new return restocks."""
    _, ledger, network = world({("ST1", "A"): 3, ("DC1", "A"): 5})
    i, s = ledger.index_of("ST1", "A")
    assert ledger.reserve("D1", [(i, s, 3)], "web", OPEN)
    assert ledger.ats_for("ST1", "A", "web") == 0
    d = ReturnsPolicy().decide(ReturnItem("O1", "A", 1, "ST1"), network, ledger, LATER, 20.0)
    assert (d.action, d.location) == (ReturnAction.RESTOCK, "ST1")


def test_transfers_prefer_a_dc_with_the_returns_capability_over_a_nearer_one() -> None:
    caps = frozenset({Capability.SHIP, Capability.RETURNS})
    locations = [replace(x, capabilities=caps) if x.id == DC2.id else x for x in LOCATIONS]
    _, ledger, network = world({("ST1", "A"): 3}, locations=locations)
    policy = ReturnsPolicy()
    # ST2 (-75.6) does not carry B; DC1 (-76.0) is nearer but only DC2 (-80.0) takes returns
    d = policy.decide(ReturnItem("O1", "B", 1, "ST2"), network, ledger, LATER, 5.0)
    assert (d.action, d.location) == (ReturnAction.TRANSFER_TO_DC, "DC2")
    d = policy.decide(
        ReturnItem("O1", "A", 1, "ST1", Condition.OPENED), network, ledger, LATER, 5.0
    )
    assert (d.action, d.location) == (ReturnAction.TRANSFER_TO_DC, "DC2")
    # without any returns-capable DC, the nearest DC
    _, ledger, network = world({("ST1", "A"): 3})
    d = policy.decide(ReturnItem("O1", "B", 1, "ST2"), network, ledger, LATER, 5.0)
    assert d.location == "DC1"


def test_exchange_ids_count_per_order() -> None:
    _, ledger, network = world({("ST1", "A"): 3})
    policy = ReturnsPolicy()

    def exchange_id(order_id: str) -> str:
        item = ReturnItem(order_id, "A", 1, "ST1", wants_exchange=True)
        return policy.decide(item, network, ledger, LATER, 20.0).exchange_order.id

    ids = [exchange_id(o) for o in ("W1", "V1", "W1", "V1", "V1")]
    assert ids == ["W1-X1", "V1-X1", "W1-X2", "V1-X2", "V1-X3"]


def test_two_policies_number_the_exchanges_of_one_order_together() -> None:
    """Two policy objects (two returns desks, or one made per return) deciding exchanges of
    one original order give distinct ids: the order numbers its exchanges, not the policy."""
    _, ledger, network = world({("ST1", "A"): 3})
    original = delivered(order(("A", 3), id="W1"))
    desk, mail = ReturnsPolicy(), ReturnsPolicy()

    def exchange_id(policy: ReturnsPolicy, original=original) -> str:
        item = ReturnItem("W1", "A", 1, "ST1", wants_exchange=True)
        return policy.decide(item, network, ledger, LATER, 20.0, original).exchange_order.id

    ids = [exchange_id(desk), exchange_id(mail), exchange_id(ReturnsPolicy()), exchange_id(desk)]
    assert ids == ["W1-X1", "W1-X2", "W1-X3", "W1-X4"] and original.exchanges == 4
    # the same calls in a new run give the same ids
    again = delivered(order(("A", 3), id="W1"))
    assert [exchange_id(p, again) for p in (ReturnsPolicy(), ReturnsPolicy())] == ["W1-X1", "W1-X2"]
    # a policy's own count still applies to returns decided without the original
    assert exchange_id(desk, None) == "W1-X5"


def test_an_exchange_ships_to_the_original_address_or_else_the_receiving_location() -> None:
    _, ledger, network = world({("ST1", "A"): 3})
    policy = ReturnsPolicy()
    original = delivered(order(("A", 1), id="W1", dest=(41.5, -73.25)))
    item = ReturnItem("W1", "A", 1, "ST1", wants_exchange=True)
    ex = policy.decide(item, network, ledger, LATER, 20.0, original).exchange_order
    assert (ex.dest_lat, ex.dest_lon) == (41.5, -73.25)
    ex = policy.decide(item, network, ledger, LATER, 20.0).exchange_order
    st1 = network.loc("ST1")
    assert (ex.dest_lat, ex.dest_lon) == (st1.lat, st1.lon)


def test_applying_an_exchange_restocks_and_records_no_refund() -> None:
    """An exchange owes no money: `apply` with the original order records no refund (a
    refund of 0 is not a refund) and still puts the units back."""
    _, ledger, network = world({("ST1", "A"): 3})
    original = delivered(order(("A", 1), id="W1"))
    policy = ReturnsPolicy()
    d = policy.decide(
        ReturnItem("W1", "A", 1, "ST1", wants_exchange=True), network, ledger, LATER, 20.0, original
    )
    assert d.refund_amount == 0.0 and d.action is ReturnAction.RESTOCK
    assert policy.apply(d, ledger, LATER, order=original)
    assert original.refunds == []
    assert ledger.on_hand[ledger.loc_index["ST1"], ledger.sku_index["A"]] == 4
    ledger.check_conservation()


def test_two_policies_cannot_take_the_same_units_back() -> None:
    """The units returned are counted on the original order, not per policy object: a
    second returns desk refuses units the first one took back."""
    _, ledger, network = world({("DC1", "A"): 1})
    original = delivered(order(("A", 1), id="R1"))
    item = ReturnItem("R1", "A", 1, "DC1")
    desk, mail = ReturnsPolicy(), ReturnsPolicy()
    desk.apply(desk.decide(item, network, ledger, LATER, 10.0, original), ledger, LATER,
               order=original)  # fmt: skip
    with pytest.raises(ValueError, match="only 0 were fulfilled and not returned yet"):
        mail.decide(item, network, ledger, LATER, 10.0, original)
    assert original.returned == {"A": 1}
    # the count goes on the item's own order only
    other = delivered(order(("A", 1), id="R2"))
    d = mail.decide(ReturnItem("R2", "A", 1, "DC1"), network, ledger, LATER, 10.0, other)
    on_hand = ledger.on_hand.copy()
    with pytest.raises(ValueError, match="return of order 'R2': the original order given is 'R1'"):
        mail.apply(d, ledger, LATER, order=original)
    assert original.returned == {"A": 1} and len(original.refunds) == 1 and other.returned is None
    assert (ledger.on_hand == on_hand).all()
