"""`lookahead`: myopic cost plus the opportunity cost of the units used, priced by LP duals.

Acimovic & Graves (2015), "Making better fulfillment decisions on the fly in an online
retail environment", M&SOM 17(1): solve an LP of the expected demand over the rest of the
horizon against the current inventory; the dual value `pi[l, s]` of location l's inventory
row for SKU s is what one more unit there would save in the future. Each order then takes
the split minimising

    package fees + handling + sum over units (shipping cost + w * pi[location, sku])

(`priced_split`, `w` = `price_weight`). The LP is re-solved every `resolve_every` orders
(or `resolve_hours`), so prices follow the inventory as it is used. They report this
closes about 36% of the gap between myopic routing and a perfect-hindsight bound.

Three price sources are available (`lp`):

* "transport": Acimovic & Graves' region x SKU transportation LP (`TransportModel`);
* "orders" (default): the same idea on an order-level LP over the last `sample_orders`
  orders (`OrderSample`, Jasin & Sinha's order-type DLP), whose duals also count the
  packages a unit saves; until `min_sample` orders were seen, orders are routed with
  `cost` (reason code "lookahead:warmup");
* "hybrid": the weighted transportation duals plus the order-level duals.
"""

from __future__ import annotations

from typing import Any

from engine.errors import RoutingError
from engine.routing.context import Plan, RoutingContext, check_package_limit, package_limit
from engine.routing.lp.base import LpPolicy, with_notes
from engine.routing.lp.pricing import priced_split
from engine.routing.lp.sample import OrderSample
from engine.routing.lp.solver import SolverError, central_solver
from engine.routing.lp.transport import TransportModel, TransportSolution

__all__ = ["LookaheadPolicy"]


class LookaheadPolicy(LpPolicy):
    """Immediate cost plus dual-priced opportunity cost (Acimovic & Graves 2015).

    Args:
        lp: "orders" (order-level LP over recent orders), "transport" (region x SKU) or
            "hybrid" (both).
        sample_orders: Recent orders in the order-level LP, K. [orders]
        min_sample: Orders seen before the order-level LP prices anything; until then
            orders are routed with `cost`. [orders]
        price_weight: Multiplier on the transportation LP's duals (1 = as solved). [-]
        packages: With `lp="transport"`, price with the duals of the LP with package
            variables (Jasin & Sinha's region-level DLP).
        max_packages: Package limit; None uses `RoutingSettings.max_packages`.
        **params: `LpPolicy` parameters (resolve_every, window_hours, until, ...). Here
            `time_limit_s` defaults to 30 s, and unless `solver` is given the order-level
            LP is solved by interior point ("ipm") and the transportation LP by simplex.
    """

    name = "lookahead"
    description = "Landed cost plus LP dual prices of expected future demand (Acimovic & Graves)."

    def __init__(
        self,
        lp: str = "orders",
        sample_orders: int = 1000,
        min_sample: int = 200,
        price_weight: float = 1.0,
        packages: bool = False,
        max_packages: int | None = None,
        **params: Any,
    ) -> None:
        if lp not in ("orders", "transport", "hybrid"):
            raise RoutingError(
                f"policy 'lookahead': lp must be 'transport', 'orders' or 'hybrid', not {lp!r}"
            )
        params.setdefault("time_limit_s", 30.0)
        explicit = params.get("solver")
        super().__init__(**params)
        # the order-level LP is rebuilt at every solve (no warm start to keep) and is very
        # degenerate: the interior point method solves it several times faster
        self.sample_solver = central_solver if explicit in (None, "ipm") else self.solver
        self.lp = lp
        self.sample_orders = int(sample_orders)
        self.min_sample = int(min_sample)
        self.packages = bool(packages)
        self.price_weight = float(price_weight)
        self.max_packages = check_package_limit(self.name, max_packages)
        self._sample: OrderSample | None = None
        self._warming = False

    def fallback_notes(self) -> tuple[str, ...]:
        return ("lookahead:warmup",) if self._warming else super().fallback_notes()

    def _resolve(self, ctx: RoutingContext, model: TransportModel) -> None:
        if self._sample is None or self._sample.model is not model:
            self._sample = OrderSample(model, self.sample_orders)
        ready = len(self._sample) >= max(self.min_sample, 1)
        self._warming = self.lp == "orders" and not ready
        if self._warming:  # no prices yet: route with `cost` until the next re-solve
            self._since, self._last_ts = 0, ctx.at.timestamp()
            self.solution, self.failure = None, None
            return
        if self.lp != "orders":  # transport LP duals, weighted
            super()._resolve(ctx, model)
            if self.solution is not None:
                self.solution.price *= self.price_weight
            if self.lp == "transport" or not ready or self.solution is None:
                return
        ats = ctx.ledger.ats(ctx.order.channel.value)
        inventory = ats if ctx.ledger_rows is None else ats[ctx.ledger_rows]
        remaining = float(self.rates(ctx).sum()) / self.units_per_order()
        remaining *= self.remaining_days(ctx.at)
        self._since, self._last_ts = 0, ctx.at.timestamp()
        try:
            price, seconds = self._sample.prices(
                inventory, remaining, self.sample_solver, self.time_limit_s
            )
        except SolverError as exc:
            self.solution, self.failure = None, exc.reason
            self.failures += 1
            return
        if self.lp == "orders":
            self.solution = TransportSolution(price, None, 0.0, seconds)
            self.failure = None
            self.solves += 1
        else:  # hybrid: weighted transport duals plus order-level duals
            assert self.solution is not None
            self.solution.price += price
            self.solution.seconds += seconds

    def choose(self, ctx: RoutingContext) -> Plan:
        plan = super().choose(ctx)
        if self.lp == "orders" and ctx.ships:
            if self._sample is None and self._model is not None:
                self._sample = OrderSample(self._model, self.sample_orders)
            if self._sample is not None:
                order = ctx.order
                r = self._sample.model.regions.region_of(
                    ctx.region_code, order.dest_lat, order.dest_lon
                )
                self._sample.add(r, ctx.sku_idx, ctx.qty)
        return plan

    def guided(self, ctx: RoutingContext, model: TransportModel, sol: TransportSolution) -> Plan:
        extra = sol.price[:, ctx.sku_idx]
        limit = package_limit(ctx, self.max_packages)
        ranking, packages, _ = priced_split(ctx, extra, limit)
        return with_notes(Plan(ranking, packages), (f"lookahead:lp{self.solves}",))
