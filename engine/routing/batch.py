"""Place a batch of orders in one go, with the outcome of placing them one by one.

`place_many(router, orders, at, exclude)` returns exactly what
``[router.place(order, at) for order in orders]`` would, with the same reservations, audit
records and daily counts, at a fraction of the cost.

It takes a short cut when the policy ranks locations without looking at stock (sort keys
`distance`, `kind`, `priority`, `in_region` and `cost`; every built-in but `balance`) and
ships the whole order from the best-ranked location that can fill it when one can (splits
`single_then_greedy` and `min_packages`; `min_cost` behind a `cost` key when even the
cheapest two packages of the network cost more than that one; no extra filters). Then,
for a shipped or same-day order, the decision is the first location, in the ranking
cached for its destination, that passes the router's filters (capability, same-day
radius, exclusions, opening when closed locations are skipped, daily limit) and has ATS
for every line; the test reads the ledger and the daily counts as the orders before it in
the batch left them. A pickup (BOPIS) order without store substitution takes the short
cut under any policy when its own store can fill it whole. The decisions are committed
together (one ledger update, one audit extension) before anything else reads the ledger.

Orders no single location can fill whole (they may split), pickups their store cannot
fill, re-routes, an order id already pending in the batch, and every order when the
settings do not allow the short cut (`keep_reasons` on, a ledger in another location
order) go through `Router.route` and `Router.commit` (or the caller's `place_one`) at
their place in the sequence.

`route_whole` is the same short cut for one order (no batch): `Router.route` takes it for
an order that is not a first placement too (a re-route; its decision id counts its
routings), and when it applies, its decision is the one the usual way would make.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import RoutingError
from engine.order import Channel, DeliveryMethod, Order, OrderStatus
from engine.routing.assemble import decision_from_packages
from engine.routing.decision import Decision
from engine.routing.filters import rows_of
from engine.routing.policies import BOPIS_POLICY, RulePolicy
from engine.routing.ranking import (
    CostKey,
    DistanceKey,
    InRegionKey,
    KindKey,
    PriorityKey,
    SortKey,
)

if TYPE_CHECKING:
    from engine.routing.router import Router

__all__ = ["place_many", "route_whole", "static_sort"]

_STATIC_KEYS = (CostKey, DistanceKey, InRegionKey, KindKey, PriorityKey)
#: Splits that ship the whole order from the best-ranked location able to fill it, if any.
_WHOLE_FIRST = ("single_then_greedy", "min_packages")
#: Locations `_Pending.choose` tests cell by cell before it reads the ATS of the whole
#: network at once (`Ledger._ats`), which costs about as much as testing this many.
_CELL_TESTS = 6
_PICKUP = "pickup"
_SAME_DAY = "same_day"

# Enum members as module constants: on the hot path (per order) a member read from its
# class (`DeliveryMethod.BOPIS`) costs several times a global in CPython 3.11.
_SHIP, _BOPIS = DeliveryMethod.SHIP, DeliveryMethod.BOPIS
_SAME_DAY_METHOD = DeliveryMethod.SAME_DAY
_CREATED, _WHOLESALE = OrderStatus.CREATED, Channel.WHOLESALE


def static_sort(router: Router) -> tuple[SortKey, ...] | None:
    """The router policy's sort keys when its shipped orders can take the short cut."""
    policy = router.policy
    if (
        not isinstance(policy, RulePolicy)
        or policy.filters
        or not (policy.split in _WHOLE_FIRST or _cost_first(policy))
        or not all(isinstance(k, _STATIC_KEYS) for k in policy.sort)
        or not _batchable(router)
    ):
        return None
    return policy.sort


def _cost_first(policy: RulePolicy) -> bool:
    """Split `min_cost` behind a `cost` key: its single package is the first ranked filler."""
    return policy.split == "min_cost" and bool(policy.sort) and isinstance(policy.sort[0], CostKey)


def _batchable(router: Router) -> bool:
    """Decisions without reason codes, ledger rows in network order: the short cut applies
    (to shipped orders when `static_sort`, to pickup orders at their own store always)."""
    return not router.settings.keep_reasons and router._ledger_rows is None


