"""A small hand-built network for routing tests (helper module, not a test file).

All locations lie on latitude 40 N; the default destination is (40.0, -75.0). One degree
of longitude there is about 53 miles, so distances from the destination are:

    ST1  store         -75.2   ~10.6 mi   pickup+ship, 09-21 local, daily limit 2, region EAST
    ST2  store         -75.6   ~31.8 mi   pickup+ship, 09-21 local,               region WEST
    DC1  warehouse     -76.0   ~53.0 mi   ship, always open,                      region EAST
    WH   wholesale_dc  -77.0   ~106 mi    wholesale only,                         region EAST
    DC2  warehouse     -80.0   ~265 mi    ship, always open,                      region EAST

All in America/New_York. `OPEN` is Tuesday 2024-03-05 10:00 EST (15:00 UTC); `NIGHT` is
Tuesday 2024-03-05 03:00 UTC = Monday 22:00 EST, when the stores are closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

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
    Region,
)
from engine.routing import Router, RoutingSettings

TZ = "America/New_York"
DEST = (40.0, -75.0)
OPEN = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)
NIGHT = datetime(2024, 3, 5, 3, 0, tzinfo=UTC)
SKUS = ("A", "B", "C", "D")
SHIP, PICKUP, WHOLESALE = Capability.SHIP, Capability.PICKUP, Capability.WHOLESALE

ST1 = Location(
    "ST1", LocationKind.STORE, 40.0, -75.2, TZ, hours=OpeningHours.daily(9, 21),
    capabilities=frozenset({SHIP, PICKUP}), daily_order_limit=2, region="EAST",
)  # fmt: skip
ST2 = Location(
    "ST2", LocationKind.STORE, 40.0, -75.6, TZ, hours=OpeningHours.daily(9, 21),
    capabilities=frozenset({SHIP, PICKUP}), region="WEST",
)  # fmt: skip
DC1 = Location("DC1", LocationKind.WAREHOUSE, 40.0, -76.0, TZ, region="EAST")
WH = Location(
    "WH", LocationKind.WHOLESALE_DC, 40.0, -77.0, TZ, capabilities=frozenset({WHOLESALE}),
    region="EAST",
)  # fmt: skip
DC2 = Location("DC2", LocationKind.WAREHOUSE, 40.0, -80.0, TZ, region="EAST")
LOCATIONS = (ST1, ST2, DC1, WH, DC2)
REGIONS = (Region("EAST", 40.0, -75.0), Region("WEST", 40.0, -95.0))


def world(
    stock: Mapping[tuple[str, str], int],
    policy="closest",
    settings: RoutingSettings | None = None,
    locations: Iterable[Location] = LOCATIONS,
    rates=None,
) -> tuple[Router, Ledger, Network]:
    """A router over the test network with `stock[(location, sku)]` units on hand."""
    network = Network(list(locations), REGIONS)
    ledger = Ledger([x.id for x in network.locations], SKUS)
    for (loc, sku), qty in stock.items():
        ledger.set_stock(loc, sku, qty)
    router = Router(network, ledger, rates=rates, policy=policy, settings=settings)
    return router, ledger, network


_counter = iter(range(1_000_000))


def order(
    *lines: tuple[str, int],
    method: DeliveryMethod = DeliveryMethod.SHIP,
    channel: Channel = Channel.WEB,
    dest: tuple[float, float] = DEST,
    **kwargs,
) -> Order:
    """An order with `(sku, qty)` lines created at `OPEN`."""
    return Order(
        kwargs.pop("id", f"O{next(_counter)}"), channel, "cust", dest[0], dest[1],
        [OrderLine(s, q) for s, q in lines], method=method, created_at=OPEN, **kwargs,
    )  # fmt: skip


def delivered(o: Order) -> Order:
    """`o` with every unit recorded as fulfilled (so that its units can come back)."""
    o.record_fulfilled_many(o.units_by_sku().items())
    return o


def packages(decision) -> dict[str, dict[str, int]]:
    """Location -> {sku: qty} of a decision."""
    out: dict[str, dict[str, int]] = {}
    for a in decision.allocations:
        out.setdefault(a.location, {})[a.sku] = a.quantity
    return out


def reasons(decision) -> dict[str, dict]:
    """Location id -> reason dict."""
    return {r["location"]: r for r in decision.reasons()}


def twin(location: Location, new_id: str) -> Location:
    """Same place and settings, another id (for tie tests)."""
    return replace(location, id=new_id)
