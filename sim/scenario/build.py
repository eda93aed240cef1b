"""Turn a `Scenario` into engine objects: the network, catalogue, initial stock, rate card
and routing settings.

Everything here is deterministic from the scenario seed: each concern draws from its own
``numpy`` stream, ``SeedSequence(seed, spawn_key=(STREAM,))``, never the global generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.location import STORE_KINDS, Capability, Location, LocationKind, OpeningHours
from engine.network import Network, Region, haversine_miles
from engine.rates import RateCard
from sim.scenario import geography
from sim.scenario.base import Hours
from sim.scenario.schema import LocationSpec, Scenario
from sim.scenario.sections import ONLINE_CHANNELS, Basket

if TYPE_CHECKING:  # engine.routing is imported lazily: it is the heaviest engine package
    from engine.routing.settings import RoutingSettings

__all__ = [
    "Catalogue",
    "Site",
    "StockPlan",
    "build_catalogue",
    "build_network",
    "build_rate_card",
    "build_routing_settings",
    "expected_daily_units",
    "initial_stock",
    "sites",
    "stock_plan",
]

# Random stream ids (spawn keys) of the build steps; the simulation uses other ids.
STREAM_CATALOGUE = 1
STREAM_STOCK = 2


@dataclass(frozen=True, slots=True)
class Site:
    """A resolved location: the engine `Location` plus what the simulation needs.

    Attributes:
        location: Engine location (id, kind, coordinates, hours, capabilities, costs).
        city: City label ("Name, ST"), or "" when placed by coordinates.
        staff: Pick/pack staff on shift. [people]
        pick_minutes: Mean time to pick one order line. [min]
        pack_minutes: Mean time to pack one package. [min]
    """

    location: Location
    city: str
    staff: int
    pick_minutes: float
    pack_minutes: float

    @property
    def is_store(self) -> bool:
        """True for stores and dark stores (the ``store`` stock tier)."""
        return self.location.kind in STORE_KINDS


def _opening_hours(hours: Hours) -> OpeningHours:
    if hours.always_open:
        return OpeningHours.always_open()
    closed = set(hours.closed_weekdays)
    return OpeningHours(tuple(None if d in closed else (hours.open, hours.close) for d in range(7)))


def _site(scn: Scenario, spec: LocationSpec, default_kind: str) -> Site:
    net = scn.network
    kind = LocationKind(spec.kind or default_kind)
    if spec.city is not None:
        c = geography.city(spec.city)
        lat, lon, tz, label, region = c.lat, c.lon, c.timezone, c.label, c.state
    else:
        lat, lon, tz, label, region = spec.lat, spec.lon, spec.timezone, "", ""
    if kind in STORE_KINDS:
        d = net.store_defaults
        caps = {"ship"} if d.ship_from_store else set()
        caps |= {"pickup"} if d.pickup else set()
        caps |= {"returns"} if d.returns and kind is LocationKind.STORE else set()
        threshold = d.online_threshold
    else:
        d = net.warehouse_defaults
        wholesale_dc = kind is LocationKind.WHOLESALE_DC  # B2B only, unless its own say so
        caps = {"wholesale"} if wholesale_dc else set(d.capabilities)
        threshold = 0
    if spec.capabilities is not None:
        caps = set(spec.capabilities)

    def pick(name: str, default: object) -> object:
        value = getattr(spec, name)
        return default if value is None else value

    location = Location(
        id=spec.id,
        kind=kind,
        lat=float(lat),  # type: ignore[arg-type]
        lon=float(lon),  # type: ignore[arg-type]
        timezone=str(tz),
        hours=_opening_hours(pick("hours", d.hours)),  # type: ignore[arg-type]
        capabilities=frozenset(Capability(c) for c in caps),
        daily_order_limit=pick("daily_order_limit", d.daily_order_limit),  # type: ignore[arg-type]
        handling_cost_per_order=float(pick("handling_cost_per_order", d.handling_cost_per_order)),  # type: ignore[arg-type]
        handling_cost_per_unit=float(pick("handling_cost_per_unit", d.handling_cost_per_unit)),  # type: ignore[arg-type]
        online_threshold=int(pick("online_threshold", threshold)),  # type: ignore[arg-type]
        cutoff_hour=float(scn.carriers.cutoff_hour),
        region=region,
    )
    return Site(
        location=location,
        city=label,
        staff=int(pick("staff", d.staff)),  # type: ignore[arg-type]
        pick_minutes=float(pick("pick_minutes", d.pick_minutes)),  # type: ignore[arg-type]
        pack_minutes=float(pick("pack_minutes", d.pack_minutes)),  # type: ignore[arg-type]
    )


def sites(scn: Scenario) -> list[Site]:
    """Resolve every location of the scenario, warehouses first, then stores.

    Generated stores (``stores: {count: N}``) stand in the N largest metros, one each,
    largest first, with ids ``STORE-01``... in that order.
    """
    out = [_site(scn, spec, "warehouse") for spec in scn.network.warehouses]
    stores = scn.network.stores
    if isinstance(stores, list):
        out += [_site(scn, spec, "store") for spec in stores]
    else:
        metros = geography.largest_metros(stores.count, stores.min_miles)
        for store_id, metro in zip(stores.ids(), metros, strict=True):
            out.append(_site(scn, LocationSpec(id=store_id, city=metro.label), "store"))
    return out


def build_network(scn: Scenario, site_list: list[Site] | None = None) -> Network:
    """Build the engine `Network`: locations plus demand regions.

    Demand regions are the ``demand.regions`` most populous cities, weighted by their share
    of those cities' population; region ids are city labels ("New York, NY").
    """
    site_list = sites(scn) if site_list is None else site_list
    top = geography.top_cities(scn.demand.regions)
    total = float(sum(c.population for c in top))
    regions = [Region(id=c.label, lat=c.lat, lon=c.lon, weight=c.population / total) for c in top]
    return Network(
        [s.location for s in site_list],
        regions,
        transit_days=dict(scn.carriers.transit_days),
    )


@dataclass(frozen=True)
class Catalogue:
    """Products as column arrays, one entry per SKU (row order = ledger SKU order).

    Attributes:
        skus: SKU ids.
        popularity: Probability that a demanded line is this SKU; sums to 1. [-]
        weight_lb: Unit weight. [lb]
        price: Unit price. [USD]
        return_rate: Share of sold units returned. [0..1]
    """

    skus: tuple[str, ...]
    popularity: np.ndarray
    weight_lb: np.ndarray
    price: np.ndarray
    return_rate: np.ndarray

    def __len__(self) -> int:
        return len(self.skus)


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


def _lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """Lognormal draws with the given mean and coefficient of variation."""
    sigma2 = math.log1p(cv * cv)
    return rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), n)


def build_catalogue(scn: Scenario, seed: int | None = None) -> Catalogue:
    """Build the catalogue: explicit SKUs as given, or generated ones.

    Generated SKUs: popularity ``zipf`` gives SKU rank r (1 = ``SKU-00001``) weight
    ``r**-zipf_s``; weight and price are lognormal with the given mean and cv (rounded to
    0.01); return rates are Beta draws (concentration 20) scaled so that their mean weighted
    by popularity, the share of sold units returned, is ``return_rate``.

    Args:
        scn: The scenario.
        seed: Seed of the draws; default the scenario's seed.
    """
    cat = scn.catalogue
    if isinstance(cat.skus, list):
        pop = np.array([s.popularity for s in cat.skus], dtype=np.float64)
        return Catalogue(
            skus=tuple(s.id for s in cat.skus),
            popularity=pop / pop.sum(),
            weight_lb=np.array([s.weight_lb for s in cat.skus], dtype=np.float64),
            price=np.array([s.price for s in cat.skus], dtype=np.float64),
            return_rate=np.array([s.return_rate for s in cat.skus], dtype=np.float64),
        )
    n = cat.skus
    rng = _rng(scn.seed if seed is None else seed, STREAM_CATALOGUE)
    if cat.popularity == "zipf":
        pop = np.arange(1, n + 1, dtype=np.float64) ** -cat.zipf_s
    else:
        pop = np.ones(n)
    weight = np.maximum(np.round(_lognormal(rng, cat.weight_lb.mean, cat.weight_lb.cv, n), 2), 0.01)
    price = np.maximum(np.round(_lognormal(rng, cat.price.mean, cat.price.cv, n), 2), 0.01)
    r, k = cat.return_rate, 20.0
    share = pop / pop.sum()
    returns = rng.beta(r * k, (1 - r) * k, n) if 0 < r < 1 else np.full(n, r)
    if 0 < r < 1:  # popular SKUs dominate sales: weight the mean by popularity
        for _ in range(20):  # scaling, then capping at 1, converges in a few rounds
            returns = np.minimum(returns * (r / float(share @ returns)), 1.0)
    return Catalogue(tuple(cat.sku_ids()), share, weight, price, returns)


def basket_units(basket: Basket) -> float:
    """Approximate mean units of a basket (1 + Poisson lines and quantities, caps ignored)."""
    return basket.mean_lines * basket.mean_qty


def expected_daily_units(scn: Scenario, catalogue: Catalogue) -> np.ndarray:
    """Expected network demand per SKU on an average day, all channels. [units/day] (S,)"""
    ch = scn.demand.channels
    online = sum(
        getattr(ch, c).orders_per_day * basket_units(getattr(ch, c).basket) for c in ONLINE_CHANNELS
    )
    n_stores = sum(1 for s in sites(scn) if s.location.kind is LocationKind.STORE)
    pos = ch.pos.sales_per_store_per_day * n_stores * basket_units(ch.pos.basket)
    wholesale = ch.wholesale.orders_per_day * basket_units(ch.wholesale.basket)
    return (online + pos + wholesale) * catalogue.popularity


def _location_daily_units(scn: Scenario, site_list: list[Site], network: Network) -> np.ndarray:
    """Expected units per day handled by each location (L,), before the SKU split.

    A rough split to size initial stock: ship/same-day units go to the nearest DC-type
    location that ships (the nearest shipping location if there is none); wholesale units
    to the nearest wholesale DC that serves wholesale (none if there is none: B2B orders
    then go unfilled); BOPIS units to the nearest pickup store; POS units to each store.
    """
    ch = scn.demand.channels
    n = len(site_list)
    out = np.zeros(n)
    is_store = np.array([s.is_store for s in site_list])
    ship_mask = network.can[Capability.SHIP] & ~is_store
    if not ship_mask.any():
        ship_mask = network.can[Capability.SHIP] | ~is_store
    pickup_mask = network.can[Capability.PICKUP]
    wholesale_mask = network.can[Capability.WHOLESALE] & np.array(
        [s.location.kind is LocationKind.WHOLESALE_DC for s in site_list]
    )
    ship_units = bopis_units = 0.0
    for name in ONLINE_CHANNELS:
        c = getattr(ch, name)
        units = c.orders_per_day * basket_units(c.basket)
        ship_units += units * (c.methods.ship + c.methods.same_day)
        bopis_units += units * c.methods.bopis
    if not pickup_mask.any():
        ship_units, bopis_units = ship_units + bopis_units, 0.0
    wholesale = ch.wholesale.orders_per_day * basket_units(ch.wholesale.basket)
    for region in network.regions:
        miles = haversine_miles(region.lat, region.lon, network.lat, network.lon)
        for mask, units in (
            (ship_mask, ship_units),
            (wholesale_mask, wholesale),
            (pickup_mask, bopis_units),
        ):
            if units > 0 and mask.any():
                row = int(np.argmin(np.where(mask, miles, np.inf)))
                out[row] += units * region.weight
    return out + _walk_in_daily_units(scn, site_list)


def _walk_in_daily_units(scn: Scenario, site_list: list[Site]) -> np.ndarray:
    """Expected walk-in (POS) units per day at each location (L,): stores only."""
    pos = scn.demand.channels.pos
    per_store = pos.sales_per_store_per_day * basket_units(pos.basket)
    return np.array([per_store if s.location.kind is LocationKind.STORE else 0.0
                     for s in site_list])  # fmt: skip


@dataclass(frozen=True)
class StockPlan:
    """Initial stock of every location, and what each store's walk-in customers can buy.

    Attributes:
        on_hand: Initial on-hand per location and SKU, (L, S). [units]
        safety: Safety stock per location and SKU, (L, S). [units]
        ranged: Per location and SKU, whether the location carries it (stocks it or keeps
            safety stock of it by the stocking rule, before ``inventory.overrides``), (L, S).
    """

    on_hand: np.ndarray
    safety: np.ndarray
    ranged: np.ndarray


def stock_plan(
    scn: Scenario, network: Network, catalogue: Catalogue, seed: int | None = None
) -> StockPlan:
    """Initial on-hand and safety stock per location and SKU, and each location's range.

    Each location's expected daily units (see `_location_daily_units`) are split over SKUs
    by popularity, times ``inventory.initial_days_of_cover`` (``dc`` or ``store`` tier) for
    on-hand and ``inventory.safety_stock_days`` for safety stock. Fractions are rounded
    stochastically (floor(x + U)), so slow movers are stocked at some locations only and
    totals match expectations. A location carries (ranges) the SKUs this gives it stock or
    safety stock of. A store's walk-in customers buy only what it carries, so its walk-in
    units are split over its range (popularity / popularity of the range) and its stock is
    sized on that split, with the same draws: a store carries the same SKUs either way.
    ``inventory.overrides`` then replace single cells of stock; they do not change ranges.

    Args:
        scn: The scenario.
        network: Its network (row order = location order).
        catalogue: Its catalogue (column order = SKU order).
        seed: Seed of the rounding draws; default the scenario's seed.
    """
    site_list = sites(scn)
    if [s.location.id for s in site_list] != [loc.id for loc in network.locations]:
        raise ValueError("initial_stock: network does not match the scenario's locations")
    daily = _location_daily_units(scn, site_list, network)
    cover = scn.inventory.initial_days_of_cover
    tier_days = np.array([cover.store if s.is_store else cover.dc for s in site_list])[:, None]
    safety_days = scn.inventory.safety_stock_days
    pop = catalogue.popularity
    rate = daily[:, None] * pop[None, :]  # (L, S) units/day
    rng = _rng(scn.seed if seed is None else seed, STREAM_STOCK)
    u_stock, u_safety = rng.random(rate.shape), rng.random(rate.shape)
    ranged = (np.floor(rate * tier_days + u_stock) > 0) | (
        np.floor(rate * safety_days + u_safety) > 0
    )
    # walk-in units move from the SKUs a store does not carry to those it does
    walk_in = _walk_in_daily_units(scn, site_list)
    mass = np.where(ranged, pop[None, :], 0.0).sum(axis=1)
    scale = np.divide(1.0, mass, out=np.ones_like(mass), where=mass > 0) - 1.0
    rate = rate + np.where(ranged, (walk_in * scale)[:, None] * pop[None, :], 0.0)
    on_hand = np.floor(rate * tier_days + u_stock).astype(np.int64)
    safety = np.floor(rate * safety_days + u_safety).astype(np.int64)
    sku_index = {sku: i for i, sku in enumerate(catalogue.skus)}
    for row in scn.inventory.overrides:
        r, c = network.index[row.location], sku_index[row.sku]
        on_hand[r, c], safety[r, c] = row.on_hand, row.safety_stock
    return StockPlan(on_hand, safety, ranged)


def initial_stock(
    scn: Scenario, network: Network, catalogue: Catalogue, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(on_hand, safety_stock)`` of `stock_plan`: int64 arrays of shape (L, S). [units]"""
    plan = stock_plan(scn, network, catalogue, seed)
    return plan.on_hand, plan.safety


