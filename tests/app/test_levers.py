"""Tests of `sim.levers`: every lever writes valid scenario overrides and reads them back."""

from __future__ import annotations

import math

import pytest

from sim import levers as lv
from sim.scenario import apply_overrides, load_scenario

PEAK = {"start": "2026-11-27", "days": 4, "multiplier": 3.0}

# A value different from the default scenario's for every lever.
CHANGED = {
    "days": 5,
    "online": 8000,
    "peak": 2.5,
    "bopis": 30.0,
    "returns": 20.0,
    "sfs": False,
    "sfs_limit": 10,
    "hours": (8.0, 21.5),
    "threshold": 5,
    "safety": 2.5,
    "sync": 7.5,
    "outage": "DC-EAST",
    "outage_start": 1,
    "outage_days": 2,
}


@pytest.fixture
def data() -> dict:
    return load_scenario({"name": "t", "demand": {"peaks": [PEAK]}}).resolved()


def _edited(data: dict, values: dict) -> dict:
    overrides = lv.levers_to_overrides(data, values)
    return load_scenario(apply_overrides(data, overrides)).resolved()


def test_every_lever_has_unit_range_and_help() -> None:
    keys = [x.key for x in lv.LEVERS]
    assert len(keys) == len(set(keys))
    assert set(CHANGED) == set(keys)
    for lever in lv.LEVERS:
        assert lever.help
        if lever.kind in ("int", "float", "range"):
            assert lever.unit and lever.lo is not None and lever.hi is not None and lever.step


def test_the_bopis_help_says_every_online_channel_gets_the_same_share() -> None:
    base = load_scenario("default").resolved()
    changed = lv.levers_to_overrides(base, {"bopis": 30.0})
    shares = {path: methods["bopis"] for path, methods in changed.items()}
    assert len(shares) == 4 and set(shares.values()) == {0.3}  # what the help says
    assert "every online channel (web, app, marketplace, social) this same pickup share" in (
        lv.lever("bopis").help
    )


def test_the_bopis_lever_changes_only_channels_with_another_share() -> None:
    """0% pickup leaves marketplace and social (no pickup already) untouched, so the page's
    count of changed fields is the count of channels really changed."""
    base = load_scenario("default").resolved()
    changed = lv.levers_to_overrides(base, {"bopis": 0.0})
    assert sorted(changed) == ["demand.channels.app.methods", "demand.channels.web.methods"]
    assert {m["bopis"] for m in changed.values()} == {0.0}


def test_defaults_give_no_overrides(data: dict) -> None:
    assert lv.levers_to_overrides(data, lv.lever_defaults(data)) == {}


def test_changed_levers_read_back(data: dict) -> None:
    edited = _edited(data, CHANGED)
    back = lv.lever_defaults(edited)
    for key, value in CHANGED.items():
        if key.startswith("outage"):
            continue
        assert back[key] == pytest.approx(value), key
    assert edited["disruptions"]["outages"] == [
        {"location": "DC-EAST", "start_day": 1.0, "days": 2.0}
    ]
    assert edited["network"]["store_defaults"]["daily_order_limit"] == 10


def test_online_volume_keeps_channel_split(data: dict) -> None:
    before = {c: data["demand"]["channels"][c]["orders_per_day"] for c in lv.ONLINE_CHANNELS}
    edited = _edited(data, {"online": 2 * sum(before.values())})
    for channel, rate in before.items():
        assert edited["demand"]["channels"][channel]["orders_per_day"] == pytest.approx(2 * rate)


def test_bopis_share_keeps_methods_summing_to_one(data: dict) -> None:
    edited = _edited(data, {"bopis": 40})
    for channel in lv.ONLINE_CHANNELS:
        methods = edited["demand"]["channels"][channel]["methods"]
        assert methods["bopis"] == pytest.approx(0.4)
        assert math.isclose(sum(methods.values()), 1.0, abs_tol=1e-6)


