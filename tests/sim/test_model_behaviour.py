"""Behaviour of the model read from the result tables of small, controlled runs.

Each test builds a scaled-down variant of the default scenario with dotted-path overrides
(a handful of stores and SKUs, a few hundred orders a day, 4-5 days) so that the whole file
runs in a few seconds. Every check compares the tables with a rule computed independently
here (local calendars from `zoneinfo`, Poisson moments, a hand integral of stock levels) and
states its tolerance:

1. store picks start only within the store's local opening hours;
2. ship-from-store assignments per store and local day never exceed ``daily_order_limit``;
3. carrier parcels leave at the local pickup hour of the first cut-off they made;
4. a long POS sync delay causes oversells; with no delay, no record inaccuracy and no
   walk-in sales nothing is ever rejected;
5. a carrier delay of +N days adds N days to click-to-door, paired on the same seed;
6. peak days carry ``multiplier`` times the orders of normal days (Poisson tolerance);
7. the inventory table's time-weighted mean on-hand equals a hand integral.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from sim import run
from sim.model import oms
from sim.model.world import World
from sim.scenario import geography
from sim.scenario.build import build_network, sites
from sim.scenario.loader import load_scenario

# A small world: 4 DCs (3 time zones), 4 stores (NY, LA, Chicago, Houston), 40 SKUs, web
# orders only, light walk-in traffic.
BASE: dict[str, object] = {
    "network.stores.count": 4,
    "catalogue.skus": 40,
    "demand.regions": 40,
    "demand.channels.web.orders_per_day": 200.0,
    "demand.channels.app.orders_per_day": 0.0,
    "demand.channels.marketplace.orders_per_day": 0.0,
    "demand.channels.social.orders_per_day": 0.0,
    "demand.channels.wholesale.orders_per_day": 0.0,
    "demand.channels.pos.sales_per_store_per_day": 30.0,
}
SEED = 1
TIME_EPS_H = 1e-6
"""Tolerance on times [h]: sim times are float hours and `Clock` rounds to microseconds
(2.8e-10 h), so 1e-6 h (3.6 ms) separates rounding from any modelled offset (>= minutes)."""


def scenario(**overrides: object):
    """The small default-based scenario with `overrides` on top of `BASE`."""
    return load_scenario("default", overrides={**BASE, **overrides})


def locations(scn) -> dict:
    """Location id -> engine `Location` of the scenario's built network."""
    return {x.id: x for x in build_network(scn, sites(scn)).locations}


def origin(scn) -> datetime:
    """Sim time 0: the start date at 00:00 UTC."""
    return datetime(scn.start.year, scn.start.month, scn.start.day, tzinfo=UTC)


def to_local(scn, tz: str, t_h: float) -> datetime:
    """Local wall-clock datetime of sim time `t_h` in time zone `tz`."""
    return (origin(scn) + timedelta(hours=float(t_h))).astimezone(ZoneInfo(tz))


def hour_of(local: datetime) -> float:
    """Wall-clock hour of the day. [h]"""
    return local.hour + local.minute / 60 + (local.second + local.microsecond * 1e-6) / 3600


def sim_time(scn, tz: str, day: date, hour: float) -> float:
    """Sim time of local `hour` on local date `day` in `tz`. [h]"""
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)) + timedelta(hours=hour)
    return (local.astimezone(UTC) - origin(scn)).total_seconds() / 3600.0


# --------------------------------------------------------------------------- operations

OPEN_H, CLOSE_H, CLOSED_WEEKDAY = 10.0, 18.0, 1  # stores open 10-18, closed on Tuesdays
PICK_MIN, PACK_MIN = 60.0, 6.0
PICK_H = (PICK_MIN + PACK_MIN) / 60.0
"""Pick time of every store package: fixed pick times and one-line baskets make it
exactly ``pick_minutes * 1 + pack_minutes``, so a pick's start is ``picked_h - PICK_H``."""
DAILY_LIMIT = 8
CUTOFF_H, PICKUP_H = 15.0, 17.0


