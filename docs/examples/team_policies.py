"""A routing policy written in Python: stores within 300 miles first, then the nearest
location of any kind. Use it as ``--policy team_policies:near_store_300`` from this folder
(see docs/policies.md)."""

from dataclasses import dataclass

import numpy as np

from engine.routing import register_policy
from engine.routing.context import RoutingContext
from engine.routing.policies import RulePolicy
from engine.routing.ranking import DistanceKey, SortKey


@dataclass(frozen=True)
class NearStoreFirst(SortKey):
    """0 for a store within `miles` of the customer, else 1 (lower ranks first). [-]"""

    miles: float = 300.0
    name = "near_store_first"

    def values(self, ctx: RoutingContext, cand: np.ndarray) -> np.ndarray:
        near = ctx.network.is_store[cand] & (ctx.dist.take(cand) <= self.miles)
        return np.where(near, 0, 1)


def near_store_300(max_packages: int | None = None) -> RulePolicy:
    """Stores within 300 miles, nearest first; then every other location by distance."""
    return RulePolicy(
        "near_store_300",
        sort=(NearStoreFirst(300.0), DistanceKey()),
        max_packages=max_packages,
        description="Stores within 300 miles first, then the nearest location.",
    )


register_policy("near_store_300", near_store_300, replace=True)
