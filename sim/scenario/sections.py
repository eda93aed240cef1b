"""Scenario sections other than the network and catalogue: demand, operations, inventory,
carriers, returns, customer service, disruptions and routing.

Every model forbids unknown keys and has defaults, so each section may be left out.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.base import FieldError, Mean, Share, StrictModel

ONLINE_CHANNELS = ("web", "app", "marketplace", "social")
CHANNELS = (*ONLINE_CHANNELS, "pos", "wholesale")
MAX_ORDERS_PER_DAY = 10_000_000
"""Most orders a day one channel may have (a 1,000,000-order run is 28 days of ~37,500)."""
ChannelName = Literal["web", "app", "marketplace", "social", "pos", "wholesale"]

# Hourly shares of a day's online orders (local time of the customer); evening peak.
DEFAULT_HOUR_PROFILE = [
    0.8, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2.0, 2.8, 3.4, 3.8,
    4.2, 4.3, 4.2, 4.1, 4.0, 4.3, 4.8, 5.4, 5.8, 5.2, 3.6, 1.8,
]  # fmt: skip
# Day-of-week weights, Monday=0 .. Sunday=6.
DEFAULT_DAY_PROFILE = [1.05, 1.0, 1.0, 0.98, 0.95, 0.95, 1.07]
# Ground transit days by parcel zone 1..8 (zones by distance, see engine.network).
DEFAULT_TRANSIT_DAYS = {1: 1, 2: 2, 3: 3, 4: 3, 5: 4, 6: 5, 7: 5, 8: 5}


def _check_mix(values: dict[str, float], what: str) -> None:
    total = sum(values.values())
    if not math.isclose(total, 1.0, abs_tol=1e-3):
        parts = ", ".join(f"{k} {v:g}" for k, v in values.items())
        raise ValueError(f"{what} must sum to 1, got {total:g} ({parts})")


class Basket(StrictModel):
    """Basket size of an order: lines are 1 + Poisson, quantities 1 + Poisson, both capped.

    Attributes:
        mean_lines: Mean distinct SKUs per order. [lines, >= 1]
        max_lines: Cap on lines per order. [lines]
        mean_qty: Mean units per line. [units, >= 1]
        max_qty: Cap on units per line. [units]
    """

    mean_lines: float = Field(default=1.6, ge=1)
    max_lines: int = Field(default=5, ge=1)
    mean_qty: float = Field(default=1.1, ge=1)
    max_qty: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _means_within_caps(self) -> Basket:
        if self.mean_lines > self.max_lines:
            raise FieldError(
                "mean_lines", f"mean_lines {self.mean_lines:g} > max_lines {self.max_lines}"
            )
        if self.mean_qty > self.max_qty:
            raise FieldError("mean_qty", f"mean_qty {self.mean_qty:g} > max_qty {self.max_qty}")
        return self


class Methods(StrictModel):
    """Delivery-method mix of a channel's orders; shares must sum to 1 (omitted ones are 0)."""

    ship: Share = 0.0
    bopis: Share = 0.0
    same_day: Share = 0.0

    @model_validator(mode="after")
    def _sums_to_one(self) -> Methods:
        _check_mix(self.model_dump(), "delivery-method shares")
        return self


class OnlineChannel(StrictModel):
    """An online sales channel (web, app, marketplace, social).

    Attributes:
        orders_per_day: Mean orders on an average day before peaks. [orders/day]
        basket: Basket size.
        methods: Delivery-method mix.
        hour_profile: Optional channel-specific hour-of-day weights (24); default: demand's.
    """

    orders_per_day: float = Field(default=0.0, ge=0, le=MAX_ORDERS_PER_DAY)
    basket: Basket = Basket()
    methods: Methods = Methods(ship=1.0)
    hour_profile: list[float] | None = None

    @field_validator("hour_profile")
    @classmethod
    def _hours(cls, v: list[float] | None) -> list[float] | None:
        return None if v is None else _profile(v, 24)