@pytest.fixture(scope="module")
def ops():
    """Busy stores (one picker, 66-minute picks) with short hours, a closed weekday, a
    tight daily order limit and a cut-off two hours before the carrier pickup. Orders are
    released the moment they are routed (no hold, no customer-service edits), so a
    package's ``released_h`` is the time it was assigned to its location."""
    scn = scenario(
        **{
            "network.store_defaults.hours": {
                "open": OPEN_H,
                "close": CLOSE_H,
                "closed_weekdays": [CLOSED_WEEKDAY],
            },
            "network.store_defaults.staff": 1,
            "network.store_defaults.pick_minutes": PICK_MIN,
            "network.store_defaults.pack_minutes": PACK_MIN,
            "network.store_defaults.daily_order_limit": DAILY_LIMIT,
            "operations.pick_time": "fixed",
            "operations.release_hold_minutes": 0.0,
            "demand.channels.web.orders_per_day": 400.0,
            "demand.channels.web.basket.mean_lines": 1.0,
            "demand.channels.web.basket.max_lines": 1,
            "customer_service.edit_share": 0.0,
            "customer_service.cancel_share": 0.0,
            "carriers.cutoff_hour": CUTOFF_H,
            "carriers.pickup_hour": PICKUP_H,
        }
    )
    return scn, locations(scn), run(scn, seed=SEED, days=4)


def test_store_picks_start_only_within_local_opening_hours(ops) -> None:
    scn, locs, r = ops
    picks = r.shipments[(r.shipments["location_kind"] == "store") & r.shipments["picked_h"].notna()]
    assert len(picks) > 100
    at_open = near_close = 0
    for loc, done in zip(picks["location"], picks["picked_h"], strict=True):
        tz = locs[loc].timezone
        start = to_local(scn, tz, done - PICK_H)
        assert start.weekday() != CLOSED_WEEKDAY, (loc, done)
        h = hour_of(start)
        # opening hours are the half-open interval [open, close)
        assert OPEN_H - TIME_EPS_H <= h < CLOSE_H, (loc, done, h)
        # A pick started before closing is finished, so completion may run past closing by
        # less than one pick time, never later (no work overnight or on the closed day).
        close = sim_time(scn, tz, start.date(), CLOSE_H)
        assert done < close + PICK_H + TIME_EPS_H, (loc, done)
        at_open += abs(h - OPEN_H) <= TIME_EPS_H
        near_close += h > CLOSE_H - PICK_H
    # the rule is exercised at both ends: overnight queues start at opening, and the
    # queue still runs when the store closes
    assert at_open > 0 and near_close > 0


def test_ship_from_store_assignments_respect_the_daily_order_limit(ops) -> None:
    scn, locs, r = ops
    s = r.shipments
    # precondition: packages of never-rejected orders are released when they are routed,
    # at the end of the routing tick they arrived in, so released_h is the assignment time
    # the engine counts against the limit
    rejected = set(r.events.loc[r.events["kind"] == "reject", "order_id"])
    created = r.orders.set_index("order_id")["created_h"]
    first = s[~s["order_id"].isin(rejected)]
    lag = first["released_h"].to_numpy() - created.loc[first["order_id"]].to_numpy()
    tick_h = scn.operations.routing_tick_seconds / 3600.0
    assert ((lag >= 0.0) & (lag <= tick_h + 1e-9)).all()

    # every package assigned to a store for delivery (rejected ones included: they used a
    # slot too); BOPIS pickups at the store are not capped
    ship = s[(s["location_kind"] == "store") & (s["method"] != "bopis")]
    day = [
        to_local(scn, locs[loc].timezone, t).date()
        for loc, t in zip(ship["location"], ship["released_h"], strict=True)
    ]
    per_day = ship.assign(day=day).groupby(["location", "day"], observed=True).size()
    assert per_day.max() <= DAILY_LIMIT, per_day[per_day > DAILY_LIMIT]
    # and the limit binds: several store-days are full
    assert (per_day == DAILY_LIMIT).sum() >= 4


