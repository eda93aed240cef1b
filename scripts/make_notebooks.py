"""Write the analyst notebooks in ``notebooks/`` (without outputs) from the cells below.

Edit the cells here, then run ``python scripts/make_notebooks.py``; CI executes the
notebooks with nbmake (``pytest --nbmake notebooks``). Each uses short horizons so it runs
in well under a minute.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

QUICKSTART = [
    (
        "md",
        """# Quickstart: load a scenario, run it, compare policies

A scenario is a YAML file in `scenarios/` describing the retailer: DCs and stores, the
catalogue, demand per channel, stock, carriers, returns. `run` simulates it with one routing
policy and returns tidy tables plus KPIs; `compare` runs several policies over paired
replications (common random numbers) and reports means with 95% confidence intervals.

Horizons here are one day so the notebook runs in CI; use the full horizon for real work.""",
    ),
    (
        "code",
        """from sim import compare, load_scenario, run
from sim.compare import compare_runs, kpi_frame, summarise
from sim import figures

scenario = load_scenario("default")
print(scenario.name, "-", scenario.horizon_days, "days,", scenario.catalogue.skus, "SKUs")""",
    ),
    ("md", "## One run\n\nSame scenario, policy and seed give identical results in any process."),
    (
        "code",
        """result = run(scenario, "closest", seed=1, days=1)
result""",
    ),
    (
        "code",
        """import pandas as pd

pd.Series(result.kpis).round(3)""",
    ),
    ("code", "result.orders.head()"),
    (
        "code",
        """result.shipments.groupby("location_kind", observed=True)[["units", "shipping_cost"]].sum()""",
    ),
    (
        "md",
        """## Compare policies

Replication `r` of every policy faces the same customers, so differences are paired.""",
    ),
    (
        "code",
        """results = compare_runs(scenario, ["closest", "cost"], reps=2, seed=1, days=1)
table = summarise(kpi_frame(results), baseline="closest")
table[table["kpi"].isin(["cost_per_order", "click_to_door_hours_p90", "stockout_rate"])]""",
    ),
    ("code", """figures.kpi_bars(table, "cost_per_order")"""),
    ("code", """figures.click_to_door_ecdf(results)"""),
    (
        "md",
        """`compare(scenario, ["closest", "cost"], reps=2, seed=1, baseline="closest", days=1)`
returns the same table in one call (`days=1` as above: it is passed on to every run); the
CLI equivalent is
`fulfil compare scenarios/default.yaml --policies closest,cost --reps 2 --seed 1 --days 1`.""",
    ),
]

REGRESSION = [
    (
        "md",
        """# Policy regression tests: statistics, not luck

`sim.testing` lets a policy owner state a claim such as *"my policy is not costlier than
`closest` by more than 1%"* and test it properly: both policies run the same replications
with common random numbers, and a one-sided paired t-test decides at a stated confidence.

Non-inferiority: with `d` = how much worse the candidate is in each replication and
`delta = margin x |baseline mean|`, the test rejects `H0: E[d] >= delta` when the one-sided
upper confidence bound of `E[d]` is below `delta`. `margin=0` demands a real improvement.""",
    ),
    (
        "code",
        """from sim.testing import assert_better, assert_kpi_within, assert_not_worse, replicate

SCENARIO, DAYS, REPS = "default", 1, 3""",
    ),
    (
        "code",
        """result = assert_not_worse("cost", "closest", SCENARIO, kpi="cost_per_order",
                          margin=0.01, reps=REPS, days=DAYS)
print(result)""",
    ),
    (
        "md",
        """A claim the data do not support fails with a one-line report (the runs are cached, so
this costs nothing):""",
    ),
    (
        "code",
        """try:
    assert_better("closest", "cost", SCENARIO, "cost_per_order", reps=REPS, days=DAYS)
except AssertionError as err:
    print("AssertionError:", err)""",
    ),
    (
        "code",
        """import pandas as pd