def test_short_horizon_shortens_warmup(data: dict) -> None:
    edited = _edited(data, {"days": 2})
    assert edited["horizon_days"] == 2
    assert edited["warmup_days"] < 2


def test_an_empty_limit_means_no_limit_and_zero_means_none(data: dict) -> None:
    limited = _edited(data, {"sfs_limit": 60})
    assert lv.lever_defaults(limited)["sfs_limit"] == 60
    unlimited = _edited(limited, {"sfs_limit": None})  # the app's empty box
    assert unlimited["network"]["store_defaults"]["daily_order_limit"] is None
    assert lv.lever_defaults(unlimited)["sfs_limit"] == lv.NO_LIMIT
    closed = _edited(unlimited, {"sfs_limit": 0})  # as the engine reads it: no orders at all
    assert closed["network"]["store_defaults"]["daily_order_limit"] == 0
    assert lv.lever_defaults(closed)["sfs_limit"] == 0


def test_scenario_values_outside_a_levers_range_are_kept_as_they_are() -> None:
    data = load_scenario(
        {
            "name": "wide",
            "horizon_days": 200,
            "inventory": {"pos_sync_delay_minutes": 2000},
            "catalogue": {"return_rate": 0.95},
            "network": {"store_defaults": {"hours": {"open": 8.5, "close": 20.5}}},
        }
    ).resolved()
    shown = lv.lever_defaults(data)
    assert shown["days"] == 200 and shown["sync"] == 2000.0 and shown["returns"] == 95.0
    assert shown["hours"] == (8.5, 20.5)
    assert lv.levers_to_overrides(data, shown) == {}  # untouched: the scenario as it is


def test_hours_must_close_after_they_open(data: dict) -> None:
    for hours in ((10, 10), (21, 9)):
        with pytest.raises(ValueError, match="Store opening hours: closing .* after opening"):
            lv.levers_to_overrides(data, {"hours": hours})


def test_store_levers_do_not_apply_without_stores() -> None:
    data = load_scenario({"name": "no stores", "network": {"stores": []}}).resolved()
    shown = lv.lever_defaults(data)
    store_levers = ("sfs", "sfs_limit", "hours", "threshold", "bopis")
    assert [k for k in store_levers if shown[k] is not None] == []
    assert lv.levers_to_overrides(data, {"threshold": 9, "hours": (7, 23)}) == {}


def test_lever_without_target_reads_none() -> None:
    data = load_scenario({"name": "no-peaks"}).resolved()
    assert lv.lever_defaults(data)["peak"] is None
    assert lv.levers_to_overrides(data, {"peak": 4.0}) == {}


def test_explicit_stores_get_store_levers() -> None:
    store = {
        "id": "S1",
        "city": "Columbus, OH",
        "online_threshold": 4,
        "hours": {"open": 10, "close": 18},
    }
    data = load_scenario({"name": "x", "network": {"stores": [store]}}).resolved()
    assert lv.lever_defaults(data)["threshold"] == 4  # what the stores have, not the defaults'
    assert lv.lever_defaults(data)["hours"] == (10.0, 18.0)
    edited = _edited(data, {"threshold": 7, "hours": (7, 23)})
    assert edited["network"]["stores"][0]["online_threshold"] == 7
    assert edited["network"]["stores"][0]["hours"]["open"] == 7
    assert edited["network"]["store_defaults"]["online_threshold"] == 7


def test_location_ids_include_generated_stores(data: dict) -> None:
    ids = lv.location_ids(data)
    assert ids[:3] == ["DC-EAST", "DC-CENTRAL", "DC-WEST"]
    assert "STORE-01" in ids


