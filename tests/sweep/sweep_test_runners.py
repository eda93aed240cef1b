"""Runners the sweep tests name on the command line (``--runner sweep_test_runners:slow``)."""

import os
import time
from pathlib import Path

from sim.sweep.synthetic import SyntheticRunner

#: Takes a while per run, so a test can kill the sweep half-way.
slow = SyntheticRunner(sleep_s=0.25)

#: Every run of ``closest`` fails.
broken = SyntheticRunner(fail={"closest": 99})

#: Takes long per run, so a test can stop the sweep while a run is under way.
very_slow = SyntheticRunner(sleep_s=30.0)


def busy(scenario, policy, seed, *, days=None, replication=0):
    """Like ``very_slow``, but busy in pure Python for 30 s, holding the GIL as the
    simulation does (a worker's other threads then run only between its slices). Touches
    the file named by ``$SWEEP_TEST_STARTED``, if set, when it starts."""
    if os.environ.get("SWEEP_TEST_STARTED"):
        Path(os.environ["SWEEP_TEST_STARTED"]).touch()
    end = time.monotonic() + 30.0
    while time.monotonic() < end:
        sum(range(10_000))
    return slow(scenario, policy, seed, days=days, replication=replication)
