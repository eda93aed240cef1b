"""What the LP-guided policies share: the demand forecast, the re-solve cadence and the
fall-back to the myopic `cost` policy.

A policy re-solves its forecast LP (`TransportModel`) every `resolve_every` orders or
`resolve_hours` hours of routing time, whichever comes first. When a solve fails or hits
its time limit, the policy routes with `cost` until the next successful solve and says so
in the decision's reason codes (`Plan.notes`: "fallback:cost", "solver:<reason>").

Expected remaining demand per region r and SKU s is `w[r] * rate[s] * remaining days`,
with `w` the regions' demand shares and `rate` the daily demand per SKU: the `demand_rate`
parameter, else `RoutingSettings.demand_rate`, else the rate observed so far. Remaining
time is until `until` (the end of the selling season), capped at `window_hours`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import RoutingError
from engine.routing.context import Plan, RoutingContext
from engine.routing.lp.solver import SolverError, SolverFactory, central_solver, default_solver
from engine.routing.lp.transport import TransportModel, TransportSolution
from engine.routing.policies import BUILTIN_POLICIES

if TYPE_CHECKING:
    from engine.network import Network

__all__ = ["LpPolicy", "fallback_plan", "with_notes"]

_HOUR_S = 3600.0
_PLAN_HAS_NOTES = "notes" in {f.name for f in fields(Plan)}


def with_notes(plan: Plan, notes: Sequence[str]) -> Plan:
    """`plan` with reason codes appended to `Plan.notes` (they reach `Decision.notes`)."""
    if not notes or not _PLAN_HAS_NOTES:
        return plan
    return replace(plan, notes=(*plan.notes, *notes))  # type: ignore[attr-defined]


def fallback_plan(ctx: RoutingContext, notes: Sequence[str]) -> Plan:
    """Route with the myopic `cost` policy and attach `notes` as reason codes."""
    return with_notes(BUILTIN_POLICIES["cost"].choose(ctx), notes)


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        if value is not None and value.tzinfo is None:
            raise RoutingError("LP policy: 'until' must be timezone-aware (UTC)")
        return value
    try:
        out = datetime.fromisoformat(str(value))
    except ValueError:
        raise RoutingError(f"LP policy: 'until' must be an ISO datetime, got {value!r}") from None
    if out.tzinfo is None:
        raise RoutingError(f"LP policy: 'until' must include a UTC offset, got {value!r}")
    return out


class LpPolicy:
    """Base of the LP-guided policies (not registered itself).

    Args:
        resolve_every: Re-solve after this many routed orders. [orders]
        resolve_hours: Also re-solve after this much routing time. [h]
        window_hours: Look-ahead horizon of the forecast. [h]
        until: End of the selling season (aware datetime or ISO string); the forecast
            covers `min(until - now, window_hours)`.
        demand_rate: Daily demand per ledger SKU (S,), overriding the settings. [units/day]
        time_limit_s: Time limit of each LP solve. [s]
        penalty: Unfilled-unit penalty in the LP; default twice the package fee plus the
            unit cost at the longest distance (Jasin & Sinha 2015). [USD/unit]
        max_regions: Most LP regions (more are merged into the nearest large one).
        demand_z: Safety factor on the forecast: each region-SKU cell's expected demand
            `D` becomes `D + demand_z * sqrt(D)` (Poisson standard deviations), so stock
            that only covers the mean is priced as scarce. [-]
        solver: "simplex" (default: dual simplex, warm-started), "ipm" (interior point
            without crossover: central, steadier duals), or a factory of the LP model
            (tests inject a failing one).
    """

    name = "lp"
    packages = False

    def __init__(
        self,
        resolve_every: int = 500,
        resolve_hours: float | None = None,
        window_hours: float = 168.0,
        until: datetime | str | None = None,
        demand_rate: Sequence[float] | np.ndarray | None = None,
        time_limit_s: float = 5.0,
        penalty: float | None = None,
        max_regions: int = 100,
        demand_z: float = 0.0,
        solver: SolverFactory | str | None = None,
    ) -> None:
        if resolve_every < 1:
            raise RoutingError(f"policy {self.name!r}: resolve_every must be >= 1")
        if window_hours <= 0 or time_limit_s <= 0:
            raise RoutingError(f"policy {self.name!r}: window_hours and time_limit_s must be > 0")
        self.resolve_every = int(resolve_every)
        self.resolve_hours = resolve_hours
        self.window_hours = float(window_hours)
        self.until = _as_datetime(until)
        self.demand_rate = None if demand_rate is None else np.asarray(demand_rate, float)
        self.time_limit_s = float(time_limit_s)
        self.penalty = penalty
        self.max_regions = int(max_regions)
        self.demand_z = float(demand_z)
        if solver is None or solver == "simplex":
            self.solver: SolverFactory = default_solver
        elif solver == "ipm":
            self.solver = central_solver
        elif callable(solver):
            self.solver = solver
        else:
            raise RoutingError(f"policy {self.name!r}: solver must be 'simplex' or 'ipm'")
        self._network: Network | None = None
        self._model: TransportModel | None = None
        self.solution: TransportSolution | None = None
        self.demand: np.ndarray | None = None
        self.failure: str | None = None
        self.solves = 0
        self.failures = 0
        self._since = 0
        self._last_ts = -np.inf
        self._first_ts: float | None = None
        self._seen_units: np.ndarray | None = None
        self._seen_orders = 0

    # ------------------------------------------------------------------ forecast

    def _observe(self, ctx: RoutingContext) -> None:
        n_s = len(ctx.ledger.skus)
        if self._seen_units is None or self._seen_units.size != n_s:
            self._seen_units = np.zeros(n_s)
        np.add.at(self._seen_units, ctx.sku_idx, ctx.qty)
        self._seen_orders += 1
        if self._first_ts is None:
            self._first_ts = ctx.at.timestamp()

    def rates(self, ctx: RoutingContext) -> np.ndarray:
        """Daily demand per ledger SKU used by the forecast. [units/day]"""
        if self.demand_rate is not None:
            return self.demand_rate
        if ctx.settings.demand_rate is not None:
            return ctx.settings.demand_rate
        assert self._seen_units is not None and self._first_ts is not None
        days = max((ctx.at.timestamp() - self._first_ts) / 86_400.0, 1.0 / 24.0)
        return self._seen_units / days

    def remaining_days(self, at: datetime) -> float:
        """Days of demand the forecast covers from `at`. [days]"""
        hours = self.window_hours
        if self.until is not None:
            hours = min(hours, max((self.until - at).total_seconds() / _HOUR_S, 0.0))
        return hours / 24.0

    def units_per_order(self) -> float:
        """Mean units per order seen so far (at least 1). [units/order]"""
        if self._seen_units is None or not self._seen_orders:
            return 1.0
        return max(float(self._seen_units.sum()) / self._seen_orders, 1.0)

    # ------------------------------------------------------------------ solving

    def _model_for(self, ctx: RoutingContext) -> TransportModel:
        if self._model is None or self._network is not ctx.network:
            self._network = ctx.network
            self._model = TransportModel(
                ctx.network,
                ctx.rates,
                (ctx.handling_per_order, ctx.handling_per_unit),
                self.solver,
                penalty=self.penalty,
                packages=self.packages,
                max_regions=self.max_regions,
            )
            self.solution, self._since, self._last_ts = None, 0, -np.inf
        return self._model

    def _due(self, ctx: RoutingContext) -> bool:
        if self.solution is None and self.failure is None:
            return True
        if self._since >= self.resolve_every:
            return True
        if self.resolve_hours is not None:
            return ctx.at.timestamp() - self._last_ts >= self.resolve_hours * _HOUR_S
        return False

    def _resolve(self, ctx: RoutingContext, model: TransportModel) -> None:
        ats = ctx.ledger.ats(ctx.order.channel.value)
        inventory = ats if ctx.ledger_rows is None else ats[ctx.ledger_rows]
        days = self.remaining_days(ctx.at)
        demand = model.regions.weight[:, None] * self.rates(ctx)[None, :] * days
        if self.demand_z:
            demand = demand + self.demand_z * np.sqrt(demand)
        orders = None
        if self.packages:
            per_day = float(self.rates(ctx).sum()) / self.units_per_order()
            orders = model.regions.weight * per_day * days
        self._since, self._last_ts = 0, ctx.at.timestamp()
        self.demand = demand
        try:
            self.solution = model.solve(
                inventory, demand, self.time_limit_s, orders=orders, want_flow=self.packages
            )
            self.failure = None
            self.solves += 1
        except SolverError as exc:
            self.solution, self.failure = None, exc.reason
            self.failures += 1

    def choose(self, ctx: RoutingContext) -> Plan:
        """Route one order: LP-guided, or with `cost` while the LP is unavailable."""
        if not ctx.ships:
            return fallback_plan(ctx, ())
        self._observe(ctx)
        model = self._model_for(ctx)
        if self._due(ctx):
            self._resolve(ctx, model)
        self._since += 1
        if self.solution is None:
            return fallback_plan(ctx, self.fallback_notes())
        return self.guided(ctx, model, self.solution)

    def fallback_notes(self) -> tuple[str, ...]:
        """Reason codes of a decision routed with `cost` because no LP solution is at hand."""
        return ("fallback:cost", f"solver:{self.failure or 'error'}")

    def guided(self, ctx: RoutingContext, model: TransportModel, sol: TransportSolution) -> Plan:
        """Route with a solved LP (implemented by each policy)."""
        raise NotImplementedError