paired = pd.DataFrame({
    p: [r["cost_per_order"] for r in replicate(SCENARIO, p, REPS, days=DAYS)]
    for p in ("closest", "cost")
})
paired["difference"] = paired["cost"] - paired["closest"]
paired  # one row per replication: the pairs the test uses""",
    ),
    (
        "code",
        """mean, low, high = assert_kpi_within(SCENARIO, "closest", "fill_rate", 0.5, 1.0,
                                    reps=REPS, days=DAYS)
f"fill rate {mean:.3f} (95% CI {low:.3f}..{high:.3f})\"""",
    ),
    (
        "md",
        """## In pytest

```python
def test_my_policy_is_not_costlier(policy_regression):   # fixture from sim.testing
    policy_regression.not_worse("my_policy", "closest", "default",
                                kpi="cost_per_order", margin=0.01, reps=10, days=2)
```

Golden baselines (`tests/golden/*.json`) hold seed-pinned KPI means with tolerance bands;
`check_golden` only reads them. They change only by the explicit command
`python -m sim.testing update [NAME ...]`.""",
    ),
    (
        "code",
        """import json
from sim.testing import GOLDEN_DIR

for path in sorted(GOLDEN_DIR.glob("*.json")):
    golden = json.loads(path.read_text())
    print(path.name, golden["policy"], "days", golden["days"], "reps", golden["reps"],
          "cost_per_order", round(golden["kpis"]["cost_per_order"], 3))""",
    ),
]

SWEEP = [
    (
        "md",
        """# Sweeps and the Pareto frontier

A sweep runs every combination of scenario overrides x policies x replications, each run an
independent task on local cores or a Dask cluster, and streams results into a Parquet
dataset. Reruns skip finished runs (resume). Here a tiny sweep, given as a dict, runs in this
process; the same content written as a YAML file, like the one printed below, runs from the
shell with `fulfil sweep FILE --out DIR --executor dask`.""",
    ),
    (
        "code",
        """import tempfile
from pathlib import Path

from sim.sweep import frontier_figure, load_sweep, load_sweep_results, run_sweep

print(Path("../scenarios/sweeps/sfs_limit_x_bopis.yaml").read_text())""",
    ),
    (
        "md",
        """A smaller sweep of the same kind: two store limits x two policies, one day, two
replications. A single override set is crossed with the grid, so it applies to every case:
here it shrinks the retailer (fewer orders and SKUs) to keep the notebook fast.""",
    ),
    (
        "code",
        """small_world = {
    "demand.channels.web.orders_per_day": 400,
    "demand.channels.app.orders_per_day": 200,
    "demand.channels.marketplace.orders_per_day": 100,
    "demand.channels.social.orders_per_day": 50,
    "catalogue.skus": 300,
}
spec = {
    "name": "tiny_sfs_limit",
    "scenario": "default",
    "grid": {"network.store_defaults.daily_order_limit": [5, 60]},
    "overrides": [small_world],
    "policies": ["closest", "cost"],
    "replications": 2,
    "days": 1,
}
sweep = load_sweep(spec)  # validated before anything runs
[case.label for case in sweep.cases]""",
    ),
    (
        "code",
        """out = Path(tempfile.mkdtemp(prefix="sweep-"))
report = run_sweep(sweep, out, executor="serial", progress=False)  # no bar in a notebook
print(report.ran, "runs in", round(report.elapsed_s, 1), "s")
again = run_sweep(sweep, out, executor="serial", progress=False)
print("rerun:", again.ran, "ran,", again.skipped, "already done")""",
    ),
    (
        "code",
        """summary, frontier = load_sweep_results(out)
summary[["label", "policy", "cost_per_order", "click_to_door_hours_p90", "stockout_rate",
         "on_frontier"]]""",
    ),
    ("code", "frontier_figure(summary)"),
    (
        "code",
        """import pandas as pd

runs = pd.read_parquet(out / "runs")  # the Parquet dataset: one row per run
runs[["key", "label", "policy", "replication", "cost_per_order", "worker"]]""",
    ),
    (
        "md",
        """On a cluster: start a scheduler and workers (see `docs/sweeps.md` for SLURM, PBS and
Kubernetes), then `fulfil sweep FILE --out DIR --scheduler tcp://HOST:8786`.""",
    ),
    (
        "code",
        """import shutil

shutil.rmtree(out)  # the temporary results folder of this notebook""",
    ),
]


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook with the given markdown/code cells and no outputs."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"  # stable ids: regenerating gives the same file
    return nb


def main(argv: Sequence[str] | None = None) -> None:
    """Write the three notebooks (``--help`` only prints the usage)."""
    parser = argparse.ArgumentParser(
        prog="make_notebooks.py",
        description=f"Rewrite the analyst notebooks in {NOTEBOOKS} (without outputs) from "
        "the cells in this script.",
    )
    parser.parse_args(argv)
    NOTEBOOKS.mkdir(exist_ok=True)
    for name, cells in (
        ("01_quickstart.ipynb", QUICKSTART),
        ("02_policy_regression.ipynb", REGRESSION),
        ("03_sweep_frontier.ipynb", SWEEP),
    ):
        nb = build(cells)
        nbformat.validate(nb)
        nbformat.write(nb, NOTEBOOKS / name)
        print(f"wrote {NOTEBOOKS / name}")


if __name__ == "__main__":
    main()
