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
    # a cancelled order no longer counts as demand; its lines keep what was ordered
    assert (rows["units"] == 0).all() and (rows["units_lost"] == 0).all()
    lines = r.lines[r.lines["order_id"].isin(cancelled)]
    assert (lines["units"] == 0).all() and (lines["units_ordered"] > 0).all()
    assert (r.events["kind"] == "edit").any()


def test_an_address_change_moves_the_order_to_its_new_region(outage) -> None:
    _, r = outage
    ev = r.events
    moved = ev[(ev["kind"] == "edit") & ev["detail"].astype(str).str.startswith("address -> ")]
    assert len(moved) > 0
    region = r.orders.set_index("order_id").loc[moved["order_id"], "region"].astype(str)
    new = moved["detail"].astype(str).str.removeprefix("address -> ")
    assert (region.to_numpy() == new.to_numpy()).all()


@pytest.fixture(scope="module")
def spied():
    """Five days of the default scenario with spies on pick rejections and return transfers."""
    from sim import load_scenario
    from sim.model import oms, returns
    from sim.model.world import World

    rejected: list[tuple[int, int, int]] = []  # (line row, units of it, units on the shelf)
    transfers: list[tuple[int, int, float]] = []  # (received at, restocked at, delay)
    mp = pytest.MonkeyPatch()
    reject, inspect, call_later = oms.Oms._reject, returns.Returns._inspect, returns.call_later

    def spy_reject(self, pkg, short, t):
        if pkg.st.idx >= 0:  # a recorded order (not an exchange)
            rejected.extend((j, q, int(self.w.stock.on_hand[pkg.row, s])) for s, q, j in short)
        return reject(self, pkg, short, t)

    def spy_inspect(self, ev):
        row = ev.value[5]

        def later(env, delay, fn, value):
            if fn.__name__ == "_transferred":
                transfers.append((row, value[5], delay))
            return call_later(env, delay, fn, value)

        mp.setattr(returns, "call_later", later, raising=True)
        try:
            return inspect(self, ev)
        finally:
            mp.undo()

    with pytest.MonkeyPatch.context() as m:
        m.setattr(oms.Oms, "_reject", spy_reject)
        m.setattr(returns.Returns, "_inspect", spy_inspect)
        w = World.build(load_scenario("default"), "closest", 42, 0, 5)
        w.run()
    return w, rejected, transfers


def test_oversold_units_are_the_units_the_shelf_lacked(spied) -> None:
    """Each rejection oversells the units the shelf lacked; a line rejected again after a
    re-route is oversold at most its units in all."""
    w, rejected, _ = spied
    assert any(h > 0 for _, _, h in rejected)  # some shelves held part of the line
    lacked: dict[int, int] = {}
    for j, q, h in rejected:
        lacked[j] = lacked.get(j, 0) + q - h
    expected = sum(min(units, int(w.rec.l_units[j])) for j, units in lacked.items())
    assert int(w.rec.l_oversold.sum()) == expected > 0


def test_opened_returns_at_a_dc_are_restocked_there_without_a_trip(spied) -> None:
    w, _, transfers = spied
    same = [d for row, where, d in transfers if row == where]
    trips = [d for row, where, d in transfers if row != where]
    assert same and trips
    assert set(same) == {0.0}
    assert set(trips) == {w.returns.transfer_h}


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
