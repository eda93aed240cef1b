"""How orders end (`sim.model.closing`), checked row by row against their packages.

Found by mutation testing: an order's ``delivered_h`` taken from its first package instead
of its last (click-to-door of split orders), and ``picked_up_h`` written from ``ready_h``
passed the suite.
"""

from __future__ import annotations

import pytest
from busy_world import busy


def test_an_order_is_delivered_when_its_last_package_is() -> None:
    _, _, r = busy()
    s = r.shipments
    last = s[s["status"] == "delivered"].groupby("order_id")["delivered_h"].max()
    o = r.orders.set_index("order_id")
    done = o[o["status"].isin(["delivered", "partially_fulfilled"]) & o["delivered_h"].notna()]
    split = done[done["packages"] > 1]
    assert len(split) > 10  # split orders: the first and last package differ
    assert done["delivered_h"].to_numpy() == pytest.approx(last.loc[done.index].to_numpy())
    first = s[s["status"] == "delivered"].groupby("order_id")["delivered_h"].min()
    assert (last.loc[split.index] > first.loc[split.index]).any()


def test_fulfilled_units_of_lines_add_up_to_their_orders_and_packages() -> None:
    _, _, r = busy()
    o = r.orders.set_index("order_id")
    per_order = r.lines.groupby("order_id")["units_fulfilled"].sum()
    assert (per_order.reindex(o.index).to_numpy() == o["units_fulfilled"].to_numpy()).all()
    s = r.shipments
    handed = s[s["status"].isin(["shipped", "delivered", "picked_up"])]
    units = handed.groupby("order_id")["units"].sum().reindex(o.index, fill_value=0)
    assert (units.to_numpy() == o["units_fulfilled"].to_numpy()).all()


def test_picked_up_h_follows_ready_h_for_every_collected_order() -> None:
    _, _, r = busy()
    o = r.orders
    up = o[o["status"] == "picked_up"]
    assert len(up) > 10
    assert (up["picked_up_h"] > up["ready_h"]).all()
    assert o.loc[o["method"] != "bopis", "picked_up_h"].isna().all()


def test_engine_orders_end_picked_up_or_cancelled_as_their_bopis_packages_do(monkeypatch) -> None:
    """The engine's view agrees with the tables: a collected BOPIS order ends PICKED_UP,
    a no-show one CANCELLED (nothing was fulfilled)."""
    from busy_world import DAYS, SEED, scenario

    from engine import OrderStatus
    from sim.model.closing import Closing
    from sim.model.world import World

    final: dict[str, OrderStatus] = {}
    close = Closing._close_engine_order

    def spy(self, eo, t):
        close(self, eo, t)
        final[eo.order.id] = eo.order.status

    monkeypatch.setattr(Closing, "_close_engine_order", spy)
    w = World.build(scenario(), "closest", SEED, 0, DAYS)
    w.run()
    _, _, r = busy()  # the same run's tables
    s = r.shipments[r.shipments["method"] == "bopis"]
    assert s["order_id"].is_unique
    got = {
        st: {final[i] for i in s.loc[s["status"] == st, "order_id"]}
        for st in ("picked_up", "no_show")
    }
    assert got == {"picked_up": {OrderStatus.PICKED_UP}, "no_show": {OrderStatus.CANCELLED}}