def test_carrier_parcels_leave_at_the_pickup_of_the_first_cutoff_they_made(ops) -> None:
    scn, locs, r = ops
    s = r.shipments
    same_day = s[(s["method"] == "same_day") & s["picked_h"].notna()]
    assert (same_day["shipped_h"] == same_day["picked_h"]).all()  # couriers leave at once
    ship = s[(s["method"] == "ship") & s["picked_h"].notna()]
    assert ship["shipped_h"].notna().all()  # every packed parcel was collected
    parcels = pd.concat([ship, s[(s["method"] == "bopis") & s["shipped_h"].notna()]])
    kinds = set(parcels["location_kind"])
    assert {"store", "warehouse"} <= kinds
    missed = 0
    for loc, picked, shipped in zip(
        parcels["location"], parcels["picked_h"], parcels["shipped_h"], strict=True
    ):
        x = locs[loc]
        tz = x.timezone
        local = to_local(scn, tz, shipped)
        assert abs(hour_of(local) - PICKUP_H) <= TIME_EPS_H, (loc, shipped)
        assert x.hours.days[local.weekday()] is not None, (loc, shipped)  # open that day
        assert shipped >= picked
        # it made this day's cut-off ...
        assert picked <= sim_time(scn, tz, local.date(), CUTOFF_H) + TIME_EPS_H
        # ... and missed the cut-off of the previous day the location was open
        prev = local.date() - timedelta(days=1)
        while x.hours.days[prev.weekday()] is None:
            prev -= timedelta(days=1)
        assert picked > sim_time(scn, tz, prev, CUTOFF_H) - TIME_EPS_H, (loc, picked)
        missed += hour_of(to_local(scn, tz, picked)) > CUTOFF_H
    assert missed > 0  # some parcels were packed after the cut-off and waited a day


# --------------------------------------------------------------------------- POS sync

# Thin store stock, no buffers, busy walk-in traffic: stores are routed online orders while
# walk-ins empty their shelves, so the ledger's lag behind the shelf matters.
POS_STRESS: dict[str, object] = {
    "inventory.record_inaccuracy.share": 0.0,
    "inventory.initial_days_of_cover.store": 3.0,
    "inventory.safety_stock_days": 0.0,
    "network.store_defaults.online_threshold": 0,
    "catalogue.skus": 10,
    "demand.channels.pos.sales_per_store_per_day": 120.0,
    "demand.channels.web.orders_per_day": 300.0,
}


# The same on the default network, with a half-day sync delay: many rejections.
REJECT_STRESS = {**POS_STRESS, "inventory.pos_sync_delay_minutes": 720.0}


def test_the_count_after_a_rejection_includes_the_unsynced_walk_in_sales():
    """A rejected pick's cycle count puts the ledger at what it will be once the walk-in sales
    not yet synced reach it: ``ledger on-hand = shelf + unsynced POS units`` right after the
    count, so that the pending POS sync then brings the ledger exactly to the shelf (and the
    rejected units are not subtracted twice)."""
    checks: list[tuple[int, int, int]] = []  # (ledger, shelf, unsynced POS) after a count
    reject = oms.Oms._reject

    def spy(self, pkg, short, t):
        reject(self, pkg, short, t)
        w = self.w
        for s, _, _ in short:
            checks.append(
                (int(self.ledger.on_hand[pkg.row, s]), int(w.stock.on_hand[pkg.row, s]),
                 int(w.pending_pos[pkg.row, s]))
            )  # fmt: skip

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(oms.Oms, "_reject", spy)
        w = World.build(load_scenario("default", overrides=REJECT_STRESS), "closest", 1, 0, 2)
        w.run()
    assert len(checks) > 10
    assert any(p > 0 for _, _, p in checks)  # some counts happen with sales still unsynced
    assert all(ledger == shelf + pending for ledger, shelf, pending in checks)


def test_rejected_units_are_never_rerouted_to_a_location_that_rejected_the_order():
    r = run(load_scenario("default", overrides=REJECT_STRESS), "closest", seed=1, days=2)
    s = r.shipments[["order_id", "location", "status", "released_h"]].astype(
        {"order_id": str, "location": str, "status": str}
    )
    rejected = s[s["status"] == "rejected"]
    assert len(rejected) > 10
    first_reject = rejected.groupby(["order_id", "location"])["released_h"].min()
    later = s.join(first_reject.rename("rejected_h"), on=["order_id", "location"], how="inner")
    # after a location rejected an order, no package of that order is sent there again
    assert (later["released_h"] <= later["rejected_h"]).all()


def _rejections(r) -> pd.DataFrame:
    return r.events[r.events["kind"] == "reject"]


