"""`batch`: periodic re-optimisation of orders not yet released, with a MIP.

Xu, Allgor & Graves (2009), "Benefits of reevaluating real-time order fulfillment decisions",
M&SOM 11(2): orders are assigned in real time (here by a base policy, `closest` by default)
but only released to the locations at intervals; just before a release, all pending orders
are re-assigned together. They found this removed 40-50% of the extra shipments real-time
assignment creates. Open-source order management systems run the same idea as scheduled
"brokering" jobs.

For the pending orders O, their lines j (SKU s_j, quantity q_j) and candidate locations l:

    min  sum_{o,l} (fee_l + w) y[o, l] + sum_{o,j,l} q_j c[o, l] x[o, j, l] + p sum q_j u[o, j]
    s.t. sum_l x[o, j, l] + u[o, j] = 1        every line shipped whole from one place, or not
         x[o, j, l] <= y[o, l]                 a package from l if any line ships from l
         sum_{o,j: s_j = s} q_j x[o, j, l] <= A[l, s]   stock (ATS + the orders' own holds)
         sum_l y[o, l] <= max_packages
         x, y, u binary

`fee` is the package fee plus handling per order, `c` the unit cost, `w` an optional extra
weight per package, `p` the unfilled-unit penalty. Each order's candidates include the
locations of its current assignment, so the current assignment is feasible and the MIP
never does worse. An order whose current assignment splits a line over locations (the MIP
ships lines whole) keeps it and stays out of the MIP, stock included.

The MIP is solved by parts, to the same optimum: orders interact only through stock rows
that can bind, so every order is first solved alone by enumerating its candidate sets,
and only groups of orders (linked by such rows) whose lone plans overdraw the stock go
to the MIP, built with pulp and solved by HiGHS with a time limit. On failure or
time-out the chunk's orders are re-routed with `cost` and the decisions say so. Orders
whose held assignment already is the plan keep it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.location import Capability
from engine.order import DeliveryMethod, Order, OrderStatus
from engine.routing.context import Plan, Policy, RoutingContext
from engine.routing.lp.base import with_notes
from engine.routing.lp.solver import SolverError
from engine.routing.lp.transport import unfilled_penalty
from engine.routing.policies import BUILTIN_POLICIES, get_policy
from engine.routing.ranking import Ranking

if TYPE_CHECKING:
    from engine.routing.decision import Decision
    from engine.routing.router import Router

__all__ = ["BatchOutcome", "BatchPolicy", "MipSolverFactory", "pulp_highs", "reoptimise"]

MipSolverFactory = Callable[[float], Any]
"""`time_limit_s -> pulp solver`; tests inject one that fails."""

_PENDING = (OrderStatus.CREATED, OrderStatus.ROUTED, OrderStatus.REJECTED)
_ENUMERATE_MAX = 12  # most candidates of an order solved alone by enumeration (2^n sets)


def pulp_highs(time_limit_s: float) -> Any:
    """The default MIP solver: pulp's HiGHS (highspy) class, silent, one thread."""
    import pulp

    from engine.routing.lp.solver import silence_highs_banner

    silence_highs_banner()
    return pulp.HiGHS(msg=False, timeLimit=time_limit_s, threads=1, gapRel=1e-3)


@dataclass
class BatchOutcome:
    """What one brokering run did.

    Attributes:
        decisions: The new committed decision of every re-assigned order (orders whose
            held assignment is already the plan keep it and are not listed).
        status: "mip" (optimal), "fallback" (re-routed with `cost`) or "empty".
        reason: Solver failure reason when `status` is "fallback".
        packages_before: Packages of the pending orders' assignments before the run.
        packages_after: Packages after.
        seconds: Planning time (enumeration, MIP build and solve). [s]
    """

    decisions: list[Decision] = field(default_factory=list)
    status: str = "empty"
    reason: str = ""
    packages_before: int = 0
    packages_after: int = 0
    seconds: float = 0.0


class _Forced:
    """Routes the orders of a solved batch as planned; others with a fallback policy."""

    def __init__(
        self,
        plans: dict[str, dict[int, dict[str, int]]],
        fallback: Policy,
        notes: tuple[str, ...],
        fallback_notes: tuple[str, ...] = ("batch:replanned_by_fallback",),
    ) -> None:
        self.name = fallback.name
        self.plans, self.fallback = plans, fallback
        self.notes, self.fallback_notes = notes, fallback_notes

    def choose(self, ctx: RoutingContext) -> Plan:
        plan = self.plans.get(ctx.order.id)
        if plan is not None:  # an empty plan is the MIP's choice (its stock went elsewhere)
            col = {s: j for j, s in enumerate(ctx.skus)}
            packages = []
            for row, lines in plan.items():
                take = np.zeros(len(ctx.skus), dtype=np.int64)
                for sku, q in lines.items():
                    take[col[sku]] = q
                if not ctx.eligible[row] or (ctx.ats[row] < take).any():
                    break
                packages.append((row, take))
            else:
                cand = ctx.candidates()
                return with_notes(Plan(Ranking(cand, [ctx.dist[cand]]), packages), self.notes)
        return with_notes(self.fallback.choose(ctx), self.fallback_notes)


