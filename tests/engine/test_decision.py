"""Decisions: reason codes per location, packages and fulfilment requests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from routing_world import NIGHT, OPEN, order, reasons, world

from engine import DeliveryMethod
from engine.routing import Allocation, Exclusion, FulfilmentRequest, RoutingSettings


def test_reasons_explain_every_excluded_location():
    # ST1 closed (skip mode), ST2 excluded by the caller, DC1 has no stock, WH cannot ship,
    # DC2 is the only candidate.
    stock = {("ST1", "A"): 5, ("ST2", "A"): 5, ("DC2", "A"): 5}
    router, _, _ = world(stock, settings=RoutingSettings(closed_location="skip"))
    d = router.route(order(("A", 1)), NIGHT, exclude=["ST2"])
    r = reasons(d)
    assert [x["location"] for x in d.reasons()] == ["ST1", "ST2", "DC1", "WH", "DC2"]
    assert r["ST1"]["excluded"] == "CLOSED"
    assert r["ST2"]["excluded"] == "EXCLUDED"
    assert r["DC1"]["excluded"] == "NO_STOCK"
    assert r["WH"]["excluded"] == "NO_CAPABILITY"
    assert r["DC2"] == {
        "location": "DC2",
        "excluded": None,
        "rank": 0,
        "score": r["DC2"]["distance_miles"],
        "distance_miles": r["DC2"]["distance_miles"],
        "fillable_units": 1,
        "chosen": True,
    }
    assert 264 < r["DC2"]["distance_miles"] < 265
    assert all(x["rank"] is None and x["score"] is None for x in r.values() if x["excluded"])
    assert d.excluded() == {
        "ST1": "CLOSED",
        "ST2": "EXCLUDED",
        "DC1": "NO_STOCK",
        "WH": "NO_CAPABILITY",
    }


def test_first_reason_wins():
    router, _, _ = world({}, settings=RoutingSettings(closed_location="skip"))
    d = router.route(order(("A", 1)), NIGHT, exclude=["ST1"])  # ST1 closed, excluded, no stock
    assert reasons(d)["ST1"]["excluded"] == "EXCLUDED"  # caller exclusion precedes hours


def test_ranks_of_candidates_not_chosen():
    stock = {("ST1", "A"): 5, ("ST2", "A"): 5, ("DC1", "A"): 5}
    router, _, _ = world(stock)
    r = reasons(router.route(order(("A", 1)), OPEN))
    assert [r[x]["rank"] for x in ("ST1", "ST2", "DC1")] == [0, 1, 2]
    assert [r[x]["chosen"] for x in ("ST1", "ST2", "DC1")] == [True, False, False]
    assert r["ST1"]["score"] < r["ST2"]["score"] < r["DC1"]["score"]


def test_exclusion_codes_are_int8_enum():
    assert Exclusion.OK == 0 and Exclusion(8) is Exclusion.NO_STOCK
    assert len(Exclusion) == 10


def test_fulfilment_requests_per_package():
    router, _, _ = world({("ST1", "A"): 2, ("DC1", "A"): 1, ("DC1", "B"): 1})
    o = order(("A", 3), ("B", 1))
    d = router.place(o, OPEN)
    assert d.allocations == (
        Allocation("ST1", "A", 2, 0),
        Allocation("DC1", "A", 1, 1),
        Allocation("DC1", "B", 1, 1),
    )
    assert d.packages == 2 and d.units == 4 and d.unfulfillable_units == 0
    requests = router.release(o, OPEN)
    assert requests == [
        FulfilmentRequest(
            "ST1", o.id, d.decision_id, (("A", 2),), (40.0, -75.0), "ship", "ground", 0,
            datetime(2024, 3, 5, 21, tzinfo=UTC),
        ),
        FulfilmentRequest(
            "DC1", o.id, d.decision_id, (("A", 1), ("B", 1)), (40.0, -75.0), "ship", "ground", 1,
            datetime(2024, 3, 5, 21, tzinfo=UTC),
        ),
    ]  # fmt: skip
    assert d.fulfilment_requests(o) == requests


def test_fulfilment_request_for_bopis():
    router, _, _ = world({("ST2", "A"): 2})
    o = order(("A", 1), method=DeliveryMethod.BOPIS, pickup_store="ST2")
    router.place(o, OPEN)
    (request,) = router.release(o, OPEN)
    assert request.location == "ST2" and request.method == "bopis"
    assert request.service_level == "pickup"


def test_estimates_add_up():
    router, _, _ = world({("ST1", "A"): 1, ("DC2", "A"): 1})
    d = router.route(order(("A", 2)), OPEN)
    assert d.est_cost == d.est_shipping_cost + d.est_handling_cost
    # ST1 zone 1 (1 day), DC2 265 mi zone 3 (3 days): the latest package sets the estimate.
    # Promised by the end of the local day: Fri 8 Mar 24:00 EST = Sat 05:00 UTC.
    assert d.est_delivery == datetime(2024, 3, 9, 5, tzinfo=UTC)


def test_empty_decision():
    router, _, _ = world({})
    d = router.route(order(("A", 1)), OPEN)
    assert d.allocations == () and d.packages == 0 and d.est_delivery is None
    assert d.est_cost == 0.0 and d.locations == ()
    assert all(r["excluded"] for r in d.reasons())


def test_reasons_can_be_dropped_to_save_memory():
    from engine import RoutingError

    router, _, _ = world({("ST1", "A"): 1}, settings=RoutingSettings(keep_reasons=False))
    d = router.route(order(("A", 1)), OPEN)
    assert d.locations == ("ST1",)
    with pytest.raises(RoutingError, match="reasons were not kept"):
        d.reasons()