def test_store_levers_show_what_most_stores_have() -> None:
    stores = [
        {"id": f"S{i}", "city": city, "daily_order_limit": limit}
        for i, (city, limit) in enumerate(
            [("Columbus, OH", 500), ("Austin, TX", 500), ("Boston, MA", None)]
        )
    ]
    data = load_scenario({"name": "x", "network": {"stores": stores}}).resolved()
    assert lv.lever_defaults(data)["sfs_limit"] == 500  # two stores of three; defaults say 60
    edited = _edited(data, {"sfs_limit": 80})
    assert [s.get("daily_order_limit") for s in edited["network"]["stores"]] == [80, 80, None]
    assert edited["network"]["store_defaults"]["daily_order_limit"] == 80


def _edited(data: dict, values: dict) -> dict:
    return load_scenario(apply_overrides(data, lv.levers_to_overrides(data, values))).resolved()


def test_the_horizon_lever_shortens_the_warm_up_as_the_cli_does():
    from sim.scenario.schema import Scenario

    for warmup in (3, 10):
        data = load_scenario({"name": "t", "warmup_days": warmup}).resolved()
        measured = []
        for days in range(1, 25):
            edited = _edited(data, {"days": days})
            # as `fulfil run --days D`: the warm-up is at most half of the run
            assert edited["warmup_days"] == Scenario.model_validate(data).warmup_for(days)
            assert edited["warmup_days"] == min(warmup, days // 2)
            measured.append(days - edited["warmup_days"])
        assert measured == sorted(measured)  # a longer horizon never measures fewer days


def test_the_bopis_share_is_weighted_by_each_channels_volume():
    channels = {
        "web": {"orders_per_day": 900, "methods": {"ship": 0.8, "bopis": 0.2}},
        "app": {"orders_per_day": 100, "methods": {"ship": 0.4, "bopis": 0.6}},
        "marketplace": {"orders_per_day": 0},
        "social": {"orders_per_day": 0},
    }
    data = load_scenario({"name": "t", "demand": {"channels": channels}}).resolved()
    assert lv.lever_defaults(data)["bopis"] == pytest.approx(24.0, abs=0.6)  # (180 + 60) / 1000


def test_the_returns_lever_reads_the_mean_of_explicit_skus_and_writes_every_one():
    skus = [{"id": f"K{i}", "return_rate": r} for i, r in enumerate([0.1, 0.3])]
    data = load_scenario({"name": "t", "catalogue": {"skus": skus}}).resolved()
    assert lv.lever_defaults(data)["returns"] == pytest.approx(20.0)
    rates = [s["return_rate"] for s in _edited(data, {"returns": 15})["catalogue"]["skus"]]
    assert rates == [0.15, 0.15]


def test_store_hours_keep_a_stores_closed_weekdays():
    store = {"id": "S1", "city": "Columbus, OH", "hours": {"open": 10, "close": 18, "closed_weekdays": [6]}}  # fmt: skip
    data = load_scenario({"name": "x", "network": {"stores": [store]}}).resolved()
    hours = _edited(data, {"hours": (7, 23)})["network"]["stores"][0]["hours"]
    assert (hours["open"], hours["close"], hours["closed_weekdays"]) == (7, 23, [6])


def test_whole_number_levers_round_rather_than_truncate():
    assert lv.lever("threshold").coerce(4.6) == 5
    assert lv.lever("days").coerce("6.7") == 7


def test_the_outage_lever_adds_to_the_scenarios_own_outages():
    own = {"location": "DC-WEST", "start_day": 3, "days": 1}
    data = load_scenario({"name": "t", "disruptions": {"outages": [own]}}).resolved()
    out = lv.levers_to_overrides(data, {"outage": "DC-EAST", "outage_start": 1, "outage_days": 2})
    assert [o["location"] for o in out["disruptions.outages"]] == ["DC-WEST", "DC-EAST"]


def test_store_levers_are_not_offered_without_stores():
    data = load_scenario({"name": "t", "network": {"stores": {"count": 0}}}).resolved()
    shown = lv.lever_defaults(data)
    assert {
        k: shown[k] for k in ("sfs", "sfs_limit", "hours", "threshold", "bopis")
    } == dict.fromkeys(("sfs", "sfs_limit", "hours", "threshold", "bopis"))


def test_the_ship_from_store_limit_shown_is_the_first_stores():
    stores = [
        {"id": "S0", "city": "Columbus, OH", "daily_order_limit": 500},
        {"id": "S1", "city": "Austin, TX", "daily_order_limit": 80},
    ]
    data = load_scenario({"name": "x", "network": {"stores": stores}}).resolved()
    assert lv.lever_defaults(data)["sfs_limit"] == 500


def test_an_outage_chosen_with_its_defaults_starts_when_the_kpis_start_counting() -> None:
    from sim.scenario.idle import idle_settings

    data = load_scenario("default").resolved()  # warm-up 3 days
    defaults = lv.lever_defaults(data)
    assert defaults["outage_start"] == data["warmup_days"] == 3
    values = {**defaults, "outage": "DC-EAST"}
    edited = load_scenario(apply_overrides(data, lv.levers_to_overrides(data, values)))
    assert edited.disruptions.outages[-1].start_day == 3
    assert not [f for f, _ in idle_settings(edited) if "outages" in f]


def test_no_online_orders_is_a_warning_that_nothing_can_be_measured() -> None:
    from sim.scenario.idle import idle_settings

    data = load_scenario("default").resolved()
    assert not [f for f, _ in idle_settings(load_scenario(data)) if f == "demand.channels"]
    quiet = apply_overrides(data, lv.levers_to_overrides(data, {"online": 0}))
    warned = dict(idle_settings(load_scenario(quiet)))
    assert "none can be measured" in warned["demand.channels"]


def test_the_peak_lever_scales_every_peak_and_keeps_their_order() -> None:
    data = load_scenario("peak").resolved()
    before = [p["multiplier"] for p in data["demand"]["peaks"]]
    assert lv.lever_defaults(data)["peak"] == max(before) == 3.5
    edited = apply_overrides(data, lv.levers_to_overrides(data, {"peak": 6.0}))
    after = [p["multiplier"] for p in edited["demand"]["peaks"]]
    assert max(after) == 6.0 and lv.lever_defaults(edited)["peak"] == 6.0
    # extra demand scaled by (6 - 1) / (3.5 - 1) = 2: Thanksgiving 1.5 -> 2.0, Black Friday 3 -> 5
    assert after == pytest.approx([1 + (m - 1) * 2.0 for m in before])
    assert sorted(range(len(after)), key=after.__getitem__) == sorted(
        range(len(before)), key=before.__getitem__
    )
    flat = load_scenario({"name": "t", "demand": {"peaks": [{**PEAK, "multiplier": 1.0}]}})
    flat_data = flat.resolved()
    flat_edit = apply_overrides(flat_data, lv.levers_to_overrides(flat_data, {"peak": 2.0}))
    assert [p["multiplier"] for p in flat_edit["demand"]["peaks"]] == [2.0]


@pytest.mark.parametrize("multiplier", [1.0, 2.0, 4.0, 10.0])
def test_the_peak_lever_leaves_demand_dips_alone(multiplier: float) -> None:
    """A dip (multiplier below 1, e.g. Christmas Day) is no peak: scaling it with the peaks
    made it shallower, then negative (an invalid scenario blamed on the planner's file)."""
    dip = {"start": "2026-11-25", "days": 1, "multiplier": 0.3}
    data = load_scenario({"name": "t", "demand": {"peaks": [dip, PEAK]}}).resolved()
    assert lv.lever_defaults(data)["peak"] == 3.0  # the largest peak, not the dip
    overrides = lv.levers_to_overrides(data, {"peak": multiplier})
    edited = load_scenario(apply_overrides(data, overrides)).resolved()
    assert [p["multiplier"] for p in edited["demand"]["peaks"]] == [0.3, multiplier]
    only_dips = load_scenario({"name": "t", "demand": {"peaks": [dip]}}).resolved()
    assert lv.lever_defaults(only_dips)["peak"] is None
    assert lv.levers_to_overrides(only_dips, {"peak": multiplier}) == {}