def place_many(
    router: Router,
    orders: Sequence[Order],
    at: datetime,
    exclude: Collection[str] = (),
    place_one: Callable[[Order], Decision] | None = None,
) -> list[Decision]:
    """Route and commit `orders` in sequence at time `at`; see the module docstring.

    Args:
        router: The router (its policy, settings, ledger and counters are used and updated).
        orders: Orders to place, in the sequence they are to be served.
        at: Routing time of the whole batch, aware UTC.
        exclude: Location ids no order of the batch may use.
        place_one: Places one order the usual way (route, then commit) and returns its
            decision; None uses `Router.route` and `Router.commit` with `exclude`. A
            storefront passes its own, e.g. to offer home delivery when pickup is short.
            It is called only for orders that do not take the short cut, so for orders
            that could it must decide as route-then-commit with `exclude` does.

    Returns:
        One committed `Decision` per order, in order.

    Raises:
        RoutingError, InvalidTransition, LedgerError: As `Router.route` and
            `Router.commit` (and a naive `at`); the orders before the failing one stay
            placed, as they would one by one.
    """
    if at.tzinfo is None:
        raise RoutingError("place_many: the routing time must be timezone-aware (UTC)")
    if not isinstance(exclude, Collection):  # an iterator: read once per order below
        exclude = tuple(exclude)
    keys = _rank_keys(router)
    batch = _Pending(router, at, exclude, keys) if _batchable(router) else None
    decisions: list[Decision] = []
    try:
        for order in orders:
            if (
                batch is not None
                and order.id not in batch.ids
                and _fast(router, order, keys is not None, at)
            ):
                choice = batch.choose(order)
                if choice is not None:
                    decisions.append(batch.add(order, choice))
                    continue
            if batch is not None:
                batch.flush()  # the usual way reads the ledger and the counters
            if place_one is not None:
                decisions.append(place_one(order))
                continue
            decision = router.route(order, at, exclude)
            router.commit(order, decision, at)
            decisions.append(decision)
    finally:  # what is pending is what placing one by one would have committed by now
        if batch is not None:
            batch.flush()
    return decisions


def route_whole(
    router: Router, order: Order, at: datetime, ts: float, exclude: Collection[str]
) -> Decision | None:
    """`Router.route`'s decision for an order one location fills whole when the short cut
    applies to it (see the module docstring), else None: route it the usual way.

    Args:
        router: The router (its caches of rankings and eligibility may be filled).
        order: The order to route.
        at: Routing time, aware UTC.
        ts: `at` as a POSIX timestamp. [s]
        exclude: Location ids not to use.
    """
    if not _batchable(router):
        return None
    keys = _rank_keys(router)
    if not _whole_order(router, order, keys is not None):
        return None
    pending = _Pending(router, at, exclude, keys, ts)
    choice = pending.choose(order)
    return None if choice is None else pending.decide(order, choice)


def _rank_keys(router: Router) -> tuple[SortKey, ...] | None:
    """`static_sort(router)`; the cached rankings go when the keys changed."""
    keys = static_sort(router)
    if router._batch_rank_keys != keys:  # rankings cached for another policy
        router._batch_ranks.clear()
        router._batch_rank_keys = keys
    return keys


def _whole_order(router: Router, order: Order, ship: bool) -> bool:
    """Is this an order the short cut can route: lines, nothing fulfilled yet, and shipped
    (when `ship`, the policy allows it) or picked up at its own store (no substitution)?
    (Unknown SKUs: `_Pending.choose` sends the order the usual way.)"""
    method = order.method
    return (
        (
            (ship and (method is _SHIP or method is _SAME_DAY_METHOD))
            or (
                method is _BOPIS
                and not order.allow_store_substitution
                and order.pickup_store in router.network.index
            )
        )
        and bool(order.lines)
        and not order.fulfilled  # the usual way routes only the units outstanding
    )


def _fast(router: Router, order: Order, ship: bool, at: datetime) -> bool:
    """Can this order take the short cut in a batch: `_whole_order`, first placement and
    not created after `at`? Any other order goes through `Router.commit`, which checks it."""
    return (
        order.status is _CREATED  # never routed: its decision is "<id>-D1"
        and order.created_at <= at
        and not router.ledger.knows(f"{order.id}-D1")
        and _whole_order(router, order, ship)
    )


@dataclass(frozen=True, slots=True)
class _Ranks:
    """Every network row, best first, for one destination (and order size, under a `cost`
    key); with a `cost` key also each row's single-package cost and a lower bound on the
    cost of any two packages anywhere in the network. [USD]"""

    rows: array
    cost: array | None = None
    pair_bound: float = math.inf


