"""Behaviour of single model parts, read from the tables of one small outage run.

`test_model_invariants` checks that every run balances; these tests check that the parts
the issue lists actually act: the outage stops picking, customer-service cancellations
refund and fulfil nothing, BOPIS no-shows are refunded, returns come back and are
restocked, and replenishment delivers to stores and DCs.
"""

from __future__ import annotations

import pytest
from test_model_invariants import small

from sim import run
from sim.scenario.loader import SCENARIOS_DIR


@pytest.fixture(scope="module")
def outage():
    scn, days = small(SCENARIOS_DIR / "outage.yaml")
    return scn, run(scn, seed=3, days=days)


def test_no_picking_at_a_location_during_its_outage(outage) -> None:
    scn, r = outage
    (o,) = scn.disruptions.outages
    start, end = 24.0 * o.start_day, 24.0 * (o.start_day + o.days)
    kinds = r.events.set_index("kind")
    assert kinds.loc["outage_start", "time_h"] == start
    assert kinds.loc["outage_end", "time_h"] == end
    at = r.shipments[r.shipments["location"] == o.location]
    assert len(at) > 0
    inside = (at["picked_h"] > start) & (at["picked_h"] < end)
    assert not inside.any()
    # and no carrier calls while it is down
    assert not ((at["shipped_h"] > start) & (at["shipped_h"] < end)).any()


def test_cancellations_refund_and_fulfil_nothing(outage) -> None:
    _, r = outage
    cancelled = r.events.loc[r.events["kind"] == "cancel", "order_id"]
    assert len(cancelled) > 0
    rows = r.orders.set_index("order_id").loc[cancelled]
    assert (rows["status"] == "cancelled").all()
    assert (rows["units_fulfilled"] == 0).all()
    assert (rows["refund"] > 0).all()
    assert (r.events["kind"] == "edit").any()


def test_bopis_no_shows_are_refunded_and_not_fulfilled(outage) -> None:
    _, r = outage
    no_show = r.shipments[r.shipments["status"] == "no_show"]
    assert len(no_show) > 0
    assert (no_show["method"] == "bopis").all()
    rows = r.orders.set_index("order_id").loc[no_show["order_id"]]
    assert (rows["refund"] > 0).all()


def test_returns_come_back_and_are_restocked(outage) -> None:
    _, r = outage
    ev = r.events
    returned = ev.loc[ev["kind"] == "return", "qty"].sum()
    assert returned > 0
    assert r.lines["units_returned"].sum() == returned
    # every returned unit gets exactly one disposition
    disposed = ev.loc[ev["kind"].str.startswith("return_"), "qty"].sum()
    assert disposed == returned
    restocked_here = ev.loc[ev["kind"] == "return_restock", "qty"].sum()
    assert restocked_here <= r.lines["units_restocked"].sum() <= returned


def test_replenishment_reaches_stores_and_dcs(outage) -> None:
    _, r = outage
    receipts = r.events[r.events["kind"] == "receipt"]
    kinds = set(r.utilisation.set_index("location").loc[receipts["location"], "kind"])
    assert "store" in kinds and "warehouse" in kinds
    assert r.conservation["received"] > 0
