"""Ship-by and delivery estimates (`engine.routing.timing.ShipTimes`) against hand-computed
local times: the cut-off hour is a boundary (work starting at it misses that day's truck),
carriers collect on local wall-clock time across a daylight-saving change, do not call on
days the location is closed, and the transit days follow the parcel zone of the distance,
zone upper bounds inclusive (as `Network.zones_from`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from routing_world import DC1, LOCATIONS, ST1, order, world

from engine import DeliveryMethod, Network, OpeningHours
from engine.routing import RoutingSettings
from engine.routing.timing import LocalClock, ShipTimes

H = 3600.0


def _times(network: Network) -> ShipTimes:
    return ShipTimes(network, RoutingSettings(), LocalClock(network))


def test_work_starting_exactly_at_the_cut_off_misses_that_days_truck():
    router, _, _ = world({("ST1", "A"): 5})
    cutoff = datetime(2024, 3, 5, 21, tzinfo=UTC)  # Tue 16:00 EST, ST1 open
    before = router.route(order(("A", 1)), cutoff - timedelta(seconds=1))
    at = router.route(order(("A", 1)), cutoff)
    assert before.ship_by == (cutoff,)
    assert at.ship_by == (cutoff + timedelta(days=1),)
    # ~10.6 mi is zone 1 (1 day): delivered by the end of the local day after collection
    assert at.est_delivery - before.est_delivery == timedelta(days=1)


def test_the_carrier_collects_at_the_local_cut_off_after_a_daylight_saving_change():
    # Sat 9 Mar 2024 22:00 EST (after the cut-off) at DC1 (always open); clocks go forward
    # Sun 10 Mar 02:00: Sunday's 16:00 cut-off is EDT = 20:00 UTC, not 21:00.
    router, _, _ = world({("DC1", "A"): 5})
    d = router.route(order(("A", 1)), datetime(2024, 3, 10, 3, tzinfo=UTC))
    assert d.locations == ("DC1",)
    assert d.ship_by == (datetime(2024, 3, 10, 20, tzinfo=UTC),)
    # ~53 mi is zone 2 (2 days): end of Tue 12 Mar EDT = Wed 04:00 UTC
    assert d.est_delivery == datetime(2024, 3, 13, 4, tzinfo=UTC)


def test_no_carrier_on_a_day_the_location_is_closed():
    # ST1 closed on Sundays; Sat 9 Mar 2024 17:00 EST is after Saturday's cut-off: the
    # next collection is Monday 11 Mar 16:00 EDT = 20:00 UTC.
    closed_sunday = replace(ST1, hours=OpeningHours((*((9.0, 21.0),) * 6, None)))
    locs = (closed_sunday, *LOCATIONS[1:])
    router, _, _ = world({("ST1", "A"): 5}, locations=locs)
    d = router.route(order(("A", 1)), datetime(2024, 3, 9, 22, tzinfo=UTC))
    assert d.locations == ("ST1",)
    assert d.ship_by == (datetime(2024, 3, 11, 20, tzinfo=UTC),)
    # open every day: Sunday's truck
    router, _, _ = world({("ST1", "A"): 5})
    d = router.route(order(("A", 1)), datetime(2024, 3, 9, 22, tzinfo=UTC))
    assert d.ship_by == (datetime(2024, 3, 10, 20, tzinfo=UTC),)


@pytest.mark.parametrize("zone", [1, 2, 3])
def test_transit_days_follow_the_zone_with_inclusive_upper_bounds(zone):
    net = Network([DC1])
    times = _times(net)
    bound = float(net.zone_bands_miles[zone - 1])
    ts = datetime(2024, 3, 5, 15, tzinfo=UTC).timestamp()  # Tue 10:00 EST: ships 16:00
    ship, _ = times.estimate(0, ts, True, DeliveryMethod.SHIP, 1.0)
    for miles, z in ((bound, zone), (bound + 0.5, zone + 1)):
        _, eta = times.estimate(0, ts, True, DeliveryMethod.SHIP, miles)
        days = int(net.transit_table[z])
        # end of the local (EST) day `days` after the collection day (Tue 5 Mar)
        assert eta == datetime(2024, 3, 6 + days, 5, tzinfo=UTC).timestamp(), (miles, z)
    assert ship == datetime(2024, 3, 5, 21, tzinfo=UTC).timestamp()


def test_pickup_is_ready_the_pick_lead_time_after_the_store_opens():
    settings = RoutingSettings()
    net = Network(list(LOCATIONS))
    times = _times(net)
    night = datetime(2024, 3, 5, 3, tzinfo=UTC).timestamp()  # Mon 22:00 EST, ST1 closed
    opens = datetime(2024, 3, 5, 14, tzinfo=UTC).timestamp()  # Tue 09:00 EST
    ready, promised = times.estimate(0, night, False, DeliveryMethod.BOPIS, 0.0)
    assert ready == promised == opens + settings.bopis_pick_hours * H
    # asked again later in the same closed spell: still the same opening
    again, _ = times.estimate(0, night + 5 * H, False, DeliveryMethod.BOPIS, 0.0)
    assert again == ready
    # the next night's closed spell opens a day later
    nxt, _ = times.estimate(0, night + 24 * H, False, DeliveryMethod.BOPIS, 0.0)
    assert nxt == ready + 24 * H


def test_an_order_routed_just_before_the_cut_off_misses_it_by_the_release_hold():
    # ST1: cut-off 16:00 EST. Routed Tue 15:45 EST; work starts after a 30-minute hold
    # (16:15), so the carrier collects on Wednesday, not Tuesday.
    at = datetime(2024, 3, 5, 20, 45, tzinfo=UTC)
    held = RoutingSettings(release_hold_hours=0.5)
    router, _, _ = world({("ST1", "A"): 5}, settings=held)
    d = router.route(order(("A", 1)), at)
    assert d.locations == ("ST1",)
    assert d.ship_by == (datetime(2024, 3, 6, 21, tzinfo=UTC),)
    no_hold, _, _ = world({("ST1", "A"): 5})
    assert no_hold.route(order(("A", 1)), at).ship_by == (datetime(2024, 3, 5, 21, tzinfo=UTC),)
    # a hold that ends while the store is closed starts work at its next opening
    late = datetime(2024, 3, 6, 1, 45, tzinfo=UTC)  # Tue 20:45 EST, ST1 closes 21:00
    pickup = RoutingSettings(release_hold_hours=0.5)
    times = ShipTimes(Network(list(LOCATIONS)), pickup, LocalClock(Network(list(LOCATIONS))))
    ready, _ = times.estimate(0, late.timestamp(), True, DeliveryMethod.BOPIS, 0.0)
    opens = datetime(2024, 3, 6, 14, tzinfo=UTC).timestamp()  # Wed 09:00 EST
    assert ready == opens + pickup.bopis_pick_hours * H


def test_the_release_hold_must_be_a_number_of_hours_at_least_zero():
    with pytest.raises(ValueError, match="release_hold_hours"):
        RoutingSettings(release_hold_hours=-0.5)


def test_a_pickup_that_would_be_ready_after_closing_is_promised_after_the_next_opening():
    times = _times(Network(list(LOCATIONS)))
    pick = RoutingSettings().bopis_pick_hours * H
    evening = datetime(2024, 3, 6, 1, tzinfo=UTC).timestamp()  # Tue 20:00 EST, closes 21:00
    ready, promised = times.estimate(0, evening, True, DeliveryMethod.BOPIS, 0.0)
    opens = datetime(2024, 3, 6, 14, tzinfo=UTC).timestamp()  # Wed 09:00 EST
    assert ready == promised == opens + pick
    afternoon = evening - 5 * H  # 15:00 EST: ready at 17:00 the same day
    assert times.estimate(0, afternoon, True, DeliveryMethod.BOPIS, 0.0)[0] == afternoon + pick


def test_the_opening_check_of_estimates_agrees_with_the_locations_own():
    # the test locations plus stores in other zones (a half-hour one, closed Sundays),
    # every quarter hour of a week that crosses the March daylight-saving change
    week = OpeningHours((*((8.5, 20.0),) * 6, None))
    extra = [
        replace(ST1, id="IN1", timezone="Asia/Kolkata", hours=week),
        replace(ST1, id="LA1", timezone="America/Los_Angeles", hours=week),
    ]
    net = Network([*LOCATIONS, *extra])
    times = _times(net)
    start = datetime(2024, 3, 7, tzinfo=UTC)
    for k in range(7 * 96):
        at = start + timedelta(minutes=15 * k, seconds=7)
        for row, loc in enumerate(net.locations):
            assert times._is_open(row, at.timestamp()) == loc.is_open(at), (loc.id, at)