def _ranks(router: Router, keys: tuple[SortKey, ...], costed: bool, order: Order) -> _Ranks:
    """The ranking of `order`'s destination (ties keep network order), cached; `costed`
    tells whether `keys` include a `cost` key (the ranking then depends on the units)."""
    lat, lon = order.dest_lat, order.dest_lon
    units = order.units if costed else 0
    cache = router._batch_ranks
    ranks = cache.get((lat, lon, units))
    if ranks is None:
        dist = router._lookups.distances(lat, lon)
        rows = np.arange(dist.size)
        rates, hpo, hpu = router.rates, router._hpo, router._hpu
        ctx = SimpleNamespace(  # what the keys read of a `RoutingContext` of a shipped order
            dist=dist, network=router.network, region_code=router._lookups.region_at(lat, lon),
            qty=np.array([units], dtype=np.int64),
            fixed_cost=lambda r: hpo.take(r) + rates.per_package,
            unit_cost=lambda: rates.unit_costs(dist) + hpu,
        )  # fmt: skip
        vals = [np.asarray(k.values(ctx, rows)) for k in keys]  # type: ignore[arg-type]
        if not vals:
            order_ = rows
        elif len(vals) == 1:
            order_ = np.argsort(vals[0], kind="stable")
        else:
            order_ = np.lexsort(vals[::-1])
        best_first = array("q", order_.astype(np.int64).tobytes())
        if costed:  # as `split.min_cost`, over every row (a lower bound of its candidates)
            fixed, unit = ctx.fixed_cost(rows), ctx.unit_cost()
            bound = 2.0 * fixed[fixed.argmin()] + float(units) * unit[unit.argmin()]
            cost = array("d", (fixed + unit * float(units)).tobytes())
            ranks = _Ranks(best_first, cost, float(bound))
        else:
            ranks = _Ranks(best_first)
        if len(cache) >= router._lookups.max_entries:
            del cache[next(iter(cache))]
        cache[(lat, lon, units)] = ranks
    return ranks


def _eligible(
    router: Router, exclude: Collection[str], is_open: np.ndarray
) -> dict[object, list[bool]]:
    """Per location, the router's filters except the daily limit (it changes within a
    batch): by "is wholesale" for shipped orders, by `(_PICKUP, is wholesale)` for pickups.

    Cached for the last exclusions and open mask (they change a few times a day).
    """
    skip = router.settings.closed_location == "skip"
    key = (tuple(exclude), is_open.tobytes() if skip else b"")
    cached = router._batch_eligible
    if cached is not None and cached[0] == key:
        return cached[1]
    net = router.network
    common = np.ones(len(router._ids), dtype=bool)
    if exclude:
        common[rows_of(net, exclude)] = False
    if skip:
        common &= is_open
    template = router._lookups.template
    masks = {w: template(DeliveryMethod.SHIP, w)[1] & common for w in (False, True)}
    for w in (False, True):
        masks[(_PICKUP, w)] = template(DeliveryMethod.BOPIS, w)[1] & common
        masks[(_SAME_DAY, w)] = template(DeliveryMethod.SAME_DAY, w)[1] & common
    eligible: dict[object, list[bool]] = {k: m.tolist() for k, m in masks.items()}
    router._batch_eligible = (key, eligible)
    return eligible


@dataclass(frozen=True, slots=True)
class _Choice:
    """A whole-order choice: location row, the order's SKUs with their ledger columns and
    summed units, and the ledger's index of the order's channel."""

    row: int
    skus: tuple[str, ...]
    cols: list[int]
    qty: list[int]
    channel: int


