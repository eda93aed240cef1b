"""`python -m sim.literature --reps 30`: regenerate docs/literature_benchmark.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.literature.benchmark import (
    POLICIES,
    SCENARIOS,
    finish,
    markdown,
    run_benchmark,
    summarise,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "literature_benchmark.md"
_DERIVED = {"ratio", "gap_closed", "extra_removed_static", "extra_removed_at_routing"}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the table (and optionally the raw rows as CSV)."""
    ap = argparse.ArgumentParser(
        prog="python -m sim.literature",
        description="Each policy's cost as a ratio to the hindsight bound on the "
        "literature scenarios, over many arrival sequences.",
    )
    ap.add_argument("--reps", type=int, default=30, help="arrival sequences per scenario")
    ap.add_argument("--seed", type=int, default=1000, help="seed of the first sequence")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated names")
    ap.add_argument("--policies", default=",".join(POLICIES), help="comma-separated labels")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    ap.add_argument("--out", type=Path, default=DOC, help="markdown file to write")
    ap.add_argument(
        "--csv", type=Path, default=None, help="append raw rows here as replications finish"
    )
    ap.add_argument(
        "--from-csv",
        type=Path,
        nargs="+",
        default=None,
        help="rebuild the table from raw rows saved with --csv (no runs); runs over "
        "different seed ranges merge (replication = seed - --seed)",
    )
    args = ap.parse_args(argv)
    if args.from_csv:
        import pandas as pd

        df = pd.concat([pd.read_csv(p) for p in args.from_csv], ignore_index=True)
        raw = [c for c in df.columns if c not in _DERIVED]
        df = df[raw].copy()
        df["replication"] = df["seed"] - args.seed  # runs split over seed ranges merge
        df = df.drop_duplicates(["scenario", "replication", "policy"], keep="last")
        summary = summarise(finish(df.reset_index(drop=True)))
        reps = int(df["replication"].max()) + 1
        command = f"python -m sim.literature --reps {reps}"
        args.out.write_text(markdown(summary, reps, args.seed, command), encoding="utf-8")
        print(summary.to_string(index=False))
        print(f"wrote {args.out}")
        return 0
    scenarios = [s for s in args.scenarios.split(",") if s]
    labels = [p for p in args.policies.split(",") if p]
    unknown = [p for p in labels if p not in POLICIES] + [
        s for s in scenarios if s not in SCENARIOS
    ]
    if unknown or args.reps < 1:
        print(f"python -m sim.literature: unknown or bad value(s): {unknown or args.reps}",
              file=sys.stderr)  # fmt: skip
        return 2
    df = run_benchmark(scenarios, labels, args.reps, args.seed, args.jobs, args.csv)
    summary = summarise(df)
    command = f"python -m sim.literature --reps {args.reps}"
    if args.scenarios != ",".join(SCENARIOS):
        command += f" --scenarios {args.scenarios}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(summary, args.reps, args.seed, command), encoding="utf-8")
    print(summary.to_string(index=False))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
