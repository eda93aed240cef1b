"""Customer returns against the per-line draws of `sim.model.arrivals` (lag, units).

Found by mutation testing: a lag read in days as hours, a transfer time in days, BOPIS
pickups never scheduling returns, transferred units not counted as restocked, and a
return larger than the package's units passed the suite (or only the golden baseline
failed). Rule (`sim.model.returns`): a line handed to the customer at ``T`` (delivery, or
BOPIS pickup) comes back at ``T + lag + transit`` with ``min(drawn units, units handed
over)``, if that is within the horizon; ``transit`` is the ground transit of the zone
between the customer's region and the receiving location when the return travels by
carrier (by mail, or to a DC), else 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from busy_world import busy


@pytest.fixture(scope="module")
def handed():
    """Lines of single-package orders delivered or picked up, with their hand-over time."""
    scn, w, r = busy()
    o = r.orders
    one = o[(o["packages"] == 1) & o["status"].isin(["delivered", "picked_up"])]
    t = np.where(one["method"] == "bopis", one["picked_up_h"], one["delivered_h"])
    when = pd.Series(t, index=one["order_id"].to_numpy())
    lines = r.lines.reset_index(drop=True)
    keep = lines["order_id"].isin(when.index).to_numpy()
    j = np.flatnonzero(keep)
    out = pd.DataFrame({
        "j": j,
        "order_id": lines["order_id"].to_numpy()[j],
        "sku": lines["sku"].astype(str).to_numpy()[j],
        "bopis": lines["order_id"].map(o.set_index("order_id")["method"].astype(str)).to_numpy()[j] == "bopis",
        "t": when.loc[lines["order_id"].to_numpy()[j]].to_numpy(),
        "fulfilled": lines["units_fulfilled"].to_numpy()[j],
        "returned": lines["units_returned"].to_numpy()[j],
        "lag": w.demand.ret_lag_h[j],
        "drawn": w.demand.ret_qty[j],
    })  # fmt: skip
    # the region after address edits (the orders table's), as a row of `w.regions`
    final = o.set_index("order_id")["region"].astype(str).map(w.region_ids.index)
    out["transit"] = _carrier_hours(scn, w, final.loc[out["order_id"]].to_numpy(), j)
    return scn, w, r, out


def _carrier_hours(scn, w, region: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Carrier transit of each line's return [h]: the zone's ground transit days from the
    order's region to where the return goes, when it travels by mail or to a DC."""
    from engine import haversine_miles, zone_for_miles

    dc, store = np.asarray(w.return_dc)[region], np.asarray(w.return_store)[region]
    mail = w.demand.ret_mail[j]
    row = np.where(mail, np.where(dc >= 0, dc, store), np.where(store >= 0, store, dc))
    net = w.network
    lat = np.array([x.lat for x in net.locations])[row]
    lon = np.array([x.lon for x in net.locations])[row]
    miles = haversine_miles(w.regions.lat[region], w.regions.lon[region], lat, lon)
    days = np.array([scn.carriers.transit_days[z] for z in zone_for_miles(miles)])
    return np.where(mail | (row == dc), 24.0 * days, 0.0)


def test_returned_units_follow_the_drawn_units_and_lags(handed) -> None:
    _, w, _, x = handed
    inside = x["t"] + x["lag"] + x["transit"] <= w.horizon_h
    expected = np.where(inside, np.minimum(x["drawn"], x["fulfilled"]), 0)
    assert (x["returned"].to_numpy() == expected).all()
    # both kinds of hand-over lead to returns, and some returns fall after the horizon
    assert x.loc[x["bopis"], "returned"].sum() > 0 and x.loc[~x["bopis"], "returned"].sum() > 0
    assert ((~inside) & (x["drawn"] > 0)).any()


def test_a_return_arrives_its_lag_and_carrier_transit_after_the_hand_over(handed) -> None:
    _, _, r, x = handed
    ev = r.events[r.events["kind"] == "return"]
    ev = ev.assign(sku=ev["sku"].astype(str)).merge(x, on=["order_id", "sku"])
    assert len(ev) > 50
    # returns by carrier (a zone's transit, at least a day) and over a desk (none) both came
    assert (ev["transit"] >= 24.0).sum() > 20 and (ev["transit"] == 0).sum() > 20
    assert ev["time_h"].to_numpy() == pytest.approx(
        (ev["t"] + ev["lag"] + ev["transit"]).to_numpy()
    )


