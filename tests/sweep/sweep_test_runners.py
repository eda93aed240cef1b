"""Runners the sweep tests name on the command line (``--runner sweep_test_runners:slow``)."""

from sim.sweep.synthetic import SyntheticRunner

#: Takes a while per run, so a test can kill the sweep half-way.
slow = SyntheticRunner(sleep_s=0.25)

#: Every run of ``closest`` fails.
broken = SyntheticRunner(fail={"closest": 99})

#: Takes long per run, so a test can stop the sweep while a run is under way.
very_slow = SyntheticRunner(sleep_s=30.0)
