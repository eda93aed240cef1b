"""Runners the sweep tests name on the command line (``--runner sweep_test_runners:slow``).

``busy`` and ``marked`` leave marks a test waits on instead of sleeping: when
``$SWEEP_TEST_MARKS`` names a folder, a run touches ``started-PID-POLICY-RUN`` there as it
starts and ``finished-PID-POLICY-RUN`` as it returns (PID its process, RUN `run_id` of its
inputs); `sweep_helpers.marks` reads them.
"""

import hashlib
import json
import os
import time
from pathlib import Path

from sim.sweep.synthetic import SyntheticRunner

MARKS_ENV = "SWEEP_TEST_MARKS"
#: Seconds a slow run of ``marked`` takes (default 600: longer than any test waits).
SLOW_ENV = "SWEEP_TEST_SLOW_S"

#: Takes a while per run, so a test can kill the sweep half-way.
slow = SyntheticRunner(sleep_s=0.25)

#: Every run of ``closest`` fails.
broken = SyntheticRunner(fail={"closest": 99})


def run_id(scenario, policy, seed, replication, days) -> str:
    """What names a run in the marks: a hash of its inputs."""
    text = json.dumps([scenario, policy, seed, replication, days], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _mark(what, scenario, policy, seed, replication, days):
    folder = os.environ.get(MARKS_ENV)
    if folder:
        run = run_id(scenario, policy, seed, replication, days)
        Path(folder, f"{what}-{os.getpid()}-{policy}-{run}").touch()


def busy(scenario, policy, seed, *, days=None, replication=0):
    """Busy in pure Python for 30 s, holding the GIL as the simulation does (a worker's
    other threads then run only between its slices); leaves marks."""
    _mark("started", scenario, policy, seed, replication, days)
    end = time.monotonic() + 30.0
    while time.monotonic() < end:
        sum(range(10_000))
    result = slow(scenario, policy, seed, days=days, replication=replication)
    _mark("finished", scenario, policy, seed, replication, days)
    return result


def marked(scenario, policy, seed, *, days=None, replication=0):
    """Runs of ``closest`` take 0.1 s, the others ``$SWEEP_TEST_SLOW_S`` seconds (so a test
    can stop a sweep while runs are under way and others are done); leaves marks."""
    _mark("started", scenario, policy, seed, replication, days)
    time.sleep(0.1 if policy == "closest" else float(os.environ.get(SLOW_ENV, "600")))
    result = SyntheticRunner()(scenario, policy, seed, days=days, replication=replication)
    _mark("finished", scenario, policy, seed, replication, days)
    return result