def build_rate_card(scn: Scenario) -> RateCard:
    """The engine `RateCard` from ``carriers.rate_card``."""
    rc = scn.carriers.rate_card
    table = None
    if rc.zone_weight_table is not None:
        table = {
            z: [(float(w), float(p)) for w, p in rows] for z, rows in rc.zone_weight_table.items()
        }
    return RateCard(
        per_package=rc.per_package,
        per_item=rc.per_item,
        per_item_mile=rc.per_item_mile,
        zone_weight_table=table,
    )


def build_routing_settings(scn: Scenario, demand_rate: np.ndarray | None = None) -> RoutingSettings:
    """The engine's ``RoutingSettings`` from ``routing`` and ``operations``.

    Args:
        scn: The scenario.
        demand_rate: Expected daily demand per SKU for the ``balance`` policy. [units/day]
    """
    from engine.routing.settings import RoutingSettings

    r = scn.routing
    return RoutingSettings(
        closed_location=r.closed_location,
        same_day_max_miles=r.same_day_max_miles,
        max_packages=r.max_packages,
        demand_rate=demand_rate,
        allow_partial=r.allow_partial,
        bopis_pick_hours=scn.operations.bopis_ready_minutes / 60.0,
        same_day_hours=scn.operations.same_day_hours,
        release_hold_hours=scn.operations.release_hold_minutes / 60.0,
    )