def test_pos_sync_delay_causes_oversells_on_the_same_demand() -> None:
    prompt, late = [], []
    for seed in (1, 2):
        a = run(scenario(**POS_STRESS, **{"inventory.pos_sync_delay_minutes": 0.0}), seed=seed,
                days=4)  # fmt: skip
        b = run(scenario(**POS_STRESS, **{"inventory.pos_sync_delay_minutes": 720.0}),
                seed=seed, days=4)  # fmt: skip
        # paired: the same customers place the same orders in both runs
        pd.testing.assert_series_equal(a.orders["created_h"], b.orders["created_h"])
        prompt.append(len(_rejections(a)))
        late.append(len(_rejections(b)))
        # with no delay the ledger matches the shelves, except where a walk-in took a unit
        # already reserved for an online order (it is still on the shelf until picked):
        # only stores, which have walk-ins, can ever reject
        kinds = a.utilisation.set_index("location").loc[_rejections(a)["location"], "kind"]
        assert (kinds == "store").all()
    # Observed about 5 rejections per run with no delay against 130-175 with a 12-hour
    # delay. The thresholds are a floor far below that effect (4x and +50 over two paired
    # seeds) so that the claim "delay causes oversells" does not hinge on the exact counts.
    assert sum(late) >= 4 * sum(prompt) and sum(late) >= sum(prompt) + 50, (prompt, late)


def test_no_rejections_without_sync_delay_record_errors_or_walk_ins() -> None:
    """Invariant: when the ledger always equals the shelf (POS synced at once, records
    exact, no walk-in can take a reserved unit), a pick is never short."""
    for seed in (1, 2):
        scn = scenario(
            **{
                **POS_STRESS,
                "inventory.pos_sync_delay_minutes": 0.0,
                "demand.channels.pos.sales_per_store_per_day": 0.0,
            }
        )
        r = run(scn, seed=seed, days=4)
        assert (r.shipments["location_kind"] == "store").sum() > 100  # stores do pick
        assert len(_rejections(r)) == 0
        assert r.orders["units_oversold"].sum() == 0
        assert (r.shipments["status"] != "rejected").all()


# --------------------------------------------------------------------------- carriers

EXTRA_DAYS = 2.0
DELAY_START_DAY, DELAY_DAYS = 1.0, 1.0


def test_carrier_delay_adds_its_days_to_click_to_door() -> None:
    # No returns and no BOPIS, so delivery times feed back into nothing (restocks,
    # pickups) and both runs pick and ship exactly the same packages in the same order.
    over = {
        "catalogue.return_rate": 0.0,
        "demand.channels.web.methods": {"ship": 1.0},
    }
    delay = {
        "disruptions.carrier_delays": [
            {"start_day": DELAY_START_DAY, "days": DELAY_DAYS, "extra_days": EXTRA_DAYS}
        ]
    }
    base = run(scenario(**over), seed=SEED, days=4)
    late = run(scenario(**over, **delay), seed=SEED, days=4)
    key = ["order_id", "package"]
    a = base.shipments.dropna(subset=["delivered_h"])
    b = late.shipments.dropna(subset=["delivered_h"])
    pair = a.merge(b, on=key, suffixes=("", "_late"), validate="one_to_one")
    assert len(pair) == len(a) == len(b)
    assert (pair["location"] == pair["location_late"]).all()
    assert np.array_equal(pair["shipped_h"], pair["shipped_h_late"])
    created = base.orders.set_index("order_id")["created_h"]
    c2d = pair["delivered_h"] - created.loc[pair["order_id"]].to_numpy()
    c2d_late = pair["delivered_h_late"] - created.loc[pair["order_id"]].to_numpy()
    diff_days = (c2d_late - c2d) / 24.0
    start, end = 24.0 * DELAY_START_DAY, 24.0 * (DELAY_START_DAY + DELAY_DAYS)
    inside = (pair["shipped_h"] >= start) & (pair["shipped_h"] < end)
    assert inside.sum() >= 30 and (~inside & pair["method"].eq("ship")).sum() >= 30
    # Outside the window nothing changes (common random numbers: the same transit draws).
    assert np.abs(diff_days[~inside]).max() <= TIME_EPS_H / 24.0
    # Inside it, each parcel's transit gains EXTRA_DAYS exactly, unless its undelayed
    # transit had hit the 2-hour floor (a 3-sigma-low draw on a 1-day zone, ~0.1% of
    # parcels), which can only shrink the gap. Tolerance on the mean: 2% of EXTRA_DAYS.
    assert np.median(diff_days[inside]) == pytest.approx(EXTRA_DAYS, abs=TIME_EPS_H)
    assert diff_days[inside].mean() == pytest.approx(EXTRA_DAYS, abs=0.02 * EXTRA_DAYS)
    assert diff_days[inside].max() <= EXTRA_DAYS + TIME_EPS_H