def _splits_a_line(order: Order, held: Decision | None) -> bool:
    """A routed order whose held decision ships one SKU from more than one location."""
    if held is None or order.status is not OrderStatus.ROUTED:
        return False
    skus = [a.sku for a in held.allocations]
    return len(skus) != len(set(skus))


def _pending(router: Router, orders: Sequence[Order]) -> list[Order]:
    return [
        o for o in orders if o.status in _PENDING and o.method is DeliveryMethod.SHIP and o.lines
    ]


@dataclass
class _Candidates:
    """One pending order's side of the batch MIP.

    Attributes:
        order_id: Order id.
        skus: SKU ids of the order's lines (merged per SKU), with `col` their ledger
            columns and `qty` their units (k,).
        rows: Candidate network rows (n,).
        fee: Package fee plus handling and `package_weight` per candidate (n,). [USD]
        cost: Units x unit cost per candidate and line; inf where the candidate cannot
            ship the line whole (n, k). [USD]
        penalty: Cost of leaving each line unfilled (k,). [USD]
        current: The held assignment `{row: {sku: qty}}` (empty if none).
    """

    order_id: str
    skus: list[str]
    col: np.ndarray
    qty: np.ndarray
    rows: np.ndarray
    fee: np.ndarray
    cost: np.ndarray
    penalty: np.ndarray
    current: dict[int, dict[str, int]]


def _candidates(
    router: Router,
    orders: list[Order],
    pool: np.ndarray,
    max_candidates: int,
    package_weight: float,
    exclude: frozenset[str],
) -> list[_Candidates]:
    """Candidate locations and costs of every order (cheapest single centres + current)."""
    net, rates, ledger = router.network, router.rates, router.ledger
    hpo, hpu = rates.handling_arrays(net)
    ship = net.can[Capability.SHIP]
    penalty = unfilled_penalty(rates, net, np.flatnonzero(ship))
    fee = rates.per_package + hpo
    out = []
    for o in orders:
        skus = o.outstanding_by_sku() if o.fulfilled else o.units_by_sku()
        sidx = np.array([ledger.sku_index[s] for s in skus], dtype=np.int64)
        qty = np.array(list(skus.values()), dtype=np.int64)
        held = router.decision_for(o.id)
        current: dict[int, dict[str, int]] = {}
        for a in held.allocations if held else ():
            got = current.setdefault(net.index[a.location], {})
            got[a.sku] = got.get(a.sku, 0) + a.quantity
        dist = net.distances_from(o.dest_lat, o.dest_lon)
        unit = rates.unit_costs(dist) + hpu
        gone = router.excluded(o.id) | exclude
        fits = (pool[:, sidx] >= qty) & ship[:, None]
        fits[[net.index[x] for x in gone if x in net.index]] = False
        single = fee + np.where(fits, unit[:, None] * qty, 1e6).sum(axis=1)
        keep = set(np.argsort(single, kind="stable")[:max_candidates].tolist()) | set(current)
        keep |= set(np.argmin(np.where(fits, unit[:, None], np.inf), axis=0).tolist())
        rows = np.array(sorted(k for k in keep if fits[k].any()), dtype=np.int64)
        cost = np.where(fits[rows], unit[rows, None] * qty, np.inf)
        out.append(
            _Candidates(
                o.id, list(skus), sidx, qty, rows, fee[rows] + package_weight, cost,
                qty * penalty, current,
            )
        )  # fmt: skip
    return out