class PosChannel(StrictModel):
    """Walk-in store sales (POS); they take shelf stock and reach the OMS after a sync delay.

    A store's walk-in customers buy from its range (the SKUs it holds or keeps safety stock
    of at the start), by catalogue popularity within it; a unit not on the shelf is lost.

    Attributes:
        sales_per_store_per_day: Mean POS transactions per store per day. [sales/day]
        basket: Basket size of a POS sale.
    """

    sales_per_store_per_day: float = Field(default=60.0, ge=0)
    basket: Basket = Basket(mean_lines=1.3, max_lines=4, mean_qty=1.1, max_qty=4)


class WholesaleChannel(StrictModel):
    """B2B orders, shipped from locations with the ``wholesale`` capability.

    Attributes:
        orders_per_day: Mean wholesale orders per day. [orders/day]
        basket: Basket size (large lines and quantities).
    """

    orders_per_day: float = Field(default=5.0, ge=0, le=MAX_ORDERS_PER_DAY)
    basket: Basket = Basket(mean_lines=6, max_lines=20, mean_qty=12, max_qty=48)


class Channels(StrictModel):
    """Demand per channel; online defaults add up to 5,000 orders a day."""

    web: OnlineChannel = OnlineChannel(
        orders_per_day=2600, methods=Methods(ship=0.85, bopis=0.12, same_day=0.03)
    )
    app: OnlineChannel = OnlineChannel(
        orders_per_day=1400,
        basket=Basket(mean_lines=1.4),
        methods=Methods(ship=0.80, bopis=0.15, same_day=0.05),
    )
    marketplace: OnlineChannel = OnlineChannel(
        orders_per_day=700, basket=Basket(mean_lines=1.2, max_lines=3)
    )
    social: OnlineChannel = OnlineChannel(
        orders_per_day=300, basket=Basket(mean_lines=1.1, max_lines=3)
    )
    pos: PosChannel = PosChannel()
    wholesale: WholesaleChannel = WholesaleChannel()


class Peak(StrictModel):
    """A demand peak (e.g. Black Friday): volumes multiplied on the given local dates.

    Attributes:
        start: First day of the peak.
        days: Length of the peak. [days]
        multiplier: Factor on the daily volume. [x, > 0]
        channels: Channels affected; default all.
    """

    start: date
    days: int = Field(default=1, gt=0)
    multiplier: float = Field(gt=0)
    channels: list[ChannelName] | None = None


def _profile(values: list[float], length: int, total: float = 1.0) -> list[float]:
    """Weights scaled to add up to ``total``, rounded to 10 decimals (idempotent)."""
    if len(values) != length:
        raise ValueError(f"needs {length} weights, got {len(values)}")
    if any(v < 0 for v in values):
        raise ValueError("weights must be >= 0")
    given = sum(values)
    if given <= 0:
        raise ValueError("weights must not all be 0")
    if abs(given - total) < 1e-8:
        return [float(v) for v in values]
    return [round(v * total / given, 10) for v in values]


class Demand(StrictModel):
    """Customer demand.

    Customers live in the ``regions`` most populous US cities, drawn in proportion to
    population. Arrivals are non-homogeneous Poisson: rate at hour h of weekday d is
    ``orders_per_day * day_profile[d] * hour_profile[h] * peak multiplier``.

    Attributes:
        customers: How customers are placed (``population``).
        regions: Number of demand regions (top cities by population). [count]
        channels: Per-channel volumes, baskets and method mixes.
        hour_profile: 24 hour-of-day weights (local time), normalised to sum to 1.
        day_profile: 7 day-of-week weights (Monday first), normalised to mean 1.
        peaks: Demand peaks.
    """

    customers: Literal["population"] = "population"
    regions: int = Field(default=300, gt=0)
    channels: Channels = Channels()
    hour_profile: list[float] = DEFAULT_HOUR_PROFILE
    day_profile: list[float] = DEFAULT_DAY_PROFILE
    peaks: list[Peak] = []

    @field_validator("hour_profile")
    @classmethod
    def _hours(cls, v: list[float]) -> list[float]:
        return _profile(v, 24)

    @field_validator("day_profile")
    @classmethod
    def _days(cls, v: list[float]) -> list[float]:
        return _profile(v, 7, total=7.0)