# --------------------------------------------------------------------------- peaks

PEAK_MULT, RATE = 3.0, 200.0


def test_peak_days_multiply_the_daily_order_count() -> None:
    days = 5
    scn0 = scenario()
    peak_start = scn0.start + timedelta(days=2)
    scn = scenario(
        **{
            "demand.channels.web.orders_per_day": RATE,
            "demand.channels.pos.sales_per_store_per_day": 0.0,
            "demand.day_profile": [1.0] * 7,
            "demand.peaks": [{"start": peak_start, "days": 2, "multiplier": PEAK_MULT}],
        }
    )
    r = run(scn, seed=SEED, days=days)
    # Peaks and profiles follow the customer's local date: place each order there.
    tz = {c.label: c.timezone for c in geography.top_cities(scn.demand.regions)}
    local_day = [
        (to_local(scn, tz[reg], t).date() - scn.start).days
        for reg, t in zip(r.orders["region"], r.orders["created_h"], strict=True)
    ]
    counts = pd.Series(local_day).value_counts()
    # Local days 0..days-2 lie fully inside the horizon in every US time zone (local
    # midnight is 4-10 h after UTC midnight); each carries RATE (* PEAK_MULT) expected
    # orders, Poisson. Tolerance: 4 standard deviations, sqrt(mean).
    full = range(days - 1)
    peak = {2, 3}
    for d in full:
        mean = RATE * (PEAK_MULT if d in peak else 1.0)
        assert abs(counts.get(d, 0) - mean) <= 4 * math.sqrt(mean), (d, counts.get(d, 0), mean)
    n_peak = sum(counts.get(d, 0) for d in full if d in peak)
    n_norm = sum(counts.get(d, 0) for d in full if d not in peak)
    k_peak, k_norm = len(peak), len(full) - len(peak)
    ratio = (n_peak / k_peak) / (n_norm / k_norm)
    # delta method: var(log ratio) = 1/E[n_peak] + 1/E[n_norm] for Poisson totals
    sd = PEAK_MULT * math.sqrt(1 / (PEAK_MULT * RATE * k_peak) + 1 / (RATE * k_norm))
    assert ratio == pytest.approx(PEAK_MULT, abs=4 * sd)


# --------------------------------------------------------------------------- inventory


def test_time_weighted_on_hand_equals_a_hand_integral() -> None:
    """One DC, no stores, no returns, no receipts within the horizon: its shelf level only
    falls, by each package's units at its pick time, so the time-weighted mean is a sum of
    rectangles we can compute from the shipments table."""
    scn = scenario(
        **{
            "network.warehouses": [{"id": "DC-EAST", "city": "Allentown, PA"}],
            "network.stores.count": 0,
            "catalogue.return_rate": 0.0,
        }
    )
    r = run(scn, seed=SEED, days=4)
    c = r.conservation
    assert c["received"] == 0 and c["returned"] == 0 and c["sold"] == 0  # controlled case
    inv = r.inventory[r.inventory["location"] == "DC-EAST"]
    whole = inv[inv["day"].isna()].iloc[0]
    daily = inv[inv["day"].notna()].sort_values("day")
    picks = r.shipments.dropna(subset=["picked_h"])
    assert (picks["location"] == "DC-EAST").all() and len(picks) > 300
    t = picks["picked_h"].to_numpy()
    u = picks["units"].to_numpy(dtype=np.float64)
    level0 = float(c["initial"])
    end = float(whole["hours"])
    # Mean of a piecewise-constant level: L0 - sum(u_i * (T - t_i)) / T. Both sides add the
    # same rectangles in a different order; with ~1e6 unit-hours and ~1e3 terms float
    # rounding is below 1e-12 relative, so rel=1e-9 is tight yet safe.
    hand = level0 - float(np.sum(u * (end - t))) / end
    assert whole["mean_on_hand"] == pytest.approx(hand, rel=1e-9)
    assert whole["max_on_hand"] == level0
    assert whole["min_on_hand"] == whole["end_on_hand"] == level0 - u.sum()
    assert whole["end_on_hand"] == whole["ledger_on_hand"]  # no record errors at a DC
    # each day: [24 d, 24 d + hours), the last one cut at the end of the run
    lo = 0.0
    for day, hours, mean in zip(daily["day"], daily["hours"], daily["mean_on_hand"], strict=True):
        assert lo == pytest.approx(24.0 * day)
        hi = lo + hours
        before = level0 - u[t <= lo].sum()
        inside = (t > lo) & (t <= hi)
        expect = before - float(np.sum(u[inside] * (hi - t[inside]))) / hours
        assert mean == pytest.approx(expect, rel=1e-9), day
        lo = hi
    assert lo == pytest.approx(end)
    # and the whole-run mean is the hours-weighted mean of the daily ones
    weighted = float(np.sum(daily["mean_on_hand"] * daily["hours"]) / daily["hours"].sum())
    assert weighted == pytest.approx(whole["mean_on_hand"], rel=1e-9)


