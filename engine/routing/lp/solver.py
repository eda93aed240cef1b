"""A thin linear-programming layer over HiGHS (highspy) for the LP-based routing policies.

The policies re-solve the same LP many times with new right-hand sides (inventory left,
demand expected), so the model is passed to HiGHS once as column-wise numpy arrays and
later solves only change row bounds and start from the previous basis (warm start). Every
solve has a time limit; anything short of a proven optimum raises `SolverError`, which the
policies turn into a fall-back to the myopic `cost` policy and a reason code.

`highspy` is imported lazily, so importing the engine does not require it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.errors import RoutingError

__all__ = [
    "HighsModel",
    "LinearProgram",
    "LpModel",
    "LpSolution",
    "SolverError",
    "SolverFactory",
    "central_solver",
    "default_solver",
    "silence_highs_banner",
]

INF = float("inf")


class SolverError(RoutingError):
    """An LP/MIP could not be solved to optimality.

    Attributes:
        reason: "timeout", "infeasible", "unbounded", "unavailable", "too_large" or "error".
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"solver {reason}" + (f": {detail}" if detail else ""))


@dataclass
class LinearProgram:
    """`min cost @ x  s.t.  row_lo <= A x <= row_hi,  col_lo <= x <= col_hi`.

    `A` is given column-wise (CSC): column j holds rows `index[start[j]:start[j+1]]` with
    coefficients `value[start[j]:start[j+1]]`.

    Attributes:
        cost: Objective coefficient per column, float64 (n,).
        start: Column starts, int (n + 1,).
        index: Row index per non-zero, int (nnz,).
        value: Coefficient per non-zero, float64 (nnz,).
        row_lo: Row lower bounds, float64 (m,); -inf allowed.
        row_hi: Row upper bounds, float64 (m,); +inf allowed.
        col_lo: Column lower bounds (default 0).
        col_hi: Column upper bounds (default +inf).
        integer: Columns that must be integer (a MIP), bool (n,), or None.
    """

    cost: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray | None = None
    col_hi: np.ndarray | None = None
    integer: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return int(self.row_lo.size), int(self.cost.size)


@dataclass
class LpSolution:
    """An optimal solution.

    Attributes:
        x: Column values (n,).
        row_dual: Dual value per row (m,); for a `<=` row of a minimisation it is <= 0 and
            minus it is the marginal value of one more unit of right-hand side.
        objective: Objective value.
        seconds: Wall time of the solve. [s]
    """

    x: np.ndarray
    row_dual: np.ndarray
    objective: float
    seconds: float


class LpModel(Protocol):
    """A loaded model that can be re-solved with new row bounds."""

    def load(self, lp: LinearProgram) -> None:
        """Pass a full model (replaces any previous one)."""
        ...

    def set_row_bounds(self, row_lo: np.ndarray, row_hi: np.ndarray) -> None:
        """Change every row's bounds; the next solve starts from the last basis."""
        ...

    def solve(self, time_limit_s: float) -> LpSolution:
        """Solve to optimality within the time limit, or raise `SolverError`."""
        ...


SolverFactory = Callable[[], LpModel]
"""Creates a fresh `LpModel`; policies take one so tests can inject a failing solver."""

_BANNER_SHOWN = False


def _new_highs() -> Any:
    """A silent `highspy.Highs` (the first instance prints a banner on stdout: hide it)."""
    global _BANNER_SHOWN
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency
        raise SolverError("unavailable", str(exc)) from None
    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        try:
            saved = os.dup(1)
        except OSError:  # no real stdout (e.g. some notebook kernels)
            saved = -1
        if saved >= 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.close(devnull)
        try:
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
        finally:
            if saved >= 0:
                os.dup2(saved, 1)
                os.close(saved)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


