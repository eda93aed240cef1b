"""Random pick and transit times against their stated distributions (moments and ranges).

`PickTimes.draw(mean)` must have mean `mean` whatever the distribution, and coefficient of
variation `cv` for the lognormal. A parcel's transit hours are
``24 * (transit_days[zone] + extra_days) - 10 * U`` (U uniform on [0, 1)) without a delay
spread, so they lie in ``(24 d - 10, 24 d]`` with mean ``24 d - 5``; a carrier delay adds
its days only inside its window and only in its zones.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim.model.carriers import ROUNDS_HOURS, Carriers
from sim.model.disruptions import Disruptions
from sim.model.locations import PickTimes

N = 40_000


@pytest.mark.parametrize(
    ("kind", "cv"), [("exponential", 1.0), ("lognormal", 0.5), ("lognormal", 1.2), ("fixed", 0.0)]
)
def test_pick_times_have_the_asked_mean_and_spread(kind, cv):
    pt = PickTimes(np.random.default_rng(7), kind, cv if kind == "lognormal" else 0.5)
    x = np.array([pt.draw(0.3) for _ in range(N)])
    assert (x > 0).all()
    sem = 0.3 * max(cv, 1e-9) / np.sqrt(N)
    assert abs(x.mean() - 0.3) <= 5 * sem + 1e-12
    assert x.std() / x.mean() == pytest.approx(cv, rel=0.1, abs=1e-9)
    assert pt.scv == pytest.approx(cv * cv)


def _carriers(delays=(), sd=0.0, transit=(0, 1, 2, 3, 4)) -> Carriers:
    scn = SimpleNamespace(
        carriers=SimpleNamespace(delay_sd_days=sd),
        operations=SimpleNamespace(same_day_hours=4.0, courier_hours=2.0),
        disruptions=SimpleNamespace(carrier_delays=list(delays)),
    )
    w = SimpleNamespace(
        env=None, scn=scn, stock=SimpleNamespace(flows=None),
        network=SimpleNamespace(transit_table=np.array(transit)),
        streams={"transit": np.random.default_rng(11)}, demand=range(N),
    )  # fmt: skip
    w.disruptions = Disruptions(w, {})
    return Carriers(w)


@pytest.mark.parametrize("zone", [1, 2, 4])
def test_transit_hours_without_spread_lie_in_the_last_rounds_of_the_transit_day(zone):
    c = _carriers()
    days = c.transit[zone]
    x = np.array([c.transit_hours(zone, 10.0) for _ in range(N)])
    assert (x > 24 * days - ROUNDS_HOURS).all() and (x <= 24 * days).all()
    assert x.mean() == pytest.approx(24 * days - ROUNDS_HOURS / 2, abs=0.1)


def test_a_carrier_delay_adds_its_days_only_in_its_window_and_zones():
    delay = SimpleNamespace(start_day=2, days=3, extra_days=1.5, zones=[2, 3])
    c = _carriers([delay])
    # window: sim hours [48, 120)
    for t, zone, extra in [(47.9, 2, 0.0), (48.0, 2, 1.5), (119.9, 3, 1.5), (120.0, 2, 0.0),
                           (60.0, 1, 0.0), (60.0, 4, 0.0)]:  # fmt: skip
        assert c.w.disruptions.extra_days(t, zone) == extra, (t, zone)
        x = c.transit_hours(zone, t)
        d = c.transit[zone] + extra
        assert 24 * d - ROUNDS_HOURS < x <= 24 * d, (t, zone)
    # two overlapping delays add up
    both = _carriers([delay, SimpleNamespace(start_day=0, days=10, extra_days=1.0, zones=None)])
    assert both.w.disruptions.extra_days(60.0, 2) == 2.5
    assert both.w.disruptions.extra_days(60.0, 1) == 1.0


def test_transit_spread_has_the_asked_standard_deviation():
    c = _carriers(sd=0.5)
    x = np.array([c.transit_hours(3, 0.0) for _ in range(N)])
    # 24 * (d + 0.5 Z) - 10 U: mean 24 d - 5, variance (12)^2 + 10^2 / 12 (clipping is
    # negligible at d = 3)
    assert x.mean() == pytest.approx(24 * 3 - 5, abs=0.3)
    assert x.std() == pytest.approx(np.sqrt(144 + 100 / 12), rel=0.03)


@pytest.mark.parametrize(("kind", "cv"), [("exponential", 1.0), ("lognormal", 0.5)])
def test_an_orders_own_pick_draw_has_the_asked_mean_and_ignores_other_draws(kind, cv):
    """Each order's first package has its own draw: the same whatever was drawn from the
    stream before (as under another policy), with the distribution's mean and spread."""
    one = PickTimes(np.random.default_rng(7), kind, cv, orders=N)
    other = PickTimes(np.random.default_rng(7), kind, cv, orders=N)
    for _ in range(1000):  # another policy: splits and re-routes drew from the stream
        other.draw(0.3)
    x = np.array([one.draw(0.3, i) for i in range(N)])
    assert np.array_equal(x, [other.draw(0.3, i) for i in range(N)])
    assert abs(x.mean() - 0.3) <= 5 * 0.3 * cv / np.sqrt(N)
    assert x.std() / x.mean() == pytest.approx(cv, rel=0.1)
    stream = np.array([one.draw(0.3) for _ in range(N)])  # the stream's own draws differ
    assert not np.array_equal(stream, x)


def test_an_orders_own_transit_draw_has_the_asked_spread_and_ignores_other_draws():
    one, other = _carriers(sd=0.5), _carriers(sd=0.5)
    for _ in range(1000):
        other.transit_hours(2, 10.0)
    x = np.array([one.transit_hours(2, 10.0, i) for i in range(N)])
    assert np.array_equal(x, [other.transit_hours(2, 10.0, i) for i in range(N)])
    # T = 24 (d + sd Z) - 10 U: mean 24 d - 5, sd sqrt((24 sd)^2 + 100 / 12) (clipping at
    # 2 h is negligible for d = 2)
    d = one.transit[2]
    assert x.mean() == pytest.approx(24 * d - 5, abs=5 * 12.1 / np.sqrt(N))
    assert x.std() == pytest.approx(np.sqrt(144 + 100 / 12), rel=0.03)


def test_a_package_leaving_alike_under_two_policies_travels_alike():
    """Common random numbers: an order's first package, handed to the carrier at the same
    location and hour under `closest` and under `cost`, takes the same transit time."""
    from sim import run

    a = run("default", "closest", 7, days=3).shipments
    b = run("default", "cost", 7, days=3).shipments
    both = a.merge(b, on=["order_id", "package"], suffixes=("_a", "_b"))
    alike = both[
        (both["package"] == 0)
        & (both["location_a"] == both["location_b"])
        & (both["shipped_h_a"] == both["shipped_h_b"])
        & (both["method_a"] == "ship")
    ]
    assert len(alike) > 1000
    transit_a = alike["delivered_h_a"] - alike["shipped_h_a"]
    transit_b = alike["delivered_h_b"] - alike["shipped_h_b"]
    assert np.allclose(transit_a, transit_b, rtol=0, atol=1e-9)
