"""`sim.records.Recorder.frames`: every row joins the right order (ids, warm-up flags).

A shipments row's ``in_warmup`` taken by the wrong index, and the first order (index 0)
losing its id on the events table, passed the suite: the hand-made tables had no warm-up
order with packages and no event of order 0.
"""

from __future__ import annotations

import numpy as np
from busy_world import busy
from test_records import frames_args, values

from sim.records import Recorder


def test_every_row_carries_the_warm_up_flag_of_its_order() -> None:
    _, _, r = busy()
    warm = r.orders.set_index("order_id")["in_warmup"]
    for name in ("lines", "shipments"):
        t = getattr(r, name)
        assert (t["in_warmup"].to_numpy() == warm.loc[t["order_id"]].to_numpy()).all(), name
    assert warm.any() and not warm.all()


def test_hand_made_warm_up_flags_and_event_order_ids() -> None:
    rec = Recorder(n_orders=3, n_lines=0)
    # order 2 (warm-up) has two packages, order 0 one; package numbers are not order ids
    for order, package in ((2, 0), (2, 1), (0, 0)):
        rec.package(order, package, 0, 0, "delivered", 1, 1.0, 1, 1.0, 1.0, float(order),
                    np.nan, np.nan, np.nan, np.nan)  # fmt: skip
    rec.event(1.0, "cancel", order=0)
    rec.event(2.0, "edit", order=2)
    rec.event(3.0, "outage_start", location=0)
    args = list(frames_args(["A", "B", "C"]))
    args[2] = dict(args[2], in_warmup=np.array([False, False, True]))
    t = rec.frames(*args)
    s = t["shipments"]
    assert list(zip(s["order_id"], s["in_warmup"], strict=True)) == [
        ("A", False),
        ("C", True),
        ("C", True),
    ]
    assert values(t["events"]["order_id"]) == ["A", "C", None]


def test_events_about_an_order_name_it() -> None:
    _, _, r = busy()
    ev = r.events
    about = ev[ev["kind"].isin(["return", "cancel", "edit", "no_show", "stockout", "reject"])]
    assert len(about) > 100
    assert about["order_id"].notna().all()
    assert about["order_id"].isin(r.orders["order_id"]).all()
    assert (ev["order_id"] == r.orders["order_id"].iloc[0]).any()  # order 0 has events