class HighsModel:
    """`LpModel` backed by one `highspy.Highs` instance (warm starts between solves).

    Args:
        threads: HiGHS threads (1 keeps runs reproducible and cheap). [threads]
        mip_rel_gap: Relative MIP gap accepted as optimal. [-]
        method: "simplex" (warm-started re-solves, a vertex of the dual optimal face) or
            "ipm" (interior point without crossover: duals near the centre of that face,
            which are steadier when the LP is degenerate, as transportation LPs are).
    """

    def __init__(
        self, threads: int = 1, mip_rel_gap: float = 1e-6, method: str = "simplex"
    ) -> None:
        if method not in ("simplex", "ipm"):
            raise ValueError(f"HighsModel: method must be 'simplex' or 'ipm', got {method!r}")
        self._h: Any = None
        self._m = 0
        self.threads = threads
        self.mip_rel_gap = mip_rel_gap
        self.method = method

    def load(self, lp: LinearProgram) -> None:
        import highspy

        h = _new_highs()
        h.setOptionValue("threads", int(self.threads))
        h.setOptionValue("mip_rel_gap", float(self.mip_rel_gap))
        if self.method == "ipm":
            h.setOptionValue("solver", "ipm")
            h.setOptionValue("run_crossover", "off")
        m, n = lp.shape
        model = highspy.HighsLp()
        model.num_col_, model.num_row_ = n, m
        model.col_cost_ = np.asarray(lp.cost, dtype=np.float64)
        model.col_lower_ = np.zeros(n) if lp.col_lo is None else np.asarray(lp.col_lo, float)
        hi = np.full(n, INF) if lp.col_hi is None else np.asarray(lp.col_hi, float)
        model.col_upper_ = np.where(np.isinf(hi), highspy.kHighsInf, hi)
        model.row_lower_ = np.where(np.isinf(lp.row_lo), -highspy.kHighsInf, lp.row_lo)
        model.row_upper_ = np.where(np.isinf(lp.row_hi), highspy.kHighsInf, lp.row_hi)
        a = model.a_matrix_
        a.format_ = highspy.MatrixFormat.kColwise
        a.start_ = np.asarray(lp.start, dtype=np.int32)
        a.index_ = np.asarray(lp.index, dtype=np.int32)
        a.value_ = np.asarray(lp.value, dtype=np.float64)
        if lp.integer is not None and np.any(lp.integer):
            model.integrality_ = [
                highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous
                for v in np.asarray(lp.integer, dtype=bool)
            ]
        status = h.passModel(model)
        if status == highspy.HighsStatus.kError:
            raise SolverError("error", "HiGHS rejected the model")
        self._h, self._m = h, m

    def set_row_bounds(self, row_lo: np.ndarray, row_hi: np.ndarray) -> None:
        import highspy

        if self._h is None:
            raise SolverError("error", "no model loaded")
        lo = np.where(np.isinf(row_lo), -highspy.kHighsInf, row_lo).astype(np.float64)
        hi = np.where(np.isinf(row_hi), highspy.kHighsInf, row_hi).astype(np.float64)
        self._h.changeRowsBounds(self._m, np.arange(self._m, dtype=np.int32), lo, hi)

    def solve(self, time_limit_s: float) -> LpSolution:
        import highspy

        h = self._h
        if h is None:
            raise SolverError("error", "no model loaded")
        # HiGHS measures time_limit against the instance's total run time, which grows over
        # warm-started re-solves: the limit is set relative to the time used so far.
        h.setOptionValue("time_limit", h.getRunTime() + max(float(time_limit_s), 1e-6))
        t0 = time.perf_counter()
        try:
            h.run()
        except Exception as exc:  # noqa: BLE001 - any HiGHS failure means "no solution"
            raise SolverError("error", str(exc)) from None
        seconds = time.perf_counter() - t0
        status = h.getModelStatus()
        ms = highspy.HighsModelStatus
        if status != ms.kOptimal:
            reason = {
                ms.kTimeLimit: "timeout",
                ms.kIterationLimit: "timeout",
                ms.kInfeasible: "infeasible",
                ms.kUnbounded: "unbounded",
                ms.kUnboundedOrInfeasible: "infeasible",
            }.get(status, "error")
            raise SolverError(reason, h.modelStatusToString(status))
        sol = h.getSolution()
        return LpSolution(
            x=np.asarray(sol.col_value, dtype=np.float64),
            row_dual=np.asarray(sol.row_dual, dtype=np.float64),
            objective=float(h.getInfo().objective_function_value),
            seconds=seconds,
        )


def silence_highs_banner() -> None:
    """Create (and drop) one silent HiGHS instance, so later ones (e.g. pulp's) print no
    banner on stdout; call before solving with pulp when stdout must stay clean (JSON)."""
    _new_highs()


def default_solver() -> LpModel:
    """The default `SolverFactory`: a single-threaded `HighsModel` (dual simplex)."""
    return HighsModel()


def central_solver() -> LpModel:
    """A `SolverFactory` giving central duals: single-threaded interior point, no crossover."""
    return HighsModel(method="ipm")


def csc(
    n_cols: int, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise arrays `(start, index, value)` from coordinate triplets.

    Args:
        n_cols: Number of columns.
        rows, cols, vals: One entry per non-zero (duplicates are kept, HiGHS adds them).
    """
    order = np.argsort(cols, kind="stable")
    counts = np.bincount(cols, minlength=n_cols)
    start = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    return start, np.asarray(rows)[order], np.asarray(vals, dtype=np.float64)[order]
