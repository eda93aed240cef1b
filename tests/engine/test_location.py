"""Tests for engine.location: opening hours, local time, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import EngineError
from engine.location import Capability, Location, LocationKind, OpeningHours


def store(**kw) -> Location:
    base = dict(
        id="S1",
        kind=LocationKind.STORE,
        lat=40.7128,
        lon=-74.0060,
        timezone="America/New_York",
        hours=OpeningHours.daily(9, 21),
        capabilities=frozenset({Capability.SHIP, Capability.PICKUP}),
    )
    base.update(kw)
    return Location(**base)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_defaults():
    loc = Location("W1", LocationKind.WAREHOUSE, 39.0, -94.0, "America/Chicago")
    assert loc.hours == OpeningHours.always_open()
    assert loc.capabilities == frozenset({Capability.SHIP})
    assert loc.daily_order_limit is None
    assert loc.cutoff_hour == 16.0
    assert loc.is_open(utc(2024, 3, 5, 3))


def test_string_values_are_coerced():
    loc = store(kind="3pl", capabilities={"ship", "returns"})
    assert loc.kind is LocationKind.THREE_PL
    assert loc.capabilities == frozenset({Capability.SHIP, Capability.RETURNS})


def test_closed_at_2am_utc_on_tuesday():
    # Tuesday 2024-03-05 02:00 UTC = Monday 21:00 EST: closing time, so closed.
    at = utc(2024, 3, 5, 2)
    assert at.weekday() == 1
    assert not store().is_open(at)
    assert store().local_time(at) == datetime(2024, 3, 4, 21, 0, tzinfo=store().tz)


def test_open_during_local_day_winter_and_summer():
    s = store()
    # EST (UTC-5): 14:00 UTC = 09:00 local -> open; 13:59 UTC = 08:59 -> closed.
    assert s.is_open(utc(2024, 1, 9, 14, 0))
    assert not s.is_open(utc(2024, 1, 9, 13, 59))
    # EDT (UTC-4) after 2024-03-10: 13:00 UTC = 09:00 local -> open; 12:30 UTC -> closed.
    assert s.is_open(utc(2024, 7, 9, 13, 0))
    assert not s.is_open(utc(2024, 7, 9, 12, 30))
    # 01:00 UTC = 21:00 EDT -> closed; 00:59 UTC = 20:59 EDT -> open.
    assert not s.is_open(utc(2024, 7, 10, 1, 0))
    assert s.is_open(utc(2024, 7, 10, 0, 59))


def test_dst_spring_forward_shifts_utc_opening():
    s = store()
    # The same 13:30 UTC is 08:30 EST on Friday 2024-03-08 but 09:30 EDT on Monday 03-11.
    assert not s.is_open(utc(2024, 3, 8, 13, 30))
    assert s.is_open(utc(2024, 3, 11, 13, 30))
    assert s.local_time(utc(2024, 3, 11, 13, 30)).utcoffset() == timedelta(hours=-4)


def test_weekday_specific_hours():
    hours = OpeningHours(((9, 17),) * 5 + ((10, 16), None))
    s = store(hours=hours)
    sunday_noon = utc(2024, 3, 10, 17)  # 13:00 EDT on Sunday
    assert sunday_noon.astimezone(s.tz).weekday() == 6
    assert not s.is_open(sunday_noon)
    assert s.is_open(utc(2024, 3, 9, 16))  # Saturday 11:00 EST
    assert hours.is_open_local(0, 9.0)
    assert not hours.is_open_local(0, 17.0)
    assert not hours.is_open_local(6, 12.0)


def test_next_open_returns_at_when_open():
    at = utc(2024, 3, 5, 15)
    assert store().next_open(at) is at


def test_next_open_same_day_and_next_day():
    s = store()
    # 12:00 UTC Tue = 07:00 EST -> opens 09:00 EST = 14:00 UTC.
    assert s.next_open(utc(2024, 3, 5, 12)) == utc(2024, 3, 5, 14)
    # 02:00 UTC Tue = 21:00 EST Mon -> next opening Tue 09:00 EST.
    assert s.next_open(utc(2024, 3, 5, 2)) == utc(2024, 3, 5, 14)
    result = s.next_open(utc(2024, 3, 5, 2))
    assert result.utcoffset() == timedelta(0)


def test_next_open_across_dst_and_closed_days():
    # Sat 2024-03-09 22:00 EST; closed Sunday; Monday 03-11 09:00 is EDT -> 13:00 UTC.
    s = store(hours=OpeningHours(((9, 21),) * 6 + (None,)))
    assert s.next_open(utc(2024, 3, 10, 3)) == utc(2024, 3, 11, 13)


def test_next_open_fractional_hour():
    s = store(hours=OpeningHours.daily(9.5, 17))
    assert s.next_open(utc(2024, 1, 9, 12)) == utc(2024, 1, 9, 14, 30)


def test_never_open_raises():
    s = store(hours=OpeningHours((None,) * 7))
    assert not s.is_open(utc(2024, 1, 1))
    with pytest.raises(EngineError, match="S1"):
        s.next_open(utc(2024, 1, 1))


def test_naive_datetime_rejected():
    with pytest.raises(ValueError, match="naive"):
        store().is_open(datetime(2024, 1, 1, 12))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lat", 91.0),
        ("lat", float("nan")),
        ("lon", -181.0),
        ("timezone", "Mars/Olympus"),
        ("daily_order_limit", -1),
        ("handling_cost_per_order", -0.5),
        ("handling_cost_per_unit", float("inf")),
        ("online_threshold", -2),
        ("cutoff_hour", 25.0),
        ("kind", "castle"),
        ("capabilities", {"teleport"}),
    ],
)
def test_validation_names_location_and_field(field, value):
    with pytest.raises(ValueError, match=rf"'S1'.*{field}"):
        store(**{field: value})


def test_opening_hours_validation():
    with pytest.raises(ValueError, match="7 weekdays"):
        OpeningHours(((9, 17),) * 6)
    with pytest.raises(ValueError, match="weekday 2"):
        OpeningHours(((9, 17),) * 2 + ((18, 9),) + ((9, 17),) * 4)
    with pytest.raises(ValueError, match="hours"):
        store(hours=((9, 17),) * 6)


def test_location_is_frozen_and_hashable():
    s = store()
    with pytest.raises(AttributeError):
        s.lat = 0.0  # type: ignore[misc]
    assert hash(s) == hash(store())
