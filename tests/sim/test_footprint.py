"""The size of a comparison before it runs (`sim.footprint`): expected orders against the
orders actually drawn, and the memory estimate against a run's measured peak."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim import load_scenario
from sim.footprint import (
    USABLE_SHARE,
    Footprint,
    available_memory_mib,
    expected_orders,
    footprint,
)
from sim.model.world import World

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("name", "days"), [("peak", None), ("default", 7)])
def test_expected_orders_is_the_mean_of_the_orders_drawn(name: str, days: int | None) -> None:
    """Poisson arrivals: over 5 seeds the mean count is within 4 standard errors of the
    expectation, plus 0.5% for taking days in UTC instead of the customers' local dates.
    The peak scenario checks that peaks count (its Black Friday week adds 4% to 21 days)."""
    scn = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    expected = expected_orders(scn, days)
    drawn = [len(World.build(scn, "closest", seed, 0, days).demand) for seed in range(5)]
    tolerance = 4 * math.sqrt(expected / 5) + 0.005 * expected
    assert abs(np.mean(drawn) - expected) <= tolerance
    if name == "peak":  # without its peaks the week would have noticeably fewer orders
        flat = expected_orders(scn.model_copy(update={"demand": _no_peaks(scn)}), days)
        assert expected - flat > 4 * tolerance


def _no_peaks(scn):  # type: ignore[no-untyped-def]
    return scn.demand.model_copy(update={"peaks": []})


def test_the_memory_estimate_matches_a_runs_measured_peak() -> None:
    """A 3-day default run in a fresh process, whose locations keep up: the estimate is
    at most 30% above its peak resident memory (not a bound so loose it says nothing), and
    the peak at most 10% above the estimate (libraries that import more)."""
    code = (
        "from sim import run\n"
        "from sim.bench import peak_rss_mib\n"
        "run('scenarios/default.yaml', 'closest', 42, days=3)\n"
        "print(peak_rss_mib())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    measured_mib = float(out.stdout.split()[-1])
    scn = load_scenario(ROOT / "scenarios" / "default.yaml", {"horizon_days": 3, "warmup_days": 1})
    estimate = footprint(scn, 1, 1, at_once=1).run_mib
    # 10% above the estimate is allowed for library versions that import more
    assert measured_mib <= 1.1 * estimate and estimate <= 1.3 * measured_mib, (
        measured_mib,
        estimate,
    )


def test_a_comparison_needs_the_runs_at_once_plus_the_kept_tables() -> None:
    size = Footprint(
        runs=9, at_once=2, orders=140_000, run_mib=400, kept_mib=100, available_mib=1100
    )
    assert size.need_mib == 2 * 400 + 100
    assert not size.fits  # 900 MiB is more than 80% of 1,100
    assert dataclasses.replace(size, available_mib=1125).fits  # exactly 80%
    assert size.describe() == (
        "9 runs of about 140,000 orders each, 2 at a time: about 0.9 GB of memory at the peak."
    )
    assert "the machine has 1.2 GB free" in size.refusal()
    assert Footprint(1, 1, 1234.5, 300, 10, None).fits  # free memory unknown: not refused
    assert (
        Footprint(1, 1, 1234.5, 300, 10, None).describe().startswith("1 run of about 1,230 orders:")
    )


def test_the_default_comparison_uses_every_core_and_counts_every_policy_s_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FULFIL_MEMORY_MIB", "1000000")  # room for every core's run
    scn = load_scenario(ROOT / "scenarios" / "default.yaml")
    size = footprint(scn, policies=3, reps=3)
    assert size.runs == 9
    assert size.at_once == min(9, max(1, os.cpu_count() or 1))
    assert size.kept_mib == pytest.approx(3 * size.orders * 260 / 2**20)
    assert size.need_mib == pytest.approx(size.at_once * size.run_mib + size.kept_mib)


def test_free_memory_comes_from_the_machine_unless_the_environment_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sim.footprint as fp

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       25165824 kB\nMemAvailable:   20971520 kB\n")
    assert fp.proc_mib(str(meminfo), "MemAvailable") == 20480.0  # kB are KiB
    assert fp.proc_mib(str(meminfo), "SwapFree") is None
    assert fp.proc_mib(str(tmp_path / "missing"), "MemAvailable") is None
    monkeypatch.setattr(fp, "proc_mib", lambda path, key: 20480.0)  # the machine says so
    monkeypatch.delenv("FULFIL_MEMORY_MIB", raising=False)
    assert available_memory_mib() == 20480.0
    monkeypatch.setenv("FULFIL_MEMORY_MIB", "512")
    assert available_memory_mib() == 512
    for wrong in ("lots", "-1", "nan", "inf"):  # not a usable figure: the machine's own
        monkeypatch.setenv("FULFIL_MEMORY_MIB", wrong)
        assert available_memory_mib() == 20480.0


def test_fewer_runs_go_at_once_where_all_would_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default 3 x 3 on 2 cores needs two runs' peaks at once; with room for one, the
    page runs one at a time instead of refusing; with room for none, it refuses."""
    scn = load_scenario(ROOT / "scenarios" / "default.yaml")
    monkeypatch.setenv("FULFIL_MEMORY_MIB", "100000")
    roomy = footprint(scn, 3, 3, at_once=2)
    assert roomy.at_once == 2 and roomy.fits
    one = (roomy.run_mib + roomy.kept_mib) / USABLE_SHARE + 1  # room for one run and tables
    monkeypatch.setenv("FULFIL_MEMORY_MIB", str(one))
    tight = footprint(scn, 3, 3, at_once=2)
    assert tight.at_once == 1 and tight.fits
    monkeypatch.setenv("FULFIL_MEMORY_MIB", str(roomy.run_mib / 2))
    short = footprint(scn, 3, 3, at_once=2)
    assert short.at_once == 1 and not short.fits


def test_runs_kept_from_earlier_are_not_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FULFIL_MEMORY_MIB", "1000000")
    scn = load_scenario(ROOT / "scenarios" / "default.yaml")
    part = footprint(scn, 3, 3, at_once=2, to_run=1)
    assert (part.runs, part.reused, part.at_once) == (1, 8, 1)
    assert part.need_mib == pytest.approx(part.run_mib + part.kept_mib)
    assert "1 run of about 140,000 orders (8 more kept from earlier)" in part.describe()
    none = footprint(scn, 3, 3, to_run=0)
    assert none.describe() == "Nothing to run: all 9 runs are kept from earlier comparisons."
    assert none.need_mib == pytest.approx(none.kept_mib)