class Operations(StrictModel):
    """Order handling: BOPIS, routing mode and what happens to oversold orders.

    Attributes:
        bopis_ready_minutes: Promised time from order to "ready for pickup". [min]
        pickup_delay_hours: Customer's delay from "ready" to pickup (exponential). [h]
        no_show_rate: Share of BOPIS customers who never come. [0..1]
        no_show_days: Days a ready order is held before it is cancelled and restocked. [days]
        routing_mode: Route each order on arrival, or in periodic batches.
        batch_minutes: Batch interval when ``routing_mode`` is ``batch``. [min]
        routing_tick_seconds: On arrival, orders arriving within the same tick are placed
            together at its end, in arrival order (the OMS's brokering latency; the engine
            decides them as one batch, see `engine.routing.batch`); 0 places every order
            at the instant it arrives. [s]
        oversell_action: On a location's rejection: re-route the order or cancel it.
        same_day_hours: Promised time to the door of a same-day order, from routing (or
            the location's next opening): hold, pick, pack and courier. [h]
        courier_hours: Longest courier trip of a same-day parcel, from packing to the door
            (uniform on [50%, 100%] of it). [h]
        release_hold_minutes: Hold between placement and release to locations, during
            which customer service can still edit or cancel the order; promises count it
            (an order routed less than the hold before a cut-off gets the next truck). [min]
        pick_time: Distribution of pick/pack times around their mean.
        pick_time_cv: Coefficient of variation of ``lognormal`` pick times. [-]
    """

    bopis_ready_minutes: float = Field(default=120.0, gt=0)
    pickup_delay_hours: Mean = Mean(mean=20.0)
    no_show_rate: Share = 0.05
    no_show_days: float = Field(default=3.0, gt=0)
    routing_mode: Literal["on_arrival", "batch"] = "on_arrival"
    batch_minutes: float = Field(default=30.0, gt=0)
    routing_tick_seconds: float = Field(default=60.0, ge=0, le=3600)
    oversell_action: Literal["reroute", "cancel"] = "reroute"
    same_day_hours: float = Field(default=4.0, gt=0)
    courier_hours: float = Field(default=2.0, gt=0)
    release_hold_minutes: float = Field(default=30.0, ge=0)
    pick_time: Literal["exponential", "fixed", "lognormal"] = "lognormal"
    pick_time_cv: float = Field(default=0.5, ge=0)


class DaysByTier(StrictModel):
    """Days of demand, for DC-type locations and for stores (incl. dark stores). [days]"""

    dc: float = Field(ge=0)
    store: float = Field(ge=0)


class Replenishment(StrictModel):
    """Periodic-review, order-up-to replenishment: suppliers -> DCs -> stores.

    Attributes:
        review_days: Review period. [days]
        dc_lead_days: Supplier-to-DC lead time. [days]
        store_lead_days: DC-to-store lead time. [days]
        lead_sd_days: Standard deviation of lead times. [days]
        order_up_to_days: Order-up-to level as days of expected demand. [days]
    """

    review_days: float = Field(default=7.0, gt=0)
    dc_lead_days: float = Field(default=5.0, ge=0)
    store_lead_days: float = Field(default=2.0, ge=0)
    lead_sd_days: float = Field(default=0.5, ge=0)
    order_up_to_days: DaysByTier = DaysByTier(dc=30, store=14)


