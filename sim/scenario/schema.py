"""Typed scenario: pydantic v2 models for every section of a scenario YAML file.

A minimal file ``name: x`` is valid: every section has defaults that describe a mid-size
US omnichannel retailer. See ``scenarios/default.yaml`` for a commented example.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from engine.stock import MAX_UNITS
from sim.scenario import geography
from sim.scenario.base import FieldError, Hours, HoursSpec, Share, StrictModel, WholeNumber
from sim.scenario.sections import (
    CarrierDelay,
    Carriers,
    CustomerService,
    Demand,
    Disruptions,
    Inventory,
    Operations,
    Outage,
    Peak,
    Replenishment,
    Returns,
    Routing,
)

__all__ = [
    "Catalogue",
    "CarrierDelay",
    "Carriers",
    "CustomerService",
    "Demand",
    "Disruptions",
    "Hours",
    "Inventory",
    "LocationSpec",
    "MAX_HORIZON_DAYS",
    "MAX_REPLICATIONS",
    "MAX_SEED",
    "MAX_SKUS",
    "MAX_STOCK_CELLS",
    "NetworkSpec",
    "Operations",
    "Outage",
    "Peak",
    "Replenishment",
    "Returns",
    "Routing",
    "Scenario",
    "SkuSpec",
    "StoreDefaults",
    "StorePlacement",
    "WarehouseDefaults",
    "shortened_warmup",
]

Capability = Literal["ship", "pickup", "returns", "wholesale"]
LOCATION_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_HORIZON_DAYS = 366
"""Longest horizon: a year (orders are generated up front, so memory grows with it)."""
MAX_SEED = 2**53 - 1
"""Largest seed: integers up to here are exact in JSON and in the browser (the app's URL)."""
MAX_REPLICATIONS = 1_000
"""Most replications per policy in a comparison or a sweep case."""
MAX_SKUS = 1_000_000
"""Most SKUs in a catalogue."""
MAX_STOCK_CELLS = 20_000_000
"""Most locations x SKUs: each pair holds stock records in memory (about 80 bytes when
the world is built, so about 1.6 GB at this limit, before any order)."""


class LocationSpec(StrictModel):
    """One explicit location. Omitted fields come from ``store_defaults`` or
    ``warehouse_defaults``.

    Give either ``city`` ("Columbus, OH") or all of ``lat``, ``lon`` and ``timezone``.

    Attributes:
        id: Location id, e.g. ``DC-EAST``.
        kind: warehouse | 3pl | wholesale_dc | dark_store | store (default by list).
        city: City from the US cities table, "Name, ST".
        lat: Latitude. [degrees]
        lon: Longitude. [degrees]
        timezone: IANA time zone.
        staff: Pick/pack staff on shift. [people]
        pick_minutes: Mean time to pick one order line. [min]
        pack_minutes: Mean time to pack one package. [min]
        capabilities: What the location may do; default by kind.
        daily_order_limit: Most orders assigned per local day; null = unlimited. [orders/day]
        online_threshold: Stock shown online only at or above this. [units]
        handling_cost_per_order: [USD/order]
        handling_cost_per_unit: [USD/unit]
        hours: Local opening hours, or ``always``.
    """

    id: str = Field(pattern=LOCATION_ID)
    kind: Literal["warehouse", "3pl", "wholesale_dc", "dark_store", "store"] | None = None
    city: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    timezone: str | None = None
    staff: int | None = Field(default=None, gt=0)
    pick_minutes: float | None = Field(default=None, gt=0)
    pack_minutes: float | None = Field(default=None, ge=0)
    capabilities: list[Capability] | None = None
    daily_order_limit: int | None = Field(default=None, ge=0)
    online_threshold: int | None = Field(default=None, ge=0, le=MAX_UNITS)
    handling_cost_per_order: float | None = Field(default=None, ge=0)
    handling_cost_per_unit: float | None = Field(default=None, ge=0)
    hours: HoursSpec | None = None

    @model_validator(mode="after")
    def _place(self) -> LocationSpec:
        coords = (self.lat, self.lon, self.timezone)
        if self.city is not None:
            if any(c is not None for c in coords):
                raise FieldError("city", "give either city or lat/lon/timezone, not both")
            try:
                geography.city(self.city)
            except geography.UnknownCityError as exc:
                raise FieldError("city", str(exc)) from None
        elif any(c is None for c in coords):
            missing = [
                n for n, c in zip(("lat", "lon", "timezone"), coords, strict=True) if c is None
            ]
            raise FieldError(missing[0], "give city, or all of lat, lon and timezone")
        else:
            from zoneinfo import ZoneInfo

            try:
                ZoneInfo(str(self.timezone))
            except Exception:
                raise FieldError("timezone", f"unknown time zone {self.timezone!r}") from None
        return self


class StorePlacement(StrictModel):
    """Generated stores: one per metro in the largest US metros, largest first.

    Store ids are ``STORE-01``, ``STORE-02``, ... in that order (stable for a given count).

    Attributes:
        count: Number of stores. [count]
        placement: ``largest_metros``.
        min_miles: Cities closer than this to a chosen one count as the same metro. [miles]
    """

    count: int = Field(default=40, ge=0)
    placement: Literal["largest_metros"] = "largest_metros"
    min_miles: float = Field(default=30.0, ge=0)

    @model_validator(mode="after")
    def _enough_metros(self) -> StorePlacement:
        try:
            geography.largest_metros(self.count, self.min_miles)
        except ValueError as exc:
            reason = str(exc).removeprefix("largest_metros: ")
            raise FieldError("count", f"{reason}; lower count or min_miles") from None
        return self

    def ids(self) -> list[str]:
        """Generated store ids."""
        width = max(2, len(str(self.count)))
        return [f"STORE-{i:0{width}d}" for i in range(1, self.count + 1)]


class StoreDefaults(StrictModel):
    """Defaults for stores (and dark stores). Units as in `LocationSpec`."""

    hours: HoursSpec = Hours(open=9, close=21)
    staff: int = Field(default=3, gt=0)
    pick_minutes: float = Field(default=6.0, gt=0)
    pack_minutes: float = Field(default=3.0, ge=0)
    ship_from_store: bool = True
    pickup: bool = True
    returns: bool = True
    daily_order_limit: int | None = Field(default=60, ge=0)
    online_threshold: int = Field(default=2, ge=0, le=MAX_UNITS)
    handling_cost_per_order: float = Field(default=3.0, ge=0)
    handling_cost_per_unit: float = Field(default=0.5, ge=0)


_WHOLESALE_ONLY = (
    "wholesale is served only by locations of kind wholesale_dc (they take it by default)"
)


class WarehouseDefaults(StrictModel):
    """Defaults for warehouses, 3PLs and wholesale DCs. Units as in `LocationSpec`.

    `capabilities` apply to warehouses and 3PLs; a wholesale DC serves wholesale (B2B)
    orders only, unless its own `capabilities` say otherwise.
    """

    hours: HoursSpec = Hours()
    staff: int = Field(default=6, gt=0)
    pick_minutes: float = Field(default=2.0, gt=0)
    pack_minutes: float = Field(default=1.0, ge=0)
    capabilities: list[Capability] = ["ship", "returns"]
    daily_order_limit: int | None = Field(default=None, ge=0)

    @field_validator("capabilities")
    @classmethod
    def _not_wholesale(cls, v: list[Capability]) -> list[Capability]:
        if "wholesale" in v:
            raise ValueError(_WHOLESALE_ONLY)
        return v

    handling_cost_per_order: float = Field(default=1.5, ge=0)
    handling_cost_per_unit: float = Field(default=0.25, ge=0)


def _list_or_other(value: Any) -> str:
    return "list" if isinstance(value, list) else "other"


StoresSpec = Annotated[
    Annotated[list[LocationSpec], Tag("list")] | Annotated[StorePlacement, Tag("other")],
    Discriminator(_list_or_other),
]

DEFAULT_WAREHOUSES = [
    LocationSpec(id="DC-EAST", city="Allentown, PA"),
    LocationSpec(id="DC-CENTRAL", city="Memphis, TN"),
    LocationSpec(id="DC-WEST", city="Ontario, CA"),
    LocationSpec(id="DC-WHOLESALE", city="Columbus, OH", kind="wholesale_dc"),
]


class NetworkSpec(StrictModel):
    """The fulfilment network: explicit warehouses, and stores listed or generated."""

    warehouses: list[LocationSpec] = DEFAULT_WAREHOUSES
    stores: StoresSpec = StorePlacement()
    store_defaults: StoreDefaults = StoreDefaults()
    warehouse_defaults: WarehouseDefaults = WarehouseDefaults()

    @model_validator(mode="after")
    def _kinds_and_ids(self) -> NetworkSpec:
        for i, w in enumerate(self.warehouses):
            if w.kind == "store":
                raise FieldError(f"warehouses.{i}.kind", "stores belong in network.stores")
            if w.online_threshold is not None and w.kind != "dark_store":
                raise FieldError(
                    f"warehouses.{i}.online_threshold",
                    "applies to stores only (a warehouse's stock is shown online in full)",
                )
            if w.capabilities and "wholesale" in w.capabilities and w.kind != "wholesale_dc":
                raise FieldError(f"warehouses.{i}.capabilities", _WHOLESALE_ONLY)
        if isinstance(self.stores, list):
            for i, s in enumerate(self.stores):
                if s.kind not in (None, "store", "dark_store"):
                    raise FieldError(f"stores.{i}.kind", "must be store or dark_store")
                if s.capabilities and "wholesale" in s.capabilities:
                    raise FieldError(f"stores.{i}.capabilities", _WHOLESALE_ONLY)
        seen: set[str] = set()
        for path, loc_id in self._ids_with_paths():
            if loc_id in seen:
                raise FieldError(path, f"duplicate location id {loc_id!r}")
            seen.add(loc_id)
        if not seen:
            raise FieldError("warehouses", "the network has no locations")
        return self

    def _ids_with_paths(self) -> list[tuple[str, str]]:
        out = [(f"warehouses.{i}.id", w.id) for i, w in enumerate(self.warehouses)]
        if isinstance(self.stores, list):
            out += [(f"stores.{i}.id", s.id) for i, s in enumerate(self.stores)]
        else:
            out += [("stores.count", sid) for sid in self.stores.ids()]
        return out

    def location_ids(self) -> list[str]:
        """All location ids, warehouses first, then stores (the network's row order)."""
        return [loc_id for _, loc_id in self._ids_with_paths()]


class SkuSpec(StrictModel):
    """One explicit SKU.

    Attributes:
        id: SKU id.
        popularity: Relative demand weight. [> 0]
        weight_lb: Unit weight. [lb]
        price: Unit price. [USD]
        return_rate: Share of sold units returned. [0..1]
    """

    id: str = Field(min_length=1)
    popularity: float = Field(default=1.0, gt=0)
    weight_lb: float = Field(default=2.0, gt=0)
    price: float = Field(default=40.0, gt=0)
    return_rate: Share = 0.12


class Spread(StrictModel):
    """A positive quantity drawn lognormally per SKU.

    Attributes:
        mean: Mean. [unit of the field]
        cv: Coefficient of variation (sd / mean). [>= 0]
    """

    mean: float = Field(gt=0)
    cv: float = Field(default=0.6, ge=0)


SkusSpec = Annotated[
    Annotated[list[SkuSpec], Field(max_length=MAX_SKUS), Tag("list")]
    | Annotated[int, Field(gt=0, le=MAX_SKUS), Tag("other")],
    Discriminator(_list_or_other),
]


class Catalogue(StrictModel):
    """Products: a generated catalogue (``skus: 2000``) or an explicit list of SKUs.

    Attributes:
        skus: Number of generated SKUs (ids ``SKU-00001``...), or explicit SKUs; at most
            `MAX_SKUS`, and at most `MAX_STOCK_CELLS` with the locations multiplied in.
        popularity: ``zipf`` (rank r has weight r^-zipf_s) or ``uniform``.
        zipf_s: Zipf exponent. [> 0]
        weight_lb: Unit weight of generated SKUs. [lb]
        price: Unit price of generated SKUs. [USD]
        return_rate: Share of sold units returned, generated SKUs (their rates vary; the
            popularity-weighted mean is this). [0..1]
    """

    skus: SkusSpec = 2000
    popularity: Literal["zipf", "uniform"] = "zipf"
    zipf_s: float = Field(default=1.1, gt=0)
    weight_lb: Spread = Spread(mean=2.0, cv=0.8)
    price: Spread = Spread(mean=40.0, cv=0.6)
    return_rate: Share = 0.12

    @field_validator("skus")
    @classmethod
    def _unique(cls, v: int | list[SkuSpec]) -> int | list[SkuSpec]:
        if isinstance(v, list):
            if not v:
                raise ValueError("needs at least one SKU")
            seen: set[str] = set()
            for i, sku in enumerate(v):
                if sku.id in seen:
                    raise FieldError(f"{i}.id", f"duplicate SKU id {sku.id!r}")
                seen.add(sku.id)
        return v

    def sku_ids(self) -> list[str]:
        """All SKU ids in catalogue order."""
        if isinstance(self.skus, list):
            return [s.id for s in self.skus]
        width = max(5, len(str(self.skus)))
        return [f"SKU-{i:0{width}d}" for i in range(1, self.skus + 1)]


def shortened_warmup(warmup_days: int, days: int) -> int:
    """The warm-up of a run shortened to `days` days: ``warmup_days``, at most half of
    it (the rule of ``fulfil run --days`` and of the app's horizon lever). [days]"""
    return min(int(warmup_days), int(days) // 2)


class Scenario(StrictModel):
    """A complete, validated scenario.

    Attributes:
        name: Scenario name.
        description: Free text.
        seed: Default random seed. [0, 2**53 - 1: exact in JSON and in the browser]
        start: First simulated day; sim time 0 is this date 00:00 UTC. [1970-01-01 to
            2999-12-31]
        horizon_days: Simulated days. [days, at most `MAX_HORIZON_DAYS`]
        warmup_days: Days whose orders are left out of the KPIs. [days, < horizon_days]
    """

    name: str = Field(min_length=1)
    description: str = ""
    seed: int = Field(default=42, ge=0, le=MAX_SEED)
    start: date = Field(default=date(2026, 11, 2), ge=date(1970, 1, 1), le=date(2999, 12, 31))
    horizon_days: WholeNumber = Field(default=28, gt=0, le=MAX_HORIZON_DAYS)
    warmup_days: WholeNumber = Field(default=3, ge=0)
    network: NetworkSpec = NetworkSpec()
    catalogue: Catalogue = Catalogue()
    demand: Demand = Demand()
    operations: Operations = Operations()
    inventory: Inventory = Inventory()
    carriers: Carriers = Carriers()
    returns: Returns = Returns()
    customer_service: CustomerService = CustomerService()
    disruptions: Disruptions = Disruptions()
    routing: Routing = Routing()

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        if self.warmup_days >= self.horizon_days:
            given = "" if "warmup_days" in self.model_fields_set else ", the default"
            raise FieldError(
                "warmup_days",
                f"warmup_days ({self.warmup_days}{given}) must be less than horizon_days "
                f"({self.horizon_days}): set warmup_days below it, e.g. warmup_days: "
                f"{shortened_warmup(self.warmup_days, self.horizon_days)}",
            )
        locations = set(self.network.location_ids())
        for i, outage in enumerate(self.disruptions.outages):
            if outage.location not in locations:
                raise FieldError(
                    f"disruptions.outages.{i}.location", _unknown("location", outage.location)
                )
        priority = self.routing.params.get("priority")
        if priority is not None:
            if not isinstance(priority, list) or not all(isinstance(p, str) for p in priority):
                raise FieldError("routing.params.priority", "must be a list of location ids")
            for i, loc_id in enumerate(priority):
                if loc_id not in locations:
                    raise FieldError(f"routing.params.priority.{i}", _unknown("location", loc_id))
        skus = set(self.catalogue.sku_ids())
        if len(locations) * len(skus) > MAX_STOCK_CELLS:
            raise FieldError(
                "catalogue.skus",
                f"{len(locations):,} locations x {len(skus):,} SKUs make "
                f"{len(locations) * len(skus):,} location-SKU pairs, more than the "
                f"{MAX_STOCK_CELLS:,} allowed (each holds stock records in memory): use "
                "fewer SKUs or locations",
            )
        for i, row in enumerate(self.inventory.overrides):
            if row.location not in locations:
                raise FieldError(
                    f"inventory.overrides.{i}.location", _unknown("location", row.location)
                )
            if row.sku not in skus:
                raise FieldError(f"inventory.overrides.{i}.sku", _unknown("SKU", row.sku))
        return self

    def warmup_for(self, days: int | None = None) -> int:
        """Warm-up days of a run of `days` days (None: ``horizon_days``): ``warmup_days``,
        at most half of a shortened run. [days]"""
        if days is None:
            return int(self.warmup_days)
        return shortened_warmup(int(self.warmup_days), int(days))

    def resolved(self) -> dict[str, Any]:
        """The fully resolved scenario (defaults filled) as plain JSON-compatible data."""
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        """The fully resolved scenario as YAML text; loading it gives an equal Scenario."""
        import yaml

        return yaml.safe_dump(self.model_dump(mode="python"), sort_keys=False, allow_unicode=True)


def _unknown(what: str, value: str) -> str:
    return f"unknown {what} {value!r}"
