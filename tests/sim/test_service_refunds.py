"""Customer-service refunds (`sim.model.service`) against the prices of the units.

Found by mutation testing: a cancellation refunding one unit per line, and an edit
refunding one unit of a removed multi-unit line, passed the suite (it only checked
``refund > 0``). A cancelled order is refunded the price of every unit ordered; an edited
one the price of the units removed (``units_ordered - units`` per line).
"""

from __future__ import annotations

import numpy as np
import pytest
from busy_world import SEED, busy, scenario

import sim.model.world as world
from sim import run
from sim.records import TERMINAL_STATUSES


def _owed(r, w, ids) -> tuple[np.ndarray, np.ndarray]:
    """Refunded and owed: the units removed, and a finished order's lost units."""
    lines = r.lines[r.lines["order_id"].isin(ids)]
    price = np.asarray(w.oms.price)[lines["sku"].cat.codes.to_numpy()]
    finished = r.orders.set_index("order_id")["status"].isin(TERMINAL_STATUSES)
    lost = lines["units_lost"].where(finished.loc[lines["order_id"]].to_numpy(), 0)
    removed = (lines["units_ordered"] - lines["units"] + lost).to_numpy()
    owed = lines.assign(v=price * removed).groupby("order_id")["v"].sum()
    refund = r.orders.set_index("order_id").loc[owed.index, "refund"]
    return refund.to_numpy(), owed.to_numpy()


def _later_refunds(r) -> set:
    """Orders refunded for something else too (returns, no-shows)."""
    ev = r.events
    return set(ev.loc[ev["kind"].isin(["return", "no_show"]), "order_id"])


def test_a_cancellation_refunds_every_unit_ordered() -> None:
    _, w, r = busy()
    ids = set(r.events.loc[r.events["kind"] == "cancel", "order_id"])
    lines = r.lines[r.lines["order_id"].isin(ids)]
    assert len(ids) > 20 and (lines["units_ordered"] > 1).any()
    assert (lines["units"] == 0).all()
    refund, owed = _owed(r, w, ids)
    assert refund == pytest.approx(owed)


def test_an_edit_refunds_the_units_it_removes() -> None:
    _, w, r = busy()
    ev = r.events
    edits = ev[ev["kind"] == "edit"]
    ids = set(edits["order_id"]) - _later_refunds(r)
    refund, owed = _owed(r, w, ids)
    assert refund == pytest.approx(owed)
    # the event's quantity is the units removed; removed lines of several units occur
    qty = edits.set_index("order_id")["qty"]
    lines = r.lines[r.lines["order_id"].isin(ids)]
    removed = (lines["units_ordered"] - lines["units"]).groupby(lines["order_id"]).sum()
    assert (qty.loc[removed.index].to_numpy() == removed.to_numpy()).all()
    assert (removed > 1).any() and (removed == 0).any()  # address changes refund nothing


def _lost_only(r) -> set:
    """Orders with lost units and no other refund (no edit, return or no-show)."""
    ids = set(r.orders.loc[r.orders["units_lost"] > 0, "order_id"])
    return ids - _later_refunds(r) - set(r.events.loc[r.events["kind"] == "edit", "order_id"])


def test_a_finished_order_is_refunded_its_lost_units() -> None:
    """Units never supplied (no stock at placement, or after a rejection) are refunded when
    the order finishes."""
    _, w, r = busy()
    ids = _lost_only(r)
    assert len(ids) > 10
    refund, owed = _owed(r, w, ids)
    assert refund == pytest.approx(owed) and (owed > 0).any()


def test_an_order_in_flight_has_not_been_refunded_its_lost_units_yet(monkeypatch) -> None:
    """Cut off at the horizon (no drain: `DRAIN_DAYS` 0), orders with lost units are both
    finished (refunded them) and still in flight (not yet: `_owed` owes them nothing)."""
    _, w, _ = busy()  # its prices: the catalogue's, whatever the run's length
    monkeypatch.setattr(world, "DRAIN_DAYS", 0)
    r = run(scenario(), "closest", SEED, days=3)
    assert r.end_h == 72.0
    ids = _lost_only(r)
    o = r.orders[r.orders["order_id"].isin(ids)]
    in_flight = ~o["status"].isin(TERMINAL_STATUSES)
    assert in_flight.sum() > 5 and (~in_flight).sum() > 5
    assert (o.loc[in_flight, "refund"] == 0).all()
    refund, owed = _owed(r, w, ids)
    assert refund == pytest.approx(owed) and (owed > 0).any()


def test_line_units_stay_consistent_after_edits_and_cancellations() -> None:
    """Per line: fulfilled + lost <= units; per order the lines add up to the order row,
    also for lines removed by an edit (no units, so nothing lost either)."""
    _, _, r = busy()
    lines, o = r.lines, r.orders.set_index("order_id")
    assert (lines["units_fulfilled"] + lines["units_lost"] <= lines["units"]).all()
    for col in ("units", "units_lost", "units_fulfilled", "units_oversold"):
        per_order = lines.groupby("order_id")[col].sum().reindex(o.index)
        assert (per_order.to_numpy() == o[col].to_numpy()).all(), col
    edited = set(r.events.loc[r.events["kind"] == "edit", "order_id"])
    removed = lines[lines["order_id"].isin(edited) & (lines["units"] == 0)]
    assert len(removed) > 5 and (removed["units_lost"] == 0).all()