class RecordInaccuracy(StrictModel):
    """Store records that overstate the shelf (system says 2, shelf has 0).

    Attributes:
        share: Share of the store location-SKU records holding stock at the start that
            are too high (an empty record cannot overstate): the shelf holds 1 to
            `max_units` units fewer, at least 0. [0..1]
        max_units: Largest overstatement, and largest loss of one shelf in one day. [units]
        daily_share: Share of the store shelves holding stock that lose 1 to `max_units`
            units each day without the records knowing (theft, damage, misplaced units:
            shrink), so records drift above the shelves during the run until a rejection's
            count finds it; 0 = none. [0..1 per day]
    """

    share: Share = 0.05
    max_units: int = Field(default=2, ge=0)
    daily_share: Share = 0.0


class StockOverride(StrictModel):
    """Explicit initial stock of one SKU at one location (replaces days of cover). It
    changes the stock only: what a store carries for its walk-in customers stays as the
    stocking rule gives it (a store set to 0 units of a SKU it carries loses its sales).

    Attributes:
        location: Location id.
        sku: SKU id.
        on_hand: Initial units. [units]
        safety_stock: Safety stock. [units]
    """

    location: str
    sku: str
    on_hand: int = Field(ge=0)
    safety_stock: int = Field(default=0, ge=0)


class Inventory(StrictModel):
    """Initial stock, safety stock, replenishment and record quality.

    Attributes:
        initial_days_of_cover: Initial stock as days of expected demand. [days]
        safety_stock_days: Safety stock as days of expected demand. [days]
        replenishment: Replenishment policy.
        record_inaccuracy: Store record inaccuracy.
        pos_sync_delay_minutes: Delay before a POS sale reaches the OMS. [min]
        overrides: Explicit initial stock for given location-SKU pairs.
    """

    initial_days_of_cover: DaysByTier = DaysByTier(dc=30, store=14)
    safety_stock_days: float = Field(default=1.0, ge=0)
    replenishment: Replenishment = Replenishment()
    record_inaccuracy: RecordInaccuracy = RecordInaccuracy()
    pos_sync_delay_minutes: float = Field(default=15.0, ge=0)
    overrides: list[StockOverride] = []


class RateCardSpec(StrictModel):
    """Parcel shipping prices (Jasin & Sinha 2015 defaults). [USD]

    Attributes:
        per_package: Fixed cost per package. [USD]
        per_item: Cost per unit. [USD/unit]
        per_item_mile: Cost per unit per mile. [USD/(unit*mile)]
        zone_weight_table: Optional zone -> [[max_lb, price], ...] table; replaces the formula.
    """

    per_package: float = Field(default=8.759, ge=0)
    per_item: float = Field(default=0.423, ge=0)
    per_item_mile: float = Field(default=0.000541, ge=0)
    zone_weight_table: dict[Annotated[int, Field(ge=1, le=8)], list[list[float]]] | None = None


class Carriers(StrictModel):
    """Parcel carriers: cut-off, pickup, transit by zone, variability and prices.

    Attributes:
        cutoff_hour: Local hour after which packed parcels wait for the next day. [h]
        pickup_hour: Local hour of the daily carrier pickup. [h]
        transit_days: Ground transit by zone 1..8. [days]
        delay_sd_days: Standard deviation of transit time. [days]
        rate_card: Shipping prices.
    """

    cutoff_hour: float = Field(default=17.0, ge=0, le=24)
    pickup_hour: float = Field(default=18.0, ge=0, le=24)
    transit_days: dict[int, Annotated[int, Field(ge=0)]] = DEFAULT_TRANSIT_DAYS
    delay_sd_days: float = Field(default=0.3, ge=0)
    rate_card: RateCardSpec = RateCardSpec()

    @field_validator("transit_days")
    @classmethod
    def _all_zones(cls, v: dict[int, int]) -> dict[int, int]:
        if sorted(v) != list(range(1, 9)):
            raise ValueError(f"needs zones 1..8, got {sorted(v)}")
        return dict(sorted(v.items()))

    @model_validator(mode="after")
    def _pickup_after_cutoff(self) -> Carriers:
        if self.pickup_hour < self.cutoff_hour:
            raise FieldError(
                "pickup_hour",
                f"pickup_hour {self.pickup_hour:g} is before cutoff_hour {self.cutoff_hour:g}",
            )
        return self


