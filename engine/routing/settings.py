"""Routing settings shared by the `Router`, its filters and its policies."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = ["RoutingSettings"]


@dataclass(frozen=True)
class RoutingSettings:
    """How the `Router` treats closed locations, same-day orders, splits and promises.

    Attributes:
        closed_location: "wait": a closed location stays eligible and its ship time moves to
            its next opening; "skip": a closed location is excluded (`Exclusion.CLOSED`).
        same_day_max_miles: Same-day orders only from locations this close. [mi]
        max_packages: Most packages one decision may create; units beyond are unfulfillable.
        demand_rate: Daily demand per SKU, float (S,) in ledger SKU order, used by the
            `balance` policy's days of cover; None means 1 unit/day for every SKU. [units/day]
        allow_partial: Allocate what can be allocated and report the rest as unfulfillable;
            when False an order that cannot be filled completely gets no allocation at all.
        bopis_pick_hours: Pick lead time from the start of work to "ready for pickup". [h]
        same_day_hours: Pick plus courier time for same-day delivery. [h]
        release_hold_hours: Time between routing and release to the location (the OMS's
            customer-service hold): work cannot start earlier, so promises count from
            routing time plus this hold. [h]
        keep_reasons: Decisions keep the arrays `Decision.reasons` is built from (about
            24 bytes per location per decision). Turn off for long simulations that keep
            every decision.
    """

    closed_location: Literal["wait", "skip"] = "wait"
    same_day_max_miles: float = 50.0
    max_packages: int = 5
    demand_rate: np.ndarray | None = field(default=None, compare=False, repr=False)
    allow_partial: bool = True
    bopis_pick_hours: float = 2.0
    same_day_hours: float = 4.0
    release_hold_hours: float = 0.0
    keep_reasons: bool = True

    def __post_init__(self) -> None:
        if self.closed_location not in ("wait", "skip"):
            raise ValueError(
                f"routing settings: closed_location must be 'wait' or 'skip', "
                f"got {self.closed_location!r}"
            )
        n = self.max_packages
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(
                f"routing settings: max_packages must be a whole number >= 1, got {n!r}"
            )
        for name in (
            "same_day_max_miles",
            "bopis_pick_hours",
            "same_day_hours",
            "release_hold_hours",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
                raise ValueError(f"routing settings: {name} must be a number >= 0, got {value!r}")
        if self.demand_rate is not None:
            rate = np.asarray(self.demand_rate, dtype=np.float64)
            if rate.ndim != 1 or not np.all(rate >= 0):
                raise ValueError("routing settings: demand_rate must be a 1-D array >= 0")
            object.__setattr__(self, "demand_rate", rate)
