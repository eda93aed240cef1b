"""Callbacks at a later simulated time, without a `simpy.Timeout` per call.

Most of the model's work is "call this function with this value in `d` hours": a release,
a pick done, a delivery, a return. A `simpy.Timeout` for that carries an attribute dict and a
callbacks list (about 400 bytes while it waits). A `Timer` is a slotted object that the
SimPy environment's event loop handles the same way: it is scheduled with the same priority,
popped from the same queue at its time (ties in scheduling order) and its callback is called
with it, so the run's results are identical while a million-order run keeps less memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import NORMAL

__all__ = ["Timer", "call_later"]


class Timer:
    """A scheduled callback: what the SimPy event loop needs of an event, and `value`.

    Attributes:
        callbacks: The callback (the loop sets this to None when it fires).
        value: The value handed to the callback (as `simpy.Event.value`).
    """

    __slots__ = ("_ok", "callbacks", "value")

    def __init__(self, value: Any, callback: Callable[[Timer], None]) -> None:
        self.callbacks: tuple[Callable[[Timer], None], ...] | None = (callback,)
        self.value = value
        self._ok = True  # it never fails


def call_later(
    env: simpy.Environment, delay: float, callback: Callable[[Timer], None], value: Any = None
) -> None:
    """Call ``callback(timer)`` in `delay` hours, with ``timer.value`` = `value`.

    Raises:
        ValueError: If `delay` is negative (as `simpy.Environment.timeout`).
    """
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    env.schedule(Timer(value, callback), NORMAL, delay)  # type: ignore[arg-type]