def _components(
    cands: list[_Candidates], pool: np.ndarray
) -> tuple[list[int], set[tuple[int, int]]]:
    """Groups of orders linked by stock rows that can bind, and those rows `(row, sku col)`.

    A stock row can bind only if the orders that could draw on it want more than the pool
    holds. Orders sharing such a row are in one group; other orders are alone in theirs.

    Returns:
        The group (the index of a representative order) of every order, and the rows.
    """
    keys, units, owner = [], [], []
    ncol = pool.shape[1]
    for i, c in enumerate(cands):
        r, j = np.nonzero(np.isfinite(c.cost))
        keys.append(c.rows[r] * ncol + c.col[j])
        units.append(c.qty[j])
        owner.append(np.full(r.size, i))
    parent = list(range(len(cands)))
    if not keys:
        return parent, set()
    key, unit, who = np.concatenate(keys), np.concatenate(units), np.concatenate(owner)
    uniq, inv = np.unique(key, return_inverse=True)
    binding = np.bincount(inv, weights=unit) > pool.reshape(-1)[uniq]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[int, int] = {}
    for k, i in zip(inv[binding[inv]].tolist(), who[binding[inv]].tolist(), strict=True):
        j = first.setdefault(k, i)
        parent[root(i)] = root(j)
    return [root(i) for i in range(len(cands))], {
        (int(k // ncol), int(k % ncol)) for k in uniq[binding]
    }


def _solve_alone(c: _Candidates, max_packages: int) -> dict[int, dict[str, int]]:
    """The cheapest plan of an order on its own, by enumerating its candidate sets.

    For every set of at most `max_packages` candidates, each line ships from the cheapest
    member that can ship it whole, or stays unfilled; the cheapest set wins. This is the
    MIP restricted to one order with no binding stock row, solved exactly.
    """
    n, k = c.cost.shape
    best = np.empty((1 << n, k))
    fees = np.zeros(1 << n)
    size = np.zeros(1 << n, dtype=np.int64)
    best[0] = c.penalty
    for b in range(n):  # sets containing b as their highest member
        lo, hi = 1 << b, 2 << b
        np.minimum(best[:lo], c.cost[b], out=best[lo:hi])
        fees[lo:hi] = fees[:lo] + c.fee[b]
        size[lo:hi] = size[:lo] + 1
    total = np.where(size <= max_packages, fees + best.sum(axis=1), np.inf)
    mask = int(np.argmin(total))
    members = [b for b in range(n) if mask >> b & 1]
    plan: dict[int, dict[str, int]] = {}
    if not members:
        return plan
    sub = c.cost[members]
    pick = np.argmin(sub, axis=0)
    for j, sku in enumerate(c.skus):
        if sub[pick[j], j] < c.penalty[j]:
            plan.setdefault(int(c.rows[members[pick[j]]]), {})[sku] = int(c.qty[j])
    return plan


def _solve_mip(
    cands: list[_Candidates],
    pool: np.ndarray,
    binding: set[tuple[int, int]],
    max_packages: int,
    solver: MipSolverFactory,
    time_limit_s: float,
) -> dict[str, dict[int, dict[str, int]]]:
    """The batch MIP over coupled orders (only their binding stock rows)."""
    import pulp

    prob = pulp.LpProblem("batch", pulp.LpMinimize)
    obj: list[Any] = []
    stock: dict[tuple[int, int], list[tuple[int, Any]]] = {}
    chosen: dict[str, list[tuple[str, int, int, Any]]] = {}
    for oi, c in enumerate(cands):
        rows = c.rows.tolist()
        y = {loc: prob.add_variable(f"y_{oi}_{loc}", cat="Binary") for loc in rows}
        obj += [float(f) * y[loc] for loc, f in zip(rows, c.fee, strict=True)]
        for j, sku in enumerate(c.skus):
            xs = {}
            q, col = int(c.qty[j]), int(c.col[j])
            for r, loc in enumerate(rows):
                if np.isfinite(c.cost[r, j]):
                    xs[loc] = v = prob.add_variable(f"x_{oi}_{j}_{loc}", cat="Binary")
                    prob += v <= y[loc]
                    obj.append(float(c.cost[r, j]) * v)
                    if (loc, col) in binding:
                        stock.setdefault((loc, col), []).append((q, v))
            u = prob.add_variable(f"u_{oi}_{j}", cat="Binary")
            obj.append(float(c.penalty[j]) * u)
            prob += pulp.lpSum(xs.values()) + u == 1
            chosen.setdefault(c.order_id, []).extend((sku, q, loc, v) for loc, v in xs.items())
        prob += pulp.lpSum(y.values()) <= max_packages
    for key, terms in stock.items():
        prob += pulp.lpSum(q * v for q, v in terms) <= int(pool[key])
    prob += pulp.lpSum(obj)
    try:
        prob.solve(solver(time_limit_s))
    except SolverError:
        raise
    except Exception as exc:  # noqa: BLE001 - any solver failure -> fall back
        raise SolverError("error", str(exc)) from None
    _check_status(prob)
    plans: dict[str, dict[int, dict[str, int]]] = {}
    for c in cands:
        plan: dict[int, dict[str, int]] = {}
        for sku, q, loc, v in chosen.get(c.order_id, []):
            if (v.varValue or 0.0) > 0.5:
                plan.setdefault(loc, {})[sku] = q
        plans[c.order_id] = plan
    return plans


def _build_and_solve(
    router: Router,
    orders: list[Order],
    pool: np.ndarray,
    solver: MipSolverFactory,
    time_limit_s: float,
    max_candidates: int,
    package_weight: float,
    exclude: frozenset[str] = frozenset(),
) -> tuple[dict[str, dict[int, dict[str, int]]], dict[str, dict[int, dict[str, int]]]]:
    """Solve the batch MIP; returns per order `{network row: {sku: qty}}` and the held one.

    The MIP decomposes into groups of orders linked by stock rows that can bind
    (`_components`). Every order is first solved alone by enumeration (`_solve_alone`);
    a group whose plans fit the stock is thereby solved to optimality (its plans are
    optimal without the stock rows and satisfy them), and only the groups whose plans
    overdraw a row go to the MIP together: the same optimum in a fraction of the time.
    """
    cands = _candidates(router, orders, pool, max_candidates, package_weight, exclude)
    limit = router.settings.max_packages
    group, binding = _components(cands, pool)
    mip = {g for g, c in zip(group, cands, strict=True) if c.rows.size > _ENUMERATE_MAX}
    plans = {c.order_id: _solve_alone(c, limit) for c in cands if c.rows.size <= _ENUMERATE_MAX}
    used: dict[tuple[int, int], int] = {}
    users: dict[tuple[int, int], list[int]] = {}
    for g, c in zip(group, cands, strict=True):
        col = dict(zip(c.skus, c.col.tolist(), strict=True))
        for loc, lines in plans.get(c.order_id, {}).items():
            for sku, q in lines.items():
                if (loc, col[sku]) in binding:
                    used[loc, col[sku]] = used.get((loc, col[sku]), 0) + q
                    users.setdefault((loc, col[sku]), []).append(g)
    for k, q in used.items():
        if q > pool[k]:  # the plans alone overdraw this row: its group needs the MIP
            mip.update(users[k])
    tied = [c for g, c in zip(group, cands, strict=True) if g in mip]
    if tied:
        plans.update(_solve_mip(tied, pool, binding, limit, solver, time_limit_s))
    return plans, {c.order_id: c.current for c in cands}


def _check_status(prob: Any) -> None:
    """Raise `SolverError` unless the MIP was solved to (gap) optimality."""
    import pulp

    model = getattr(prob, "solverModel", None)
    if model is not None and hasattr(model, "getModelStatus"):
        import highspy

        status = model.getModelStatus()
        ms = highspy.HighsModelStatus
        if status == ms.kOptimal:
            return
        reason = "timeout" if status in (ms.kTimeLimit, ms.kIterationLimit) else "error"
        raise SolverError(reason, model.modelStatusToString(status))
    if pulp.LpStatus.get(prob.status) != "Optimal":
        raise SolverError("error", f"pulp status {pulp.LpStatus.get(prob.status)}")


def reoptimise(
    router: Router,
    orders: Sequence[Order],
    at: datetime,
    *,
    time_limit_s: float = 10.0,
    max_candidates: int = 8,
    max_orders: int = 400,
    package_weight: float = 0.0,
    solver: MipSolverFactory | None = None,
    exclude: Collection[str] = (),
) -> BatchOutcome:
    """Re-assign pending (not yet released) ship orders together with the batch MIP.

    Nothing changes until a chunk's MIP is solved; then the reservations of the orders
    whose plan differs from their held assignment are given back and those orders are
    re-routed to their planned locations (`Router.reroute`, or `place` for orders never
    routed); the others keep their decision. On solver failure or time-out the chunk's
    orders are re-routed with `cost` and their decisions carry "fallback:cost" and
    "solver:<reason>".

    Args:
        router: The router holding the orders' reservations.
        orders: Candidate orders; released, closed, BOPIS and same-day ones are skipped.
        at: Time of the run (aware UTC).
        time_limit_s: MIP time limit per chunk. [s]
        max_candidates: Cheapest locations considered per order (plus current ones).
        max_orders: Orders per MIP (larger batches are solved in chunks, in order).
        package_weight: Extra objective weight per package. [USD/package]
        solver: `time_limit_s -> pulp solver`; default `pulp_highs`.
        exclude: Location ids no order may use now (e.g. locations down).

    Returns:
        A `BatchOutcome` (summed over chunks).
    """
    import time

    solver = pulp_highs if solver is None else solver
    gone = frozenset(exclude)
    pending = _pending(router, orders)
    out = BatchOutcome()
    ledger = router.ledger
    rows = np.array([ledger.loc_index[x.id] for x in router.network.locations], dtype=np.int64)
    for c0 in range(0, len(pending), max_orders):
        chunk = pending[c0 : c0 + max_orders]
        held = [router.decision_for(o.id) for o in chunk]
        out.packages_before += sum(d.packages for d in held if d is not None)
        # an order holding a line split over locations keeps it: the MIP ships lines whole
        fixed = {
            o.id
            for o, d in zip(chunk, held, strict=True)
            if _splits_a_line(o, d) and not o.needs_reroute
        }
        planned = [o for o in chunk if o.id not in fixed]
        channels = [o.channel.value for o in chunk]
        pool = ledger.ats(max(set(channels), key=channels.count)).astype(np.int64)
        for o, d in zip(chunk, held, strict=True):
            if d is not None and o.id not in fixed:
                for i, s, q in ledger.reservations(d.decision_id):
                    pool[i, s] += q
        pool = pool[rows]
        t0 = time.perf_counter()
        held_plans: dict[str, dict[int, dict[str, int]]] = {}
        try:
            plans, held_plans = _build_and_solve(
                router, planned, pool, solver, time_limit_s, max_candidates, package_weight, gone
            )
            policy: Policy = _Forced(plans, router.policy, ("batch:mip",))
            out.status = "mip" if out.status != "fallback" else out.status
        except SolverError as exc:
            plans = {}
            cost = BUILTIN_POLICIES["cost"]
            notes = ("fallback:cost", f"solver:{exc.reason}")
            policy = _Forced({}, cost, notes, notes)
            out.status, out.reason = "fallback", exc.reason
        out.seconds += time.perf_counter() - t0
        # orders whose held assignment is the plan keep it (no release, no re-route)
        kept = fixed | {
            o.id
            for o, d in zip(chunk, held, strict=True)
            if d is not None
            and o.status is OrderStatus.ROUTED
            and not o.needs_reroute  # an edited order is routed again
            and o.id in plans
            and plans[o.id] == held_plans.get(o.id)
        }
        for o, d in zip(chunk, held, strict=True):
            if d is not None and o.id not in kept and ledger.is_open(d.decision_id):
                ledger.release(d.decision_id, at, reason="batch")
        saved = router.policy
        router.policy = policy
        try:
            for o, d in zip(chunk, held, strict=True):
                if o.id in kept:
                    out.packages_after += d.packages  # type: ignore[union-attr]
                    continue
                if o.status is OrderStatus.CREATED:
                    decision = router.route(o, at, gone)
                    router.commit(o, decision, at)
                else:
                    decision = router.reroute(o, at, gone)
                out.decisions.append(decision)
                out.packages_after += decision.packages
        finally:
            router.policy = saved
    return out


class BatchPolicy:
    """Real-time assignment by a base policy, re-optimised by `reoptimise` before release.

    The simulation runs `reoptimise` on every routing batch in its batch routing mode, and
    every `every_minutes` on the placed orders not yet released in on-arrival mode (a
    scheduled brokering run); any caller may run it too.

    Args:
        base: Registered policy used on arrival (default `closest`).
        every_minutes: Interval between brokering runs. [min]
        time_limit_s: MIP time limit. [s]
        max_candidates: Cheapest locations considered per order.
        max_orders: Orders per MIP.
        package_weight: Extra objective weight per package. [USD/package]
        solver: `time_limit_s -> pulp solver` (tests inject a failing one).
    """

    name = "batch"
    description = "Routes as its base (closest), then a MIP re-assigns placed, unreleased orders (every 30 min)."

    def __init__(
        self,
        base: str = "closest",
        every_minutes: float = 30.0,
        time_limit_s: float = 10.0,
        max_candidates: int = 8,
        max_orders: int = 400,
        package_weight: float = 0.0,
        solver: MipSolverFactory | None = None,
    ) -> None:
        self.base = get_policy(base)
        self.every_minutes = float(every_minutes)
        self.options = dict(
            time_limit_s=time_limit_s,
            max_candidates=max_candidates,
            max_orders=max_orders,
            package_weight=package_weight,
            solver=solver,
        )

    def choose(self, ctx: RoutingContext) -> Plan:
        """On arrival: the base policy's plan."""
        return with_notes(self.base.choose(ctx), ("batch:on_arrival",))

    def reoptimise(
        self,
        router: Router,
        orders: Sequence[Order],
        at: datetime,
        exclude: Collection[str] = (),
    ) -> BatchOutcome:
        """Re-assign the pending orders together (see `reoptimise`)."""
        return reoptimise(router, orders, at, exclude=exclude, **self.options)
