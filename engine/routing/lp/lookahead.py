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

Two LPs are available (`lp`):

* "transport": Acimovic & Graves' region x SKU transportation LP (`TransportModel`);
* "orders" (default): the same idea on an order-level LP over the last `sample_orders`
  orders (`OrderSample`, Jasin & Sinha's order-type DLP), whose duals also count the
  packages a unit saves; until enough orders were seen, the transportation LP is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import RoutingError
from engine.routing.context import Plan, RoutingContext
from engine.routing.lp.base import LpPolicy, with_notes
from engine.routing.lp.pricing import priced_split
from engine.routing.lp.sample import OrderSample
from engine.routing.lp.solver import SolverError
from engine.routing.lp.transport import TransportModel, TransportSolution

__all__ = ["LookaheadPolicy"]


class LookaheadPolicy(LpPolicy):
    """Immediate cost plus dual-priced opportunity cost (Acimovic & Graves 2015).

    Args:
        lp: "orders" (order-level LP over recent orders) or "transport" (region x SKU).
        sample_orders: Recent orders in the order-level LP, K. [orders]
        min_sample: Orders seen before the order-level LP replaces the transport LP.
        price_weight: Multiplier on the opportunity costs (1 = the LP's duals). [-]
        smoothing: Weight of the previous prices in an exponential moving average over
            re-solves (0 = use each solve's duals as they are); degenerate LPs jump between
            dual vertices, and averaging steadies the prices. [-]
        binding_fee: Share of the package fee added to the price of a unit whose stock row
            binds (dual > 0): running short there is likely to split a later order. [-]
        packages: With `lp="transport"`, price with the duals of the LP with package
            variables (Jasin & Sinha's region-level DLP).
        max_packages: Package limit; None uses `RoutingSettings.max_packages`.
        **params: `LpPolicy` parameters (resolve_every, window_hours, until, ...).
    """

    name = "lookahead"

    def __init__(
        self,
        lp: str = "orders",
        sample_orders: int = 1000,
        min_sample: int = 200,
        price_weight: float = 1.0,
        binding_fee: float = 0.0,
        smoothing: float = 0.0,
        packages: bool = False,
        max_packages: int | None = None,
        **params: Any,
    ) -> None:
        if lp not in ("orders", "transport"):
            raise RoutingError(
                f"policy 'lookahead': lp must be 'orders' or 'transport', not {lp!r}"
            )
        super().__init__(**params)
        self.lp = lp
        self.sample_orders = int(sample_orders)
        self.min_sample = int(min_sample)
        self.packages = bool(packages)
        self.price_weight = float(price_weight)
        self.binding_fee = float(binding_fee)
        if not 0.0 <= smoothing < 1.0:
            raise RoutingError("policy 'lookahead': smoothing must be in [0, 1)")
        self.smoothing = float(smoothing)
        self._avg: np.ndarray | None = None
        self._avg_of: int = -1
        self.max_packages = max_packages
        self._sample: OrderSample | None = None

    def _resolve(self, ctx: RoutingContext, model: TransportModel) -> None:
        if self.lp != "orders":
            return super()._resolve(ctx, model)
        if self._sample is None or self._sample.model is not model:
            self._sample = OrderSample(model, self.sample_orders)
        if len(self._sample) < self.min_sample:
            return super()._resolve(ctx, model)
        ats = ctx.ledger.ats(ctx.order.channel.value)
        inventory = ats if ctx.ledger_rows is None else ats[ctx.ledger_rows]
        days = self.remaining_days(ctx.at)
        remaining = float(self.rates(ctx).sum()) / self.units_per_order() * days
        self._since, self._last_ts = 0, ctx.at.timestamp()
        try:
            price, seconds = self._sample.prices(
                inventory, remaining, self.solver, self.time_limit_s
            )
            self.solution = TransportSolution(price, None, 0.0, seconds)
            self.failure = None
            self.solves += 1
        except SolverError as exc:
            self.solution, self.failure = None, exc.reason
            self.failures += 1

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

    def _prices(self, sol: TransportSolution) -> np.ndarray:
        """The solve's prices, averaged over re-solves when `smoothing` > 0."""
        if not self.smoothing:
            return sol.price
        if self._avg_of != self.solves:
            a = self.smoothing
            same = self._avg is not None and self._avg.shape == sol.price.shape
            self._avg = a * self._avg + (1 - a) * sol.price if same else sol.price.copy()
            self._avg_of = self.solves
        return self._avg

    def guided(self, ctx: RoutingContext, model: TransportModel, sol: TransportSolution) -> Plan:
        pi = self._prices(sol)[:, ctx.sku_idx]
        extra = pi * self.price_weight
        if self.binding_fee:
            extra = extra + (pi > 1e-6) * (self.binding_fee * ctx.rates.per_package)
        limit = ctx.max_packages if self.max_packages is None else self.max_packages
        ranking, packages, _ = priced_split(ctx, extra, limit)
        return with_notes(Plan(ranking, packages), (f"lookahead:lp{self.solves}",))
