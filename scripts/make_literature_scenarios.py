"""Generate the multi-item fulfilment literature scenarios in ``scenarios/literature/``.

The set-ups follow Jasin & Sinha (2015, Operations Research 63(6)) as re-used by Ma (2023,
M&SOM):

* ``js_small``: the 10 largest US cities (demand in proportion to population), 5 fulfilment
  centres, 20 items, 1-5 items per order, T = 10,000 arrivals, each centre carries each item
  with probability 0.75;
* ``js_large``: 99 cities, 10 centres, 100 items, up to 10 items per order, T = 100,000
  arrivals, carry probability 0.5.

Stock of item i at centre k is ``T * lam + 0.5 * sqrt(T * lam * (1 - lam))`` rounded, where
``lam`` is the probability that an arrival asks for item i AND comes from a city whose
closest centre carrying item i is k (so myopic closest routing would just about be served).
Shipping uses the literature's cost model (the default rate card: $8.759 per package +
$(0.423 + 0.000541 x miles) per item); an unfilled item costs twice the package fee plus the
unit cost at the longest city-centre distance (applied by ``sim.bound`` and
``sim.literature``, not a scenario field).

Choices the papers leave open, fixed here and seeded (``SEED``): centres stand in demand
cities chosen by a greedy population-weighted k-median; item popularity is uniform on
[0.2, 1.0] (normalised); each order has ``1 + Poisson(mean_lines - 1)`` lines capped at the
maximum, distinct items, one unit each (the simulation's basket law); every item is carried
by at least one centre. Only web orders shipped to the customer; no stores, returns,
replenishment, customer-service edits, safety stock or record errors.

Run::

    .venv/bin/python scripts/make_literature_scenarios.py
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.scenario import geography  # noqa: E402

OUT = ROOT / "scenarios" / "literature"
SEED = 2015


@dataclass(frozen=True)
class Setup:
    """One literature set-up.

    Attributes:
        name: Scenario name.
        cities: Demand cities (largest first). [count]
        centres: Fulfilment centres. [count]
        items: Catalogue size. [count]
        mean_lines: Mean items per order. [items]
        max_lines: Most items per order. [items]
        arrivals: Orders over the horizon, T. [orders]
        carry: Probability that a centre carries an item. [-]
        days: Horizon. [days]
    """

    name: str
    cities: int
    centres: int
    items: int
    mean_lines: float
    max_lines: int
    arrivals: int
    carry: float
    days: int = 10


SETUPS = (
    Setup("js_small", 10, 5, 20, 2.5, 5, 10_000, 0.75),
    Setup("js_large", 99, 10, 100, 3.5, 10, 100_000, 0.5),
)


def miles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle miles between (n, 2) and (m, 2) lat/lon arrays, (n, m)."""
    la1, lo1 = np.radians(a[:, 0])[:, None], np.radians(a[:, 1])[:, None]
    la2, lo2 = np.radians(b[:, 0])[None], np.radians(b[:, 1])[None]
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 2 * 3958.8 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def k_median(dist: np.ndarray, weight: np.ndarray, k: int) -> list[int]:
    """Greedy population-weighted k-median: add the city that cuts weighted miles most."""
    chosen: list[int] = []
    best = np.full(dist.shape[0], np.inf)
    for _ in range(k):
        total = (np.minimum(best[:, None], dist) * weight[:, None]).sum(axis=0)
        total[chosen] = np.inf
        c = int(np.argmin(total))
        chosen.append(c)
        best = np.minimum(best, dist[:, c])
    return chosen


def item_in_order(popularity: np.ndarray, mean_lines: float, max_lines: int) -> np.ndarray:
    """P(an order contains item i) under the basket law (lines drawn iid, then merged)."""
    lam = mean_lines - 1.0
    extra = np.arange(max_lines)
    pmf = np.exp(-lam) * lam**extra / np.array([math.factorial(int(e)) for e in extra])
    pmf[-1] = 1.0 - pmf[:-1].sum()  # the cap collects the tail
    lines = extra + 1
    return (pmf[None, :] * (1.0 - (1.0 - popularity[:, None]) ** lines[None, :])).sum(axis=1)


