"""`lookahead`: myopic cost plus the opportunity cost of the units used, priced by LP duals.

Acimovic & Graves (2015), "Making better fulfillment decisions on the fly in an online
retail environment", M&SOM 17(1): solve a transportation LP of the expected demand over the
rest of the horizon against the current inventory; the dual value `pi[l, s]` of location
l's inventory row for SKU s is what one more unit there would save in the future. Each
order then takes the split minimising

    package fees + handling + sum over units (shipping cost + pi[location, sku])

(`priced_split`). The LP is re-solved every `resolve_every` orders (or `resolve_hours`),
so prices follow the inventory as it is used. They report this closes about 36% of the gap
between myopic routing and a perfect-hindsight bound.
"""

from __future__ import annotations

from typing import Any

from engine.routing.context import Plan, RoutingContext
from engine.routing.lp.base import LpPolicy, with_notes
from engine.routing.lp.pricing import priced_split
from engine.routing.lp.transport import TransportModel, TransportSolution

__all__ = ["LookaheadPolicy"]


class LookaheadPolicy(LpPolicy):
    """Immediate cost plus dual-priced opportunity cost (Acimovic & Graves 2015).

    Args:
        price_weight: Multiplier on the opportunity costs (1 = the LP's duals). [-]
        max_packages: Package limit; None uses `RoutingSettings.max_packages`.
        **params: `LpPolicy` parameters (resolve_every, window_hours, until, ...).
    """

    name = "lookahead"

    def __init__(
        self, price_weight: float = 1.0, max_packages: int | None = None, **params: Any
    ) -> None:
        super().__init__(**params)
        self.price_weight = float(price_weight)
        self.max_packages = max_packages

    def guided(self, ctx: RoutingContext, model: TransportModel, sol: TransportSolution) -> Plan:
        extra = sol.price[:, ctx.sku_idx] * self.price_weight
        limit = ctx.max_packages if self.max_packages is None else self.max_packages
        ranking, packages, _ = priced_split(ctx, extra, limit)
        return with_notes(Plan(ranking, packages), (f"lookahead:lp{self.solves}",))
