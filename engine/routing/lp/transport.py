"""The forecast transportation LP shared by the `lookahead` and `lp_rounding` policies.

Expected remaining demand `D[r, s]` (region r, SKU s) is matched against the inventory
`I[l, s]` of the shipping locations:

    min  sum c[l, r] x[l, r, s] + p sum u[r, s]  (+ F sum z[r, l] with packages)
    s.t. sum_r x[l, r, s]          <= I[l, s]     inventory rows (dual -> opportunity cost)
         sum_l x[l, r, s] + u[r, s] = D[r, s]     demand rows
         x[l, r, s] - z[r, l]       <= 0          with packages: a package per unit line
         sum_l z[r, l]              >= N[r]       with packages: >= 1 package per order

`c` is the per-unit shipping and handling cost, `p` the unfilled-unit penalty and `F` the
package fee plus handling per order. Without packages this is the LP of Acimovic & Graves
(2015); with them it is the region-aggregated deterministic LP of Jasin & Sinha (2015),
where `z[r, l]` counts packages from l to region r (a package holds at most one unit of a
SKU when lines are single units, hence `z >= x`).

Regions beyond `max_regions` are merged into the nearest of the most populous ones; each
region keeps arcs to its `max_arcs` cheapest locations. The model is built once and
re-solved with new row bounds (warm start); it is rebuilt when stock appears somewhere new.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.location import Capability
from engine.network import Network, haversine_miles
from engine.rates import RateCard
from engine.routing.lp.solver import LinearProgram, LpModel, SolverError, SolverFactory, csc

__all__ = ["RegionMap", "TransportModel", "TransportSolution", "unfilled_penalty"]


def unfilled_penalty(rates: RateCard, network: Network, rows: np.ndarray | None = None) -> float:
    """Cost of an unfilled unit: twice the package fee plus the unit cost at the longest
    region-to-location distance (Jasin & Sinha 2015). [USD/unit]

    Args:
        rates: Rate card.
        network: Locations and demand regions (without regions: location-to-location).
        rows: Shipping location rows to measure distances to; default all.
    """
    rows = np.arange(len(network.locations)) if rows is None else rows
    if network.regions:
        miles = network.region_distances()[:, rows]
    else:
        lat, lon = network.lat[rows], network.lon[rows]
        miles = haversine_miles(lat[:, None], lon[:, None], lat[None], lon[None])
    far = float(np.max(miles)) if np.size(miles) else 0.0
    return 2.0 * rates.per_package + float(rates.unit_costs(np.array([far]))[0])


@dataclass(frozen=True)
class RegionMap:
    """Demand regions as LP regions (merged when there are too many).

    Attributes:
        of_code: LP region of each network region code (R,).
        weight: Demand share per LP region (R',), sums to 1.
        miles: Miles from each LP region to each network location (R', L). [mi]
        lat, lon: LP region coordinates (R',). [deg]
    """

    of_code: np.ndarray
    weight: np.ndarray
    miles: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    @classmethod
    def of(cls, network: Network, max_regions: int) -> RegionMap:
        """Build from the network's regions; an empty network gets one region per location."""
        regions = network.regions
        if not regions:
            lat, lon = network.lat.copy(), network.lon.copy()
            w = np.full(lat.size, 1.0 / max(lat.size, 1))
        else:
            lat = np.array([r.lat for r in regions])
            lon = np.array([r.lon for r in regions])
            w = np.array([r.weight for r in regions], dtype=np.float64)
            w = w / w.sum() if w.sum() > 0 else np.full(w.size, 1.0 / w.size)
        if lat.size > max_regions:
            hubs = np.sort(np.argsort(-w, kind="stable")[:max_regions])
            d = haversine_miles(lat[:, None], lon[:, None], lat[hubs][None], lon[hubs][None])
            of_code = np.argmin(d, axis=1)
            weight = np.bincount(of_code, weights=w, minlength=hubs.size)
            lat, lon = lat[hubs], lon[hubs]
        else:
            of_code, weight = np.arange(lat.size), w
        miles = haversine_miles(lat[:, None], lon[:, None], network.lat[None], network.lon[None])
        miles = np.asarray(miles, dtype=np.float64).reshape(lat.size, len(network.locations))
        return cls(of_code, weight, miles, lat, lon)

    def region_of(self, code: int, lat: float, lon: float) -> int:
        """LP region of an order: by its network region code, else the nearest one."""
        if 0 <= code < self.of_code.size:
            return int(self.of_code[code])
        return int(np.argmin(haversine_miles(lat, lon, self.lat, self.lon)))


@dataclass
class TransportSolution:
    """One solve of the forecast LP.

    Attributes:
        price: Opportunity cost per unit at each network row and ledger SKU, float (L, S),
            minus the inventory-row duals (>= 0; 0 where nothing is stocked). [USD/unit]
        flow: Units shipped per (LP region, SKU, network row), float (R', S, L), or None
            when not requested.
        objective: LP objective. [USD]
        seconds: Solve time. [s]
    """

    price: np.ndarray
    flow: np.ndarray | None
    objective: float
    seconds: float


class TransportModel:
    """Builds, caches and re-solves the forecast LP for one network.

    Args:
        network: Locations and regions.
        rates: Rate card (unit costs, package fee).
        handling: `(per_order, per_unit)` handling arrays (L,). [USD]
        solver: Creates the LP model.
        penalty: Unfilled-unit penalty; default `unfilled_penalty`. [USD/unit]
        packages: Add package variables (Jasin & Sinha's DLP).
        max_regions: Most LP regions.
        max_arcs: Cheapest locations kept per region.
        max_columns: Largest LP accepted; a bigger one raises `SolverError("too_large")`
            (the policies then route with `cost`) instead of building it. [columns]
    """

    def __init__(
        self,
        network: Network,
        rates: RateCard,
        handling: tuple[np.ndarray, np.ndarray],
        solver: SolverFactory,
        penalty: float | None = None,
        packages: bool = False,
        max_regions: int = 100,
        max_arcs: int = 12,
        max_columns: int = 400_000,
    ) -> None:
        self.network = network
        self.rows = np.flatnonzero(network.can[Capability.SHIP])
        self.regions = RegionMap.of(network, max_regions)
        hpo, hpu = handling
        miles = self.regions.miles[:, self.rows]  # (R', Ls)
        self.unit = rates.unit_costs(miles) + hpu[self.rows][None, :]  # (R', Ls)
        self.fee = rates.per_package + hpo[self.rows]  # (Ls,)
        self.penalty = unfilled_penalty(rates, network, self.rows) if penalty is None else penalty
        self.packages = packages
        keep = np.argsort(self.unit, axis=1, kind="stable")[:, :max_arcs]
        self.arc = np.zeros(self.unit.shape, dtype=bool)
        np.put_along_axis(self.arc, keep, True, axis=1)
        self._solver = solver
        self.max_columns = int(max_columns)
        self._model: LpModel | None = None
        self._support: np.ndarray | None = None  # bool (Ls, S)

    def _build(self, support: np.ndarray) -> None:
        """Pass the model for stock `support` (Ls, S) to a fresh solver."""
        n_r = self.unit.shape[0]
        n_l, n_s = support.shape
        li, si = np.nonzero(support)  # inventory rows, in this order
        n_inv = li.size
        inv_of = np.full((n_l, n_s), -1, dtype=np.int64)
        inv_of[li, si] = np.arange(n_inv)
        # x columns: (inventory row, region) where the arc is kept
        ok = self.arc[:, li].T  # (n_inv, R')
        ci, cr = np.nonzero(ok)
        if ci.size > self.max_columns:
            raise SolverError("too_large", f"{ci.size:,} columns > {self.max_columns:,}")
        xl, xs = li[ci], si[ci]
        n_x, n_dem = ci.size, n_r * n_s
        dem_row = n_inv + cr * n_s + xs
        cols = [np.arange(n_x), np.arange(n_x)]
        rows = [ci, dem_row]
        vals = [np.ones(n_x), np.ones(n_x)]
        cost = [self.unit[cr, xl], np.full(n_dem, self.penalty)]
        u_col = n_x + np.arange(n_dem)
        cols.append(u_col)
        rows.append(n_inv + np.arange(n_dem))
        vals.append(np.ones(n_dem))
        n_rows = n_inv + n_dem
        n_cols = n_x + n_dem
        if self.packages:
            z_of = np.arange(n_r * n_l).reshape(n_r, n_l) + n_cols
            link = n_rows + np.arange(n_x)
            cols += [np.arange(n_x), z_of[cr, xl]]
            rows += [link, link]
            vals += [np.ones(n_x), -np.ones(n_x)]
            order_row = n_rows + n_x + np.repeat(np.arange(n_r), n_l)
            cols.append(z_of.ravel())
            rows.append(order_row)
            vals.append(np.ones(n_r * n_l))
            cost.append(np.tile(self.fee, n_r))
            n_cols += n_r * n_l
            n_rows += n_x + n_r
        start, index, value = csc(
            n_cols, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        )
        self._n_inv, self._n_dem, self._n_x = n_inv, n_dem, n_x
        self._inv_li, self._inv_si = li, si
        self._x = (xl, cr, xs)
        lo, hi = self._bounds(np.zeros((n_l, n_s)), np.zeros((n_r, n_s)), np.zeros(n_r))
        model = self._solver()
        model.load(LinearProgram(np.concatenate(cost), start, index, value, lo, hi))
        self._model, self._support = model, support.copy()

    def _bounds(
        self, inventory: np.ndarray, demand: np.ndarray, orders: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        inv = inventory[self._inv_li, self._inv_si]
        dem = demand.ravel()
        lo = [np.full(self._n_inv, -np.inf), dem]
        hi = [inv, dem]
        if self.packages:
            lo += [np.full(self._n_x, -np.inf), orders]
            hi += [np.zeros(self._n_x), np.full(orders.size, np.inf)]
        return np.concatenate(lo), np.concatenate(hi)

    def solve(
        self,
        inventory: np.ndarray,
        demand: np.ndarray,
        time_limit_s: float,
        orders: np.ndarray | None = None,
        want_flow: bool = False,
    ) -> TransportSolution:
        """Solve for the current stock and expected demand.

        Args:
            inventory: Units available per network row and ledger SKU (L, S). [units]
            demand: Expected remaining units per LP region and SKU (R', S). [units]
            time_limit_s: Solver time limit. [s]
            orders: Expected remaining orders per LP region (R',), with packages. [orders]
            want_flow: Also return the flows (R', S, L).

        Raises:
            SolverError: The solver failed or hit its time limit.
        """
        inv = np.maximum(inventory[self.rows].astype(np.float64), 0.0)
        support = inv > 0
        if self._support is None or (support & ~self._support).any():
            self._build(support | (self._support if self._support is not None else False))
        assert self._model is not None
        n_r = self.unit.shape[0]
        orders = np.zeros(n_r) if orders is None else np.asarray(orders, dtype=np.float64)
        lo, hi = self._bounds(inv, np.asarray(demand, dtype=np.float64), orders)
        self._model.set_row_bounds(lo, hi)
        sol = self._model.solve(time_limit_s)
        n_net, n_s = len(self.network.locations), inventory.shape[1]
        price = np.zeros((n_net, n_s))
        duals = np.maximum(-sol.row_dual[: self._n_inv], 0.0)
        price[self.rows[self._inv_li], self._inv_si] = duals
        flow = None
        if want_flow:
            xl, cr, xs = self._x
            flow = np.zeros((n_r, n_s, n_net))
            np.add.at(flow, (cr, xs, self.rows[xl]), sol.x[: self._n_x])
        return TransportSolution(price, flow, sol.objective, sol.seconds)
