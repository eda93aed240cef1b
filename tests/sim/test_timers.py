"""`call_later` timers run on the SimPy clock exactly like `simpy.Timeout` callbacks."""

from __future__ import annotations

import pytest
import simpy

from sim.model.timers import Timer, call_later


def test_timers_and_timeouts_fire_in_time_then_scheduling_order() -> None:
    env = simpy.Environment()
    fired: list[tuple[float, str]] = []

    def note(ev: Timer | simpy.Event) -> None:
        fired.append((env.now, ev.value))

    for delay, name in ((2.0, "t1"), (1.0, "t2"), (2.0, "t3"), (0.0, "t4")):
        call_later(env, delay, note, name)
        env.timeout(delay, name.replace("t", "s")).callbacks.append(note)
    env.run()
    assert fired == [
        (0.0, "t4"), (0.0, "s4"), (1.0, "t2"), (1.0, "s2"),
        (2.0, "t1"), (2.0, "s1"), (2.0, "t3"), (2.0, "s3"),
    ]  # fmt: skip


def test_a_timer_can_schedule_the_next_one_and_processes_see_its_time() -> None:
    env = simpy.Environment()
    seen: list[float] = []

    def tick(ev: Timer) -> None:
        seen.append(env.now)
        if ev.value > 1:
            call_later(env, 0.5, tick, ev.value - 1)

    call_later(env, 1.0, tick, 3)
    env.run(until=10)
    assert seen == [1.0, 1.5, 2.0] and env.now == 10


def test_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="Negative delay"):
        call_later(simpy.Environment(), -1.0, lambda ev: None)