def build(setup: Setup) -> dict:
    """The scenario document of one set-up."""
    rng = np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(setup.items,)))
    top = geography.top_cities(setup.cities)
    pop = np.array([c.population for c in top], dtype=np.float64)
    weight = pop / pop.sum()
    coords = np.array([[c.lat, c.lon] for c in top])
    dist = miles(coords, coords)
    fc_city = k_median(dist, weight, setup.centres)
    fc_ids = [f"FC-{i + 1:02d}" for i in range(setup.centres)]
    sku_ids = [f"ITEM-{i + 1:03d}" for i in range(setup.items)]
    popularity = rng.uniform(0.2, 1.0, setup.items)
    popularity /= popularity.sum()
    carry = rng.random((setup.centres, setup.items)) < setup.carry
    for i in np.flatnonzero(~carry.any(axis=0)):
        carry[rng.integers(setup.centres), i] = True
    q = item_in_order(popularity, setup.mean_lines, setup.max_lines)
    d_fc = dist[:, fc_city]  # (cities, centres)
    overrides = []
    for i in range(setup.items):
        near = np.argmin(np.where(carry[:, i][None, :], d_fc, np.inf), axis=1)
        lam_k = np.bincount(near, weights=weight * q[i], minlength=setup.centres)
        for k in range(setup.centres):
            if not carry[k, i]:
                continue
            t_lam = setup.arrivals * lam_k[k]
            stock = t_lam + 0.5 * math.sqrt(setup.arrivals * lam_k[k] * (1.0 - lam_k[k]))
            overrides.append({"location": fc_ids[k], "sku": sku_ids[i], "on_hand": round(stock)})
    per_day = setup.arrivals / setup.days
    return {
        "name": setup.name,
        "description": (
            f"Jasin & Sinha (2015) set-up: {setup.cities} cities, {setup.centres} centres, "
            f"{setup.items} items, 1-{setup.max_lines} items per order, T = {setup.arrivals:,} "
            f"arrivals, carry probability {setup.carry}. Generated by "
            "scripts/make_literature_scenarios.py; do not edit by hand."
        ),
        "seed": SEED,
        "start": "2026-11-02",
        "horizon_days": setup.days,
        "warmup_days": 0,
        "network": {
            "warehouses": [
                {"id": fid, "city": top[c].label} for fid, c in zip(fc_ids, fc_city, strict=True)
            ],
            "stores": [],
            "warehouse_defaults": {
                "hours": "always",
                "capabilities": ["ship"],
                "handling_cost_per_order": 0.0,
                "handling_cost_per_unit": 0.0,
            },
        },
        "catalogue": {
            "skus": [
                {"id": s, "popularity": round(float(p), 8), "return_rate": 0.0}
                for s, p in zip(sku_ids, popularity, strict=True)
            ]
        },
        "demand": {
            "regions": setup.cities,
            "channels": {
                "web": {
                    "orders_per_day": per_day,
                    "basket": {
                        "mean_lines": setup.mean_lines,
                        "max_lines": setup.max_lines,
                        "mean_qty": 1,
                        "max_qty": 1,
                    },
                    "methods": {"ship": 1.0},
                },
                "app": {"orders_per_day": 0},
                "marketplace": {"orders_per_day": 0},
                "social": {"orders_per_day": 0},
                "pos": {"sales_per_store_per_day": 0},
                "wholesale": {"orders_per_day": 0},
            },
        },
        "inventory": {
            "initial_days_of_cover": {"dc": 0, "store": 0},
            "safety_stock_days": 0,
            "replenishment": {
                "review_days": 10_000,
                "order_up_to_days": {"dc": 0, "store": 0},
            },
            "record_inaccuracy": {"share": 0.0, "max_units": 0},
            "pos_sync_delay_minutes": 0,
            "overrides": overrides,
        },
        "customer_service": {"edit_share": 0.0, "cancel_share": 0.0},
        "routing": {"policy": "cost", "max_packages": setup.max_lines},
    }


def main() -> None:
    """Write both scenarios and validate them with the scenario loader."""
    from sim.scenario.loader import load_scenario

    OUT.mkdir(parents=True, exist_ok=True)
    for setup in SETUPS:
        doc = build(setup)
        path = OUT / f"{setup.name}.yaml"
        header = "".join(f"# {line}\n" for line in doc["description"].split(". "))
        with path.open("w", encoding="utf-8") as fh:
            fh.write(header)
            yaml.safe_dump(doc, fh, sort_keys=False, width=100)
        scn = load_scenario(path)
        units = sum(o["on_hand"] for o in doc["inventory"]["overrides"])
        print(f"{path.relative_to(ROOT)}: {scn.name}, {units:,} units in stock")


if __name__ == "__main__":
    main()
