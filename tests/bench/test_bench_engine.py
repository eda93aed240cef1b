"""Routing benchmarks (pytest-benchmark).

The normal suite runs with ``--benchmark-disable``, so each benchmark body runs once as a
smoke test. For numbers: ``pytest tests/bench --benchmark-enable``; the reported time is
per batch of `N_ORDERS` orders. ``fulfil bench --engine --json`` gives the percentiles.
"""

from __future__ import annotations

import pytest

from engine.routing import Router
from sim.bench_engine import benchmark_policies, build_case, make_policy

N_ORDERS = 25


@pytest.fixture(scope="module", params=[50, 200], ids=lambda n: f"{n}loc")
def case(request):
    return build_case(request.param, n_skus=300, n_orders=N_ORDERS, seed=1)


@pytest.mark.parametrize("policy", benchmark_policies())
def test_route_batch(benchmark, case, policy):
    router = Router(case.network, case.ledger, policy=make_policy(policy, case))

    def route_all():
        return [router.route(order, case.at) for order in case.orders]

    decisions = benchmark(route_all)
    assert len(decisions) == N_ORDERS
    for order, decision in zip(case.orders, decisions, strict=True):
        routed = sum(a.quantity for a in decision.allocations)
        lost = sum(q for _, q in decision.unfulfillable)
        assert routed + lost == order.units  # every unit either allocated or reported


def test_case_is_deterministic():
    a = build_case(50, n_skus=100, n_orders=5, seed=3)
    b = build_case(50, n_skus=100, n_orders=5, seed=3)
    assert [o.lines for o in a.orders] == [o.lines for o in b.orders]
    assert (a.ledger.on_hand == b.ledger.on_hand).all()