def test_returns_to_a_dc_travel_the_store_lead_time(handed) -> None:
    """A returned unit sent to a DC is restocked there `store_lead_days` (days, not hours)
    after its inspection; one inspected at that DC is restocked at once."""
    scn, w, r, _ = handed
    assert w.returns.transfer_h == pytest.approx(scn.inventory.replenishment.store_lead_days * 24.0)
    assert w.returns.inspection_h == pytest.approx(scn.returns.inspection_hours)


def test_units_restocked_count_transfers_that_arrive_within_the_horizon() -> None:
    """Every restocked unit is audited in the ledger as a return to stock; within the
    horizon the lines' ``units_restocked`` equal the ledger's return receipts (restocks
    where received plus transfers arriving at the DC)."""
    from busy_world import scenario

    from sim import run

    scn = scenario(
        **{"returns.inspection_hours": 1, "inventory.replenishment.store_lead_days": 0.5}
    )
    r = run(scn, "closest", 3, days=5)
    horizon = 24.0 * 5
    ev = r.events.assign(
        kind=r.events["kind"].astype(str),
        sku=r.events["sku"].astype(str),
        loc=r.events["location"].astype(str),
    )
    restock_here = ev.loc[(ev["kind"] == "return_restock") & (ev["time_h"] <= horizon), "qty"].sum()
    # a transfer to another DC arrives 12 h after inspection, one at that DC at once
    came_to = ev[ev["kind"] == "return"].groupby(["order_id", "sku"])["loc"].first()
    moved = ev[ev["kind"] == "return_transfer_to_dc"]
    here = np.array(
        [
            came_to[(o, s)] == x
            for o, s, x in zip(moved["order_id"], moved["sku"], moved["loc"], strict=True)
        ]
    )
    arrives = moved["time_h"].to_numpy() + np.where(here, 0.0, 12.0)
    arrived = moved["qty"].to_numpy()[arrives <= horizon].sum()
    assert arrived > 0 and (~here).any()
    assert r.lines["units_restocked"].sum() == restock_here + arrived


def test_mail_returns_reach_the_regions_dc_and_desk_returns_its_store(handed) -> None:
    """By mail to the customer region's returns DC, over a desk to its returns store
    (the other one when the region has none)."""
    _, w, r, _ = handed
    edited = set(r.events.loc[r.events["kind"] == "edit", "order_id"])
    ev = r.events[(r.events["kind"] == "return") & ~r.events["order_id"].isin(edited)]
    region = w.demand.region[ev["order_id"].str[1:].astype(int).to_numpy()]
    dc, store = np.asarray(w.return_dc)[region], np.asarray(w.return_store)[region]
    mail = (ev["detail"] == "mail").to_numpy()
    want = np.where(mail, np.where(dc >= 0, dc, store), np.where(store >= 0, store, dc))
    assert mail.any() and (~mail).any() and (dc != store).all()
    assert (ev["location"].cat.codes.to_numpy() == want).all()


def test_every_return_is_decided_inspection_hours_after_it_arrives(handed) -> None:
    scn, _, r, _ = handed
    ev = r.events.assign(sku=r.events["sku"].astype(str), kind=r.events["kind"].astype(str))
    came = ev[ev["kind"] == "return"][["order_id", "sku", "time_h"]]
    decided = ev[ev["kind"].str.startswith("return_")][["order_id", "sku", "time_h"]]
    assert len(came) == len(decided) > 50
    pairs = came.merge(decided, on=["order_id", "sku"], suffixes=("", "_d"))
    pairs["ok"] = np.isclose(pairs["time_h_d"] - pairs["time_h"], scn.returns.inspection_hours)
    assert pairs.groupby(["order_id", "sku", "time_h"])["ok"].any().all()


def test_exchanges_are_placed_for_exactly_the_returns_drawn_as_exchanges(handed) -> None:
    _, w, r, x = handed
    back = x[x["returned"] > 0].assign(
        exchange=w.demand.ret_exchange[x.loc[x["returned"] > 0, "j"]]
    )
    wanted = back.groupby("order_id")["exchange"].any()
    ev = r.events[r.events["kind"] == "exchange"]
    placed = set(ev["detail"].astype(str).str.split("-X").str[0])
    assert wanted.any() and (~wanted).any()
    assert set(wanted[wanted].index) <= placed
    assert not set(wanted[~wanted].index) & placed