@pytest.mark.parametrize("minutes", [0.0, 15.0, 20.0, 40.0, 1000.0 / 3])
def test_pos_syncs_land_exactly_one_delay_after_the_sales(minutes) -> None:
    """In a real run every batch of walk-in sales reaches the ledger exactly the configured
    delay after the tick that took it off the shelf (not at the next 15-minute tick)."""
    from sim.model.pos import PointOfSale
    from sim.model.world import World

    lags: list[float] = []
    sync = PointOfSale._sync

    def spy(self, now):
        lags.extend(now - (due - self.delay_h) for due, *_ in self._pending if due <= now + 1e-9)
        return sync(self, now)

    scn = load_scenario("default", {"inventory.pos_sync_delay_minutes": minutes})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(PointOfSale, "_sync", spy)
        World.build(scn, "closest", 3, 0, 1).run()
    assert len(lags) > 50
    assert np.allclose(lags, minutes / 60.0, atol=1e-9)


def test_requested_method_keeps_pickup_wishes_nobody_can_serve():
    """With no stores, a pickup wish ships instead: the order's `method` says ship,
    `requested_method` keeps the wish and each switch is a `method_fallback` event."""
    wishes = {"ship": 0.6, "bopis": 0.4, "same_day": 0.0}
    scn = scenario(**{"network.stores.count": 0, "demand.channels.web.methods": wishes})
    r = run(scn, "closest", SEED, days=2)
    o = r.orders
    assert set(o["method"].astype(str)) == {"ship"}
    requested = o["requested_method"].astype(str).value_counts(normalize=True)
    for method, share in list(wishes.items())[:2]:  # drawn shares: binomial, n ~ 400
        assert requested[method] == pytest.approx(share, abs=4 * math.sqrt(share / len(o)))
    fallbacks = r.events[r.events["kind"] == "method_fallback"]
    switched = o[o["requested_method"].astype(str) != "ship"]
    assert sorted(fallbacks["order_id"]) == sorted(switched["order_id"])
    assert (fallbacks["detail"] == "ship").all()


def test_same_day_couriers_take_their_trip_and_keep_the_promise():
    """A courier takes U[50%, 100%] of `courier_hours` from packing to the door; the
    promise (`same_day_hours` from routing) covers hold, pick and courier, so in a quiet
    world nearly every same-day order is on time (before: the courier alone drew up to the
    whole promise after the pick, and about half were late)."""
    scn = scenario(**{"demand.channels.web.methods": {"ship": 0.5, "bopis": 0.0, "same_day": 0.5}})
    ops = scn.operations
    assert ops.courier_hours < ops.same_day_hours
    r = run(scn, "closest", SEED, days=3)
    sd = r.shipments[r.shipments["method"].astype(str) == "same_day"]
    assert len(sd) > 100
    trip = (sd["delivered_h"] - sd["shipped_h"]).to_numpy()
    assert trip.min() >= 0.5 * ops.courier_hours - TIME_EPS_H
    assert trip.max() <= ops.courier_hours + TIME_EPS_H
    assert trip.mean() == pytest.approx(0.75 * ops.courier_hours, rel=0.05)  # U mean, n > 100
    o = r.orders[(r.orders["method"].astype(str) == "same_day") & r.orders["delivered_h"].notna()]
    on_time = (o["delivered_h"] <= o["promised_h"] + TIME_EPS_H).mean()
    assert on_time >= 0.9