class ReturnCondition(StrictModel):
    """Condition mix of returned units; shares must sum to 1."""

    new: Share = 0.7
    opened: Share = 0.25
    damaged: Share = 0.05

    @model_validator(mode="after")
    def _sums_to_one(self) -> ReturnCondition:
        _check_mix(self.model_dump(), "return condition shares")
        return self


class Returns(StrictModel):
    """Returns: buy anywhere, return anywhere. The return rate is per SKU (catalogue).

    Attributes:
        lag_days: Delay from delivery/pickup until the customer sends or brings the
            units back (exponential). [days]
        mail_share: Share returned by mail to a DC (arriving after the zone's ground
            transit, ``carriers.transit_days``); the rest at a store desk. [0..1]
        inspection_hours: Inspection before disposition. [h]
        condition: Condition mix.
        exchange_share: Share of returns exchanged rather than refunded. [0..1]
    """

    lag_days: Mean = Mean(mean=10.0)
    mail_share: Share = 0.6
    inspection_hours: float = Field(default=24.0, ge=0)
    condition: ReturnCondition = ReturnCondition()
    exchange_share: Share = 0.2


class CustomerService(StrictModel):
    """Customer-service changes before release.

    Attributes:
        edit_share: Share of online orders edited (quantity/line/address). [0..1]
        cancel_share: Share of online orders cancelled. [0..1]
        delay_minutes: Delay from order to the edit or cancel (exponential). [min]
    """

    edit_share: Share = 0.02
    cancel_share: Share = 0.01
    delay_minutes: Mean = Mean(mean=30.0)

    @model_validator(mode="after")
    def _total(self) -> CustomerService:
        if self.edit_share + self.cancel_share > 1:
            raise FieldError("cancel_share", "edit_share + cancel_share must be <= 1")
        return self


class Outage(StrictModel):
    """A location down (no picking, not routable) for a while.

    Attributes:
        location: Location id.
        start_day: Start, in days from the scenario start. [days]
        days: Duration. [days]
    """

    location: str
    start_day: float = Field(ge=0)
    days: float = Field(gt=0)


class CarrierDelay(StrictModel):
    """Extra transit time for parcels shipped during a window.

    Attributes:
        start_day: Start, in days from the scenario start. [days]
        days: Duration. [days]
        extra_days: Added transit time. [days]
        zones: Zones affected; default all.
    """

    start_day: float = Field(ge=0)
    days: float = Field(gt=0)
    extra_days: float = Field(gt=0)
    zones: list[Annotated[int, Field(ge=1, le=8)]] | None = None


class Disruptions(StrictModel):
    """Location outages and carrier delays."""

    outages: list[Outage] = []
    carrier_delays: list[CarrierDelay] = []


class Routing(StrictModel):
    """Routing policy and settings handed to the engine's Router.

    Attributes:
        policy: Policy name from the engine registry (closest, ranked, min_split, cost, ...),
            a rules file ``FILE.yaml[:NAME]`` (a relative ``FILE`` is read from the
            scenario file's folder) or a Python ``module:NAME``.
        params: Policy parameters, e.g. ``{priority: [DC-EAST, DC-WEST]}`` for ``ranked``.
        closed_location: ``wait`` for a closed location to open, or ``skip`` it.
        same_day_max_miles: Largest distance for same-day delivery. [miles]
        allow_partial: Ship what is available and lose the rest (else reject the order).
        max_packages: Most packages one order may be split into. [count]
    """

    policy: str = Field(default="closest", min_length=1)
    params: dict[str, Any] = {}
    closed_location: Literal["wait", "skip"] = "wait"
    same_day_max_miles: float = Field(default=50.0, gt=0)
    allow_partial: bool = True
    max_packages: int = Field(default=5, ge=1)
