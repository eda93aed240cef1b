"""An order-level forecast LP over a sample of recent orders, for dual prices that see
packages.

The region x SKU transportation LP (`TransportModel`) prices a unit by what re-sourcing it
would cost per unit, but in multi-item fulfilment the expensive consequence of running out
is an extra package. Following the order-type DLP of Jasin & Sinha (2015), this LP keeps
orders whole: the last `K` orders routed stand for the `N` orders expected over the rest of
the horizon (each weighs `N / K`), and

    min  sum_{q,l} F[l] y[q, l] + sum_{q,j,l} qty_j c[q, l] x[q, j, l] + P sum qty_j u[q, j]
    s.t. sum_l x[q, j, l] + u[q, j] = 1                 every sampled line shipped or not
         x[q, j, l] <= y[q, l]                          a package from l if a line uses l
         sum_{q,j: sku s} qty_j x[q, j, l] <= I[l, s] K / N     stock, scaled to the sample
         sum_l y[q, l] + sum_j u[q, j] >= m_q           cover cut (`min_packages`)

The dual of location l's stock row for SKU s is, per real unit, the saving one more unit
there would bring over the horizon, now including the packages it avoids (`N / K` of the
sample objective times `K / N` of the scaled right-hand side cancel). Acimovic & Graves
(2015) use such duals as opportunity costs; this is their method with Jasin & Sinha's
order-level LP. The cover cut (m_q = the fewest locations now stocking all of order q's
lines) keeps the relaxation from splitting orders fractionally for free. The model is
rebuilt at every solve (the sample changes).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from engine.routing.lp.cover import min_packages
from engine.routing.lp.solver import LinearProgram, SolverFactory, csc
from engine.routing.lp.transport import TransportModel

__all__ = ["OrderSample"]


class OrderSample:
    """The last `size` orders (LP region, ledger SKU columns, quantities) and their LP.

    Args:
        model: The transport model whose regions, locations and costs are reused.
        size: Orders kept, K.
    """

    def __init__(self, model: TransportModel, size: int = 1000) -> None:
        self.model = model
        self.orders: deque[tuple[int, np.ndarray, np.ndarray]] = deque(maxlen=int(size))

    def add(self, region: int, sku_idx: np.ndarray, qty: np.ndarray) -> None:
        """Remember one routed order."""
        self.orders.append((region, np.asarray(sku_idx), np.asarray(qty)))

    def __len__(self) -> int:
        return len(self.orders)

    def prices(
        self,
        inventory: np.ndarray,
        remaining_orders: float,
        solver: SolverFactory,
        time_limit_s: float,
    ) -> tuple[np.ndarray, float]:
        """Solve the sample LP; returns opportunity costs (L, S) and the solve time.

        Args:
            inventory: Units available per network row and ledger SKU (L, S). [units]
            remaining_orders: Orders expected over the rest of the horizon, N. [orders]
            solver: LP model factory.
            time_limit_s: Time limit. [s]

        Raises:
            SolverError: The solver failed or hit its time limit.
        """
        m = self.model
        rows_l = m.rows  # network rows of shipping locations (Ls,)
        inv = np.maximum(inventory[rows_l].astype(np.float64), 0.0)  # (Ls, S)
        k = len(self.orders)
        region = np.array([r for r, _, _ in self.orders], dtype=np.int64)
        n_lines = np.array([s.size for _, s, _ in self.orders], dtype=np.int64)
        line_q = np.repeat(np.arange(k), n_lines)
        line_s = np.concatenate([s for _, s, _ in self.orders]).astype(np.int64)
        line_n = np.concatenate([q for _, _, q in self.orders]).astype(np.float64)
        n_line = line_s.size
        ok = (inv[:, line_s] >= line_n).T & m.arc[region[line_q]]  # (lines, Ls)
        xj, xl = np.nonzero(ok)
        n_x = xj.size
        ykey = np.unique(line_q[xj] * rows_l.size + xl)
        n_y = ykey.size
        y_of = np.searchsorted(ykey, line_q[xj] * rows_l.size + xl)
        n_s = inv.shape[1]
        stock_key = np.unique(xl * n_s + line_s[xj])
        n_st = stock_key.size
        st_of = np.searchsorted(stock_key, xl * n_s + line_s[xj])
        # columns: x (n_x), y (n_y), u (n_line); rows: lines, links, stock
        cost = np.concatenate(
            [
                line_n[xj] * m.unit[region[line_q[xj]], xl],
                m.fee[ykey % rows_l.size],
                m.penalty * line_n,
            ]
        )
        x_col, link = np.arange(n_x), n_line + np.arange(n_x)
        u_col = n_x + n_y + np.arange(n_line)
        cover_row = n_line + n_x + n_st
        stocked = inv >= 1.0
        m_q = min_packages(line_q, line_s, k, stocked).astype(np.float64)
        rows = np.concatenate(
            [xj, link, n_line + n_x + st_of, link, np.arange(n_line)]
            + [cover_row + ykey // rows_l.size, cover_row + line_q]
        )
        cols = np.concatenate([x_col, x_col, x_col, n_x + y_of, u_col, n_x + np.arange(n_y), u_col])
        vals = np.concatenate(
            [np.ones(n_x), np.ones(n_x), line_n[xj], -np.ones(n_x), np.ones(n_line)]
            + [np.ones(n_y), np.ones(n_line)]
        )
        n_cols = n_x + n_y + n_line
        start, index, value = csc(n_cols, rows, cols, vals)
        scale = k / max(remaining_orders, 1e-9)
        cap = inv.ravel()[stock_key] * scale
        lo = np.concatenate([np.ones(n_line), np.full(n_x, -np.inf), np.full(n_st, -np.inf), m_q])
        hi = np.concatenate([np.ones(n_line), np.zeros(n_x), cap, np.full(k, np.inf)])
        lp = LinearProgram(cost, start, index, value, lo, hi)
        model = solver()
        model.load(lp)
        sol = model.solve(time_limit_s)
        price = np.zeros(inventory.shape)
        duals = np.maximum(-sol.row_dual[n_line + n_x : n_line + n_x + n_st], 0.0)
        price[rows_l[stock_key // n_s], stock_key % n_s] = duals
        return price, sol.seconds
