"""Small hand-built worlds for the LP policy tests (helper module, not a test file).

Locations on latitude 40 N: `NEAR` at -75.1 (about 5 mi from the default destination at
-75.0) and `FAR` at -80.0 (about 265 mi). One demand region `EAST` at the destination and
one `WEST` at -95.0.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from engine import Channel, Ledger, Location, LocationKind, Network, Order, OrderLine, Region
from engine.routing import Router, RoutingSettings

TZ = "America/New_York"
AT = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)
NEAR = Location("NEAR", LocationKind.WAREHOUSE, 40.0, -75.1, TZ)
FAR = Location("FAR", LocationKind.WAREHOUSE, 40.0, -80.0, TZ)
REGIONS = (Region("EAST", 40.0, -75.0, 0.5), Region("WEST", 40.0, -95.0, 0.5))
SKUS = ("X", "Y", "Z")


def world(
    stock: Mapping[tuple[str, str], int], policy="closest", settings=None
) -> tuple[Router, Ledger, Network]:
    """A router over NEAR and FAR with `stock[(location, sku)]` units."""
    network = Network([NEAR, FAR], REGIONS)
    ledger = Ledger([x.id for x in network.locations], SKUS)
    for (loc, sku), qty in stock.items():
        ledger.set_stock(loc, sku, qty)
    router = Router(network, ledger, policy=policy, settings=settings or RoutingSettings())
    return router, ledger, network


def order(oid: str, skus: tuple[str, ...], lat: float = 40.0, lon: float = -75.0) -> Order:
    """A web order shipping one unit of each SKU to (lat, lon)."""
    lines = [OrderLine(s, 1, j) for j, s in enumerate(skus)]
    return Order(oid, Channel.WEB, "c", lat, lon, lines, created_at=AT)


def later(minutes: float) -> datetime:
    """`AT` plus some minutes."""
    return AT + timedelta(minutes=minutes)
