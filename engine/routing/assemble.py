"""Assemble a `Decision` from the packages a policy chose for one order.

Allocations per package, carrier and handling costs, ship-by times and the delivery
promise, and the reason data kept when `RoutingSettings.keep_reasons` is on. Used by
`Router.route` and by the batch short cut (`routing.batch`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from engine.order import Order, OrderStatus
from engine.routing.context import Plan, RoutingContext
from engine.routing.decision import Allocation, Decision

if TYPE_CHECKING:
    from engine.routing.router import Router

__all__ = ["decision_from_packages", "decision_from_plan"]

_ROUTED = OrderStatus.ROUTED  # (a global: an enum member read from its class costs more)


def decision_from_plan(
    router: Router,
    order: Order,
    at: datetime,
    ts: float,
    ctx: RoutingContext,
    plan: Plan,
    policy: str,
    open_mask: np.ndarray,
    unknown: tuple[tuple[str, int], ...],
) -> Decision:
    """The `Decision` of a policy's `plan` for the order in `ctx`.

    Units the plan leaves short, and `unknown` (SKUs the ledger does not hold, with their
    units), are unfulfillable; without `RoutingSettings.allow_partial` an order with any
    such units gets no packages at all.

    Args:
        router: The router that routed the order.
        order: The order.
        at: Routing time, aware UTC.
        ts: `at` as a POSIX timestamp. [s]
        ctx: The order's routing context.
        plan: The policy's plan.
        policy: Name of the policy that made the plan.
        open_mask: Which locations are open at `at`, bool (L,).
        unknown: `(sku, units)` of SKUs not in the ledger.
    """
    packages = [(row, take.tolist()) for row, take in plan.packages]
    short = ctx.qty.tolist()
    for _, take in packages:
        short = [a - b for a, b in zip(short, take, strict=True)]
    if packages and (any(short) or unknown) and not router.settings.allow_partial:
        packages, short = [], ctx.qty.tolist()
    skus = ctx.skus
    unfulfillable = tuple((skus[j], q) for j, q in enumerate(short) if q)
    return decision_from_packages(
        router, order, at, ts, policy, skus, packages, ctx.dist, ctx.ships, open_mask,
        unfulfillable + unknown, plan.notes, _reason_data(router, ctx, plan),
    )  # fmt: skip


def decision_from_packages(
    router: Router,
    order: Order,
    at: datetime,
    ts: float,
    policy: str,
    skus: tuple[str, ...],
    packages: list[tuple[int, list[int]]],
    dist: np.ndarray,
    ships: bool,
    open_mask: np.ndarray,
    unfulfillable: tuple[tuple[str, int], ...],
    notes: tuple[str, ...] = (),
    reasons: tuple = (None, None, None, None),
) -> Decision:
    """The `Decision` of `packages` (location row, units per SKU of `skus`): allocations,
    carrier cost (when `ships`) at the miles in `dist`, handling, ship-by and promise.

    Args:
        router: The router whose rates, handling costs and ship times apply.
        order: The order; its history numbers the decision (``"<order id>-D<n>"``).
        at: Routing time, aware UTC.
        ts: `at` as a POSIX timestamp. [s]
        policy: Name of the policy that chose the packages.
        skus: The SKUs the units in `packages` are of.
        packages: `(location row, units per SKU of skus)` per package, in package order.
        dist: Miles from the destination (the pickup store for BOPIS) per location. [mi]
        ships: Whether a carrier ships the packages (not BOPIS).
        open_mask: Which locations are open at `at`, bool (L,).
        unfulfillable: `(sku, units)` no location supplies.
        notes: The policy's reason codes.
        reasons: `(base codes and filter steps, ranking, distances, fillable units)`, or
            four Nones when reasons are not kept.
    """
    allocations: list[Allocation] = []
    ship_by: list[datetime] = []
    latest = -np.inf
    shipping = handling = 0.0
    method = order.method
    ship_times = router._ship_times
    for p, (row, take) in enumerate(packages):
        loc_id = router._ids[row]
        units = 0
        for j, q in enumerate(take):
            if q:
                allocations.append(Allocation(loc_id, skus[j], q, p))
                units += q
        miles = float(dist[row])
        if ships:
            shipping += router.rates.package_cost(miles, units)
        handling += router._hpo_l[row] + router._hpu_l[row] * units
        start, arrive = ship_times.estimate(row, ts, bool(open_mask[row]), method, miles)
        ship_by.append(ship_times.as_datetime(start))
        if arrive > latest:  # (`max`, without the call)
            latest = arrive
    n_routed = 0
    for h in order.history:  # (a loop: no generator for the usual history of one entry)
        if h[1] is _ROUTED:
            n_routed += 1
    steps, ranking, distance, fillable = reasons
    return Decision(
        f"{order.id}-D{n_routed + 1}", order.id, policy, at, tuple(allocations),
        unfulfillable, shipping + handling, shipping, handling,
        ship_times.as_datetime(latest) if allocations else None, tuple(ship_by),
        notes, _location_ids=router._ids, _steps=steps, _ranking=ranking, _distance=distance,
        _fillable=fillable, _edits=len(order.edits),
    )  # fmt: skip


def _reason_data(router: Router, ctx: RoutingContext, plan: Plan) -> tuple:
    """What `Decision.reasons` is built from, or four Nones unless reasons are kept."""
    if not router.settings.keep_reasons:
        return None, None, None, None
    fillable = np.minimum(ctx.ats_t, ctx.qty[:, None]).sum(axis=0)  # (L,) [units]
    return (ctx.base_codes, ctx.steps), plan.ranking, ctx.dist, fillable