class _Pending:
    """Whole-order decisions of a batch, committed together (`flush`) before anything else
    reads the ledger; `choose` sees them as if they were already committed."""

    def __init__(
        self,
        router: Router,
        at: datetime,
        exclude: Collection[str],
        keys: tuple[SortKey, ...] | None,
        ts: float | None = None,
    ) -> None:
        self.router, self.at = router, at
        self.ts = at.timestamp() if ts is None else ts
        self.keys = keys  # `static_sort` of the router (None: pickups only)
        self.costed = keys is not None and any(isinstance(k, CostKey) for k in keys)
        self.is_open = router.network.open_mask(at)
        self.eligible = _eligible(router, exclude, self.is_open)
        self.limits = router._counter.limit_list
        self.used: dict[int, int] = {}  # orders counted today per row, read as needed
        self.items: list[tuple[Order, Decision, int, int, dict[tuple[int, int], int]]] = []
        self.taken: dict[tuple[int, int], int] = {}  # (row, sku column) -> units pending
        self.ids: set[str] = set()  # ids of the pending orders
        policy = router.policy
        self.weigh_splits = isinstance(policy, RulePolicy) and _cost_first(policy)

    def choose(self, order: Order) -> _Choice | None:
        """The location `Router.route` would fill the order from whole, with the order's
        SKUs (summed per SKU), or None when no location can (the order may split) or the
        ledger does not know one of its SKUs."""
        router = self.router
        ledger = router.ledger
        wanted = order.units_by_sku()
        sku_index = ledger.sku_index
        cols = [sku_index.get(s) for s in wanted]
        if None in cols:  # a SKU the ledger does not know: the usual way says so
            return None
        c = ledger._chan(order.channel)
        qty = list(wanted.values())
        if order.method is _BOPIS:  # its own store, whole, or the usual way
            row = router.network.index[order.pickup_store]  # type: ignore[index]
            eligible = self.eligible[(_PICKUP, order.channel is _WHOLESALE)]
            if eligible[row] and self._fills(c, row, cols, qty):
                return _Choice(row, tuple(wanted), cols, qty, c)
            return None
        keys = self.keys
        assert keys is not None  # `_fast` lets shipped orders through only then
        wholesale = order.channel is _WHOLESALE
        if order.method is _SAME_DAY_METHOD:  # and only from locations close enough
            near = router._lookups.distances(order.dest_lat, order.dest_lon).tolist()
            radius = router.settings.same_day_max_miles
            eligible = [
                e and d <= radius
                for e, d in zip(self.eligible[(_SAME_DAY, wholesale)], near, strict=True)
            ]
        else:
            eligible = self.eligible[wholesale]
        at_limit, limits, used = self._at_limit, self.limits, self.used
        ranks = _ranks(router, keys, self.costed, order)
        rank = ranks.rows
        tested = 0
        for row in rank:  # one of the best eligible usually can: test them cell by cell
            if not eligible[row]:
                continue
            limit = limits[row]  # `_at_limit`, inline (hot loop)
            if limit >= 0 and (used[row] if row in used else self._used(row)) >= limit:
                continue
            if self._fills(c, row, cols, qty):
                return self._single(ranks, _Choice(row, tuple(wanted), cols, qty, c))
            tested += 1
            if tested == _CELL_TESTS:
                break
        else:
            return None  # every eligible location was tested: none fills the order
        ats = ledger._ats(c, cols)  # (L, k), then less what is pending (cols: valid columns)
        col_of = {s: j for j, s in enumerate(cols)}
        for (row, s), units in self.taken.items():
            j = col_of.get(s)
            if j is not None:
                ats[row, j] = ledger._ats_cell(c, row, s, units)
        fills = (ats >= np.array(qty)).all(axis=1).tolist()
        for row in rank:
            if fills[row] and eligible[row] and not at_limit(row):
                return self._single(ranks, _Choice(row, tuple(wanted), cols, qty, c))
        return None

    def _single(self, ranks: _Ranks, choice: _Choice) -> _Choice | None:
        """`choice`, unless the policy weighs it against splits (`min_cost`) and two
        packages might cost less: then None (the usual way decides)."""
        if self.weigh_splits and ranks.cost[choice.row] > ranks.pair_bound:  # type: ignore[index]
            return None
        return choice

    def _used(self, row: int) -> int:
        """Orders counted at `row` on its local day, pending ones included."""
        n = self.used.get(row)
        if n is None:
            n = self.used[row] = self.router._counter.count(row, self.ts)
        return n

    def _at_limit(self, row: int) -> bool:
        """`row` has a daily limit and has reached it."""
        limit = self.limits[row]
        return limit >= 0 and self._used(row) >= limit

    def _fills(self, c: int, row: int, cols: list[int], qty: list[int]) -> bool:
        """Whether the ATS at `row`, less the pending units, covers `qty` of each column."""
        ats, taken = self.router.ledger._ats_cell, self.taken
        for s, q in zip(cols, qty, strict=True):
            if ats(c, row, s, taken.get((row, s), 0)) < q:
                return False
        return True

    def decide(self, order: Order, choice: _Choice) -> Decision:
        """The decision `Router.route` makes for this whole-order choice."""
        router, row = self.router, choice.row
        pickup = order.method is _BOPIS
        if pickup:  # distances from the pickup store, no carrier
            store = router.network.locations[row]
            dist = router._lookups.distances(store.lat, store.lon)
        else:
            dist = router._lookups.distances(order.dest_lat, order.dest_lon)
        return decision_from_packages(
            router, order, self.at, self.ts, BOPIS_POLICY.name if pickup else router.policy.name,
            choice.skus, [(row, choice.qty)], dist, not pickup, self.is_open, (),
        )  # fmt: skip

    def add(self, order: Order, choice: _Choice) -> Decision:
        """`decide`, kept pending: later choices see it as committed (`flush` commits it)."""
        decision = self.decide(order, choice)
        row, pickup = choice.row, order.method is _BOPIS
        cells = {(row, s): q for s, q in zip(choice.cols, choice.qty, strict=True)}
        for cell, q in cells.items():
            self.taken[cell] = self.taken.get(cell, 0) + q
        if not pickup:  # the daily limit caps shipping only
            self.used[row] = self._used(row) + 1
        self.items.append((order, decision, row, choice.channel, cells))
        self.ids.add(order.id)
        return decision

    def flush(self) -> None:
        """Commit the pending decisions as `Router.commit` would, one after the other."""
        self.used = {}  # the usual way may count orders next: read the counts again
        items = self.items
        if not items:
            return
        self.items, self.taken, self.ids = [], {}, set()
        router = self.router
        router.ledger._reserve_fresh(
            [(d.decision_id, c, cells) for _, d, _, c, cells in items], self.ts
        )
        for order, decision, row, _, _ in items:
            router._routed(order, decision, self.at, [row], self.ts)
