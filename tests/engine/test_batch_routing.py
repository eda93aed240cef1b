"""`Router.place_many` gives exactly the outcome of `Router.place` order after order.

Twin worlds (same network, stock, thresholds, buffers, limits) place the same random
orders: one with `place` per order, one with `place_many`. Decisions, ledger arrays, the
audit log, daily counts and every order's history must be identical. Stock is scarce and
daily limits small, so batches hit conflicts (a cell used up, a location at its limit),
splits, stockouts and the usual-way fallbacks.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import (
    Capability,
    Channel,
    DeliveryMethod,
    Ledger,
    Location,
    LocationKind,
    Network,
    OpeningHours,
    Order,
    OrderLine,
    OrderStatus,
    RateCard,
    Region,
)
from engine.errors import LedgerError, RoutingError
from engine.routing import Router, RoutingSettings, get_policy
from engine.routing.batch import static_sort

SKUS = tuple(f"S{i}" for i in range(6))
TZ = "America/Chicago"
OPEN = datetime(2024, 3, 5, 18, 0, tzinfo=UTC)  # 12:00 in Chicago
NIGHT = datetime(2024, 3, 6, 7, 0, tzinfo=UTC)  # 01:00
DESTS = ((41.9, -87.6), (39.1, -94.6), (32.8, -96.8), (44.9, -93.3))
POLICIES = (
    "closest", "min_split", "min_split-no-regions", "store_first", "dc_first", "ranked",
    "cost", "cost-low-fee", "cost-carrier-table",
)  # fmt: skip
#: Policy name suffix -> rate card (None: the default one).
RATES = {
    "-low-fee": RateCard(per_package=0.05),  # two packages can beat one (min_cost splits)
    "-carrier-table": RateCard(  # zone x weight prices and handling by location kind
        zone_weight_table={z: [(1.0, 5.0 + z), (5.0, 7.0 + 1.5 * z)] for z in range(1, 9)},
        handling_by_kind={LocationKind.STORE: (2.5, 0.4), LocationKind.WAREHOUSE: (0.8, 0.1)},
    ),
}
REGIONS = tuple(Region(f"R{i}", lat, lon) for i, (lat, lon) in enumerate(DESTS))


def _locations(rng: random.Random) -> list[Location]:
    locs = []
    for i in range(10):  # around the destinations: some close enough for same-day orders
        lat, lon = rng.choice(DESTS)
        kind = rng.choice((LocationKind.STORE, LocationKind.STORE, LocationKind.WAREHOUSE))
        store = kind is LocationKind.STORE
        caps = {Capability.SHIP, Capability.PICKUP} if store else {Capability.SHIP}
        if i == 9:
            kind, caps = LocationKind.WHOLESALE_DC, {Capability.WHOLESALE, Capability.SHIP}
        locs.append(
            Location(
                f"L{i}", kind, lat + rng.uniform(-1, 1), lon + rng.uniform(-1, 1), TZ,
                hours=OpeningHours.daily(9, 21) if store else OpeningHours.always_open(),
                capabilities=frozenset(caps),
                daily_order_limit=rng.choice((None, 1, 2, 3)) if store else None,
                handling_cost_per_order=rng.choice((0.0, 1.5, 3.0)),
                handling_cost_per_unit=rng.choice((0.0, 0.25)),
                online_threshold=rng.choice((0, 1, 2)) if store else 0,
                region=rng.choice(REGIONS).id,
            )
        )  # fmt: skip
    return locs


def _world(seed: int, policy: str, closed: str, reasons: bool = False) -> Router:
    rng = random.Random(seed)
    locs = _locations(rng)
    net = Network(locs, () if policy.endswith("-no-regions") else REGIONS)
    ledger = Ledger([x.id for x in locs], SKUS)
    ledger.configure_locations(
        np.array([x.online_threshold for x in locs]),
        np.array([x.kind is LocationKind.STORE for x in locs]),
    )
    for x in locs:
        for s in SKUS:
            ledger.set_stock(x.id, s, rng.choice((0, 0, 1, 2, 3, 5)))
    ledger.set_channel_buffer("marketplace", 1)
    params = {"priority": [x.id for x in reversed(locs)]} if policy == "ranked" else {}
    settings = RoutingSettings(closed_location=closed, keep_reasons=reasons)
    name, _, variant = policy.partition("-")
    rates = RATES.get(f"-{variant}") if variant else None
    policy = get_policy(name, **params)
    return Router(net, ledger, rates, policy=policy, settings=settings)


def _orders(seed: int, n: int, tag: str) -> list[Order]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        lines = [
            OrderLine(rng.choice(SKUS + ("UNKNOWN",) * (k % 17 == 0)), rng.choice((1, 1, 2)))
            for _ in range(rng.randint(1, 4))
        ]
        method = rng.choices(
            (DeliveryMethod.SHIP, DeliveryMethod.BOPIS, DeliveryMethod.SAME_DAY), (8, 1, 1)
        )[0]
        lat, lon = rng.choice(DESTS)
        out.append(
            Order(
                f"{tag}{k}",
                rng.choice((Channel.WEB, Channel.APP, Channel.MARKETPLACE, Channel.WHOLESALE)),
                "c", lat, lon, lines, method=method,
                pickup_store="L0" if method is DeliveryMethod.BOPIS else None,
                created_at=OPEN,
            )
        )  # fmt: skip
    return out


def _state(router: Router, orders: list[Order]) -> dict:
    led = router.ledger
    cols = led.audit.columns()
    return {
        "on_hand": led.on_hand.copy(),
        "reserved": led.reserved.copy(),
        "audit": {k: list(v) for k, v in cols.items()},
        "daily": dict(router._counter._daily),
        "history": [(o.id, o.status, [h[:2] for h in o.history]) for o in orders],
    }


def _compare(seed: int, policy: str, closed: str, at: datetime, batch: int) -> int:
    # Reasons kept: `one` routes every order the usual way (`Router.route` takes the
    # short cut for whole orders too), so `many`'s short cut is checked against it.
    one, many = _world(seed, policy, closed, reasons=True), _world(seed, policy, closed)
    a, b = _orders(seed, 40, "O"), _orders(seed, 40, "O")
    exclude = ("L3",) if seed % 3 == 0 else ()
    expected = [one.place(o, at) if not exclude else _place(one, o, at, exclude) for o in a]
    got = []
    for k in range(0, len(b), batch):
        got.extend(many.place_many(b[k : k + batch], at, exclude))
    assert got == expected
    _same_state(one, many, a, b)
    return sum(len(d.allocations) > 0 for d in got)


def _place(router: Router, order: Order, at: datetime, exclude) -> object:
    d = router.route(order, at, exclude)
    router.commit(order, d, at)
    return d


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("closed", ["wait", "skip"])
@pytest.mark.parametrize("at", [OPEN, NIGHT], ids=["open", "night"])
def test_place_many_equals_place_one_by_one(policy: str, closed: str, at: datetime) -> None:
    placed = sum(_compare(seed, policy, closed, at, batch=16) for seed in range(6))
    assert placed > 0  # the worlds do route orders (not only stockouts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    policy=st.sampled_from(POLICIES),
    closed=st.sampled_from(("wait", "skip")),
    batch=st.integers(1, 40),
)
def test_place_many_equals_place_for_any_batching(seed, policy, closed, batch) -> None:
    _compare(seed, policy, closed, OPEN, batch)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("closed", ["wait", "skip"])
def test_route_of_a_whole_order_is_the_usual_decision(policy: str, closed: str) -> None:
    """`Router.route` takes the short cut for an order one location fills whole (first
    routing, and re-routes that exclude the location chosen before): the same decisions
    as the usual way, which a router that keeps reasons always takes."""
    for seed in range(4):
        usual, quick = _world(seed, policy, closed, reasons=True), _world(seed, policy, closed)
        a, b = _orders(seed, 40, "R"), _orders(seed, 40, "R")
        exclude = ("L3",) if seed % 2 else ()
        assert [_place(quick, o, OPEN, exclude) for o in b] == [
            _place(usual, o, OPEN, exclude) for o in a
        ]
        for x, y in zip(a, b, strict=True):
            if x.status is OrderStatus.ROUTED:
                away = usual.decision_for(x.id).locations[:1]
                assert quick.reroute(y, NIGHT, away) == usual.reroute(x, NIGHT, away)
        _same_state(usual, quick, a, b)


@pytest.mark.parametrize("policy", ["closest", "store_first"])
def test_exclusions_given_as_an_iterator_count_as_a_tuple(policy: str) -> None:
    """An iterator of exclusions is read once: the short cut and the usual way (and every
    order of a batch) see all of it, not what the first reader left."""
    for seed in range(4):
        router = _world(seed, policy, "wait")
        orders = [o for o in _orders(seed, 40, "X") if o.method is DeliveryMethod.SHIP]
        for order in orders:
            first = router.route(order, OPEN)
            if first.allocations:
                away = first.locations[:1]
                assert router.route(order, OPEN, iter(away)) == router.route(order, OPEN, away)
        twins = [_world(seed, policy, "wait") for _ in range(2)]
        a, b = (_orders(seed, 40, "Y") for _ in range(2))
        assert twins[0].place_many(a, OPEN, iter(("L3", "L5"))) == twins[1].place_many(
            b, OPEN, ("L3", "L5")
        )


def test_static_sort_only_for_stock_blind_rankings() -> None:
    assert static_sort(_world(1, "closest", "wait")) is not None
    assert static_sort(_world(1, "ranked", "wait")) is not None
    assert static_sort(_world(1, "min_split", "wait")) is not None  # region, then distance
    assert static_sort(_world(1, "cost", "wait")) is not None  # landed cost by order size
    assert static_sort(_world(1, "balance", "wait")) is None  # ranks by days of cover
    router = _world(1, "closest", "wait")
    router.settings = RoutingSettings(keep_reasons=True)
    assert static_sort(router) is None  # reason codes need the per-order filters


def test_cost_takes_the_short_cut_only_when_no_split_can_be_cheaper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.routing import batch

    taken: list[Order] = []
    add = batch._Pending.add
    monkeypatch.setattr(
        batch._Pending, "add", lambda self, o, c: taken.append(o) or add(self, o, c)
    )

    def shipped_fast(policy: str) -> int:
        taken.clear()
        for seed in range(6):
            _compare(seed, policy, "wait", OPEN, batch=16)
        return sum(o.method is DeliveryMethod.SHIP for o in taken)

    closest = shipped_fast("closest")
    assert shipped_fast("cost") >= 0.8 * closest > 0  # the usual fee: one package wins
    assert shipped_fast("cost-low-fee") <= 0.25 * closest  # two packages might be cheaper


def _twins(policy: str = "closest") -> tuple[Router, Router]:
    return _world(3, policy, "wait"), _world(3, policy, "wait")


def _one_by_one(router: Router, orders: list[Order]) -> list:
    return [_place(router, o, OPEN, ()) for o in orders]


def _ship(oid: str, sku: str, channel: Channel = Channel.WEB) -> Order:
    return Order(oid, channel, "c", 41.9, -87.6, [OrderLine(sku, 1)], created_at=OPEN)


def _same_state(one: Router, many: Router, a: list[Order], b: list[Order]) -> None:
    sa, sb = _state(one, a), _state(many, b)
    for key in sa:
        if isinstance(sa[key], np.ndarray):
            np.testing.assert_array_equal(sb[key], sa[key], err_msg=key)
        else:
            assert sb[key] == sa[key], key
    assert dict(many.ledger._open) == dict(one.ledger._open)


def test_an_order_placed_twice_in_a_batch_is_placed_as_one_by_one() -> None:
    one, many = _twins()
    y1, y2 = _ship("Y", "S0"), _ship("Y", "S0")
    a = [_ship("X", "S0"), y1, y1]  # one order twice: the second placement re-routes it
    b = [_ship("X", "S0"), y2, y2]
    assert many.place_many(b, OPEN) == _one_by_one(one, a)
    _same_state(one, many, a, b)


def test_two_orders_with_one_id_fail_in_a_batch_as_one_by_one() -> None:
    one, many = _twins()
    a = [_ship("X", "S0"), _ship("X", "S1")]
    b = [_ship("X", "S0"), _ship("X", "S1")]
    with pytest.raises(RoutingError, match="order ids must be unique"):
        _one_by_one(one, a)
    with pytest.raises(RoutingError, match="order ids must be unique"):
        many.place_many(b, OPEN)
    assert [o.status for o in b] == [o.status for o in a]
    _same_state(one, many, a, b)


def test_a_failure_mid_batch_keeps_the_orders_before_it_placed() -> None:
    one, many = _twins()
    for router in (one, many):  # a channel the ledger does not know
        router.ledger = Ledger(
            list(router.ledger.location_ids), list(router.ledger.skus), channels=("web",)
        )
        router.ledger.set_stock("L1", "S0", 5)
        router.ledger.set_stock("L1", "S1", 5)
    a = [_ship("F0", "S0"), _ship("F1", "S1"), _ship("F2", "S0", Channel.APP), _ship("F3", "S1")]
    b = [_ship("F0", "S0"), _ship("F1", "S1"), _ship("F2", "S0", Channel.APP), _ship("F3", "S1")]
    with pytest.raises(LedgerError, match="unknown channel <Channel.APP: 'app'>; known: web"):
        _one_by_one(one, a)
    with pytest.raises(LedgerError, match="unknown channel <Channel.APP: 'app'>; known: web"):
        many.place_many(b, OPEN)
    routed, created = OrderStatus.ROUTED, OrderStatus.CREATED
    for orders, router in ((a, one), (b, many)):  # F0 and F1 placed; F2 failed, F3 never tried
        assert [o.status for o in orders] == [routed, routed, created, created]
        assert [o.decision_id for o in orders] == ["F0-D1", "F1-D1", None, None]
        assert int(router.ledger.reserved.sum()) == 2
    _same_state(one, many, a, b)


def test_rankings_follow_a_policy_change_and_policies_without_sort_keys() -> None:
    from engine.routing.policies import RulePolicy

    one, many = _twins("store_first")
    many.place_many([_ship("warm", "S5")], OPEN)  # caches store-first rankings
    one.place(_ship("warm", "S5"), OPEN)
    for router in (one, many):
        router.policy = get_policy("dc_first")
    a, b = [_ship(f"E{i}", "S0") for i in range(4)], [_ship(f"E{i}", "S0") for i in range(4)]
    assert many.place_many(b, OPEN) == _one_by_one(one, a)
    for router in (one, many):
        router.policy = RulePolicy("network_order", sort=())
    a, b = [_ship(f"N{i}", "S1") for i in range(3)], [_ship(f"N{i}", "S1") for i in range(3)]
    assert many.place_many(b, OPEN) == _one_by_one(one, a)


def test_a_naive_routing_time_is_refused() -> None:

    with pytest.raises(RoutingError, match="timezone-aware"):
        _world(1, "closest", "wait").place_many([], datetime(2024, 3, 5, 18, 0))
