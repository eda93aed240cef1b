"""Planner levers: a few high-level knobs mapped onto scenario fields.

One definition serves the app's widgets (and so the URL query string they are bound to)
and the tests. Each `Lever` carries its unit, range and step as data, reads its current
value from a scenario (as the plain dict that `Scenario.resolved()` or YAML gives) and
turns a new value into dotted-path overrides for `sim.scenario.apply_overrides`.

A lever whose value equals what it reads from the scenario produces no override, so an
untouched scenario stays byte-for-byte the same. A scenario's own value is shown as it is,
also outside the lever's usual range (`lo`, `hi`): the widget's range widens to hold it.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "LEVERS",
    "MAX_PAGE_DAYS",
    "NO_LIMIT",
    "NO_OUTAGE",
    "ONLINE_CHANNELS",
    "Lever",
    "LeverKind",
    "lever",
    "lever_defaults",
    "levers_to_overrides",
    "location_ids",
]

MAX_PAGE_DAYS = 90
"""Longest horizon the page's lever offers: a comparison runs policies x replications
runs at once, each holding its orders in memory (about 1.4 GB per million orders), so a
year of the default scenario's demand on 9 runs would need about 20 GB. [days]"""

LeverKind = Literal["int", "float", "bool", "range", "choice"]
Overrides = dict[str, Any]

ONLINE_CHANNELS: tuple[str, ...] = ("web", "app", "marketplace", "social")
"""Channels whose orders the OMS routes (POS and wholesale excluded)."""

NO_OUTAGE = "(none)"
"""The outage-location choice meaning "no extra outage"."""

NO_LIMIT = "no limit"
"""The ship-from-store daily limit meaning "unlimited" (a toggle in the app)."""


@dataclass(frozen=True)
class Lever:
    """One planner knob.

    Attributes:
        key: Short identifier, also the URL query key (e.g. ``"bopis"``).
        label: Text shown next to the widget.
        unit: Unit shown to the planner (e.g. ``"orders/day"``).
        kind: Widget kind: ``int``, ``float``, ``bool``, ``range`` (a pair) or ``choice``.
        lo: Smallest allowed value (numeric kinds).
        hi: Largest allowed value (numeric kinds).
        step: Widget step (numeric kinds).
        help: One sentence on what the lever changes.
        paths: Scenario fields the lever writes, for documentation and tests.
        read: Current value from a scenario dict; None when it does not apply.
        write: ``(scenario dict, value) -> overrides``.
        group: Section of the sidebar the lever belongs to.
        empty: A value that is not a number (e.g. `NO_LIMIT`; the app offers a toggle for
            it, and None from a widget stands for it); None when the lever is always a
            number.
    """

    key: str
    label: str
    unit: str
    kind: LeverKind
    read: Callable[[Mapping[str, Any]], Any]
    write: Callable[[Mapping[str, Any], Any], Overrides]
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    help: str = ""
    paths: tuple[str, ...] = field(default_factory=tuple)
    group: str = "Demand"
    empty: Any = None

    @property
    def title(self) -> str:
        """Label with its unit, e.g. ``"POS sync delay (minutes)"``."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    def coerce(self, value: Any) -> Any:
        """``value`` as the lever's kind (ints rounded; not clamped into ``[lo, hi]``).

        Raises:
            ValueError: ``value`` cannot be read as the lever's kind, or a window
                (``range``) does not close after it opens; the message names the lever.
        """
        if self.empty is not None and (value is None or value == self.empty):
            return self.empty
        if self.kind == "bool":
            return bool(value)
        if self.kind == "choice":
            return str(value)
        if self.kind == "range":
            low, high = (self._number(v) for v in value)
            if low >= high:
                raise ValueError(
                    f"{self.label}: closing ({high:g}) must come after opening ({low:g})"
                )
            return (low, high)
        return self._number(value)

    def _number(self, value: Any) -> int | float:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{self.label}: expected a finite number, got {value!r}")
        if self.kind == "int":
            return int(round(number))
        return round(number, 6)


# --- helpers on the scenario dict -------------------------------------------------------


def _get(data: Mapping[str, Any], path: str, default: Any = None) -> Any:
    node: Any = data
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return default
    return node


def _online(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    channels = _get(data, "demand.channels", {}) or {}
    return {ch: channels[ch] for ch in ONLINE_CHANNELS if isinstance(channels.get(ch), Mapping)}


def _rate(channel: Mapping[str, Any]) -> float:
    return float(channel.get("orders_per_day", 0) or 0)


def _explicit_stores(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    stores = _get(data, "network.stores")
    return list(stores) if isinstance(stores, list) else []


def _store_field(data: Mapping[str, Any], name: str, default: Any) -> Any:
    """The value most stores have: a listed store's own value, else the store defaults'
    (else `default`); ties go to the first store."""
    base = _get(data, f"network.store_defaults.{name}")
    base = default if base is None else base
    values = [
        store[name] if isinstance(store, Mapping) and store.get(name) is not None else base
        for store in _explicit_stores(data)
    ]
    if not values:
        return base
    counts = Counter(repr(v) for v in values)  # values may be mappings (opening hours)
    most = max(counts.values())
    return next(v for v in values if counts[repr(v)] == most)


def _has_stores(data: Mapping[str, Any]) -> bool:
    stores = _get(data, "network.stores")
    if isinstance(stores, list):
        return bool(stores)
    return not isinstance(stores, Mapping) or int(stores.get("count", 1) or 0) > 0


def _for_stores(read: Callable[[Mapping[str, Any]], Any]) -> Callable[[Mapping[str, Any]], Any]:
    """`read`, or None (the lever does not apply) for a scenario without stores."""
    return lambda data: read(data) if _has_stores(data) else None


def _write_store_field(data: Mapping[str, Any], name: str, value: Any) -> Overrides:
    """Set a store field on the defaults and on every explicitly listed store that sets it."""
    out: Overrides = {f"network.store_defaults.{name}": value}
    for i, store in enumerate(_explicit_stores(data)):
        if isinstance(store, Mapping) and store.get(name) is not None:
            out[f"network.stores.{i}.{name}"] = value
    return out


# --- reads and writes -------------------------------------------------------------------


def _read_days(data: Mapping[str, Any]) -> int:
    return int(_get(data, "horizon_days", 28))


def _write_days(data: Mapping[str, Any], days: int) -> Overrides:
    from sim.scenario.schema import shortened_warmup

    out: Overrides = {"horizon_days": int(days)}
    warmup = int(_get(data, "warmup_days", 0) or 0)
    if shortened_warmup(warmup, days) != warmup:  # as `fulfil run --days`: at most half
        out["warmup_days"] = shortened_warmup(warmup, days)
    return out


def _read_online(data: Mapping[str, Any]) -> int:
    return int(round(sum(_rate(ch) for ch in _online(data).values())))


def _write_online(data: Mapping[str, Any], total: float) -> Overrides:
    channels = _online(data)
    current = sum(_rate(ch) for ch in channels.values())
    if not channels:
        return {"demand.channels.web.orders_per_day": float(total)}
    out: Overrides = {}
    for name, ch in channels.items():
        share = _rate(ch) / current if current > 0 else 1.0 / len(channels)
        out[f"demand.channels.{name}.orders_per_day"] = round(float(total) * share, 3)
    return out


def _peak_multiplier(peak: Any) -> float | None:
    """A peak's multiplier when it raises demand (at least 1); None for a dip (below 1),
    which the peak lever leaves alone."""
    if not isinstance(peak, Mapping):
        return None
    value = float(peak.get("multiplier", 1.0))
    return value if value >= 1.0 else None


def _read_peak(data: Mapping[str, Any]) -> float | None:
    peaks = _get(data, "demand.peaks", []) or []
    values = [v for v in map(_peak_multiplier, peaks) if v is not None]
    return max(values) if values else None


def _write_peak(data: Mapping[str, Any], multiplier: float) -> Overrides:
    """The largest peak takes `multiplier`; every other peak's extra demand (its multiplier
    above 1) is scaled alike, so Black Friday stays above Thanksgiving. Peaks all at 1 (no
    extra demand to scale) all take `multiplier`. Dips (multipliers below 1, e.g. a
    holiday) are left as they are."""
    peaks = copy.deepcopy(list(_get(data, "demand.peaks", []) or []))
    largest = _read_peak(data)
    if largest is None:
        return {}
    scale = (float(multiplier) - 1.0) / (largest - 1.0) if largest > 1.0 else None
    for peak in peaks:
        value = _peak_multiplier(peak)
        if value is None:
            continue
        if scale is None:
            peak["multiplier"] = float(multiplier)
        else:
            peak["multiplier"] = round(1.0 + (value - 1.0) * scale, 6)
    return {"demand.peaks": peaks}


def _read_bopis(data: Mapping[str, Any]) -> float | None:
    channels = _online(data)
    weight = sum(_rate(ch) for ch in channels.values())
    if not channels:
        return None
    share = 0.0
    for ch in channels.values():
        methods = ch.get("methods") or {}
        total = sum(float(v) for v in methods.values()) or 1.0
        w = _rate(ch) / weight if weight > 0 else 1.0 / len(channels)
        share += w * float(methods.get("bopis", 0.0)) / total
    return round(100.0 * share, 1)


def _write_bopis(data: Mapping[str, Any], percent: float) -> Overrides:
    bopis = float(percent) / 100.0
    out: Overrides = {}
    for name, ch in _online(data).items():
        methods = {k: float(v) for k, v in (ch.get("methods") or {"ship": 1.0}).items()}
        total = sum(methods.values()) or 1.0
        if abs(methods.get("bopis", 0.0) / total - bopis) < 1e-9:
            continue  # this channel has that share already: nothing to change
        rest = {k: v / total for k, v in methods.items() if k != "bopis"}
        rest_total = sum(rest.values())
        if rest_total <= 0:
            rest = {"ship": 1.0}
            rest_total = 1.0
        new = {k: round((1.0 - bopis) * v / rest_total, 6) for k, v in rest.items()}
        new["bopis"] = round(bopis, 6)
        out[f"demand.channels.{name}.methods"] = new
    return out


def _read_returns(data: Mapping[str, Any]) -> float | None:
    skus = _get(data, "catalogue.skus")
    if isinstance(skus, list):  # explicit SKUs carry their own rates: show the mean
        rates = [float(x.get("return_rate", 0.0)) for x in skus if isinstance(x, Mapping)]
        return round(100.0 * sum(rates) / len(rates), 1) if rates else None
    rate = _get(data, "catalogue.return_rate")
    return None if rate is None else round(100.0 * float(rate), 1)


def _write_returns(data: Mapping[str, Any], percent: float) -> Overrides:
    rate = round(float(percent) / 100.0, 6)
    out: Overrides = {"catalogue.return_rate": rate}
    skus = _get(data, "catalogue.skus")
    if isinstance(skus, list):
        out.update({f"catalogue.skus.{i}.return_rate": rate for i in range(len(skus))})
    return out


def _read_sfs(data: Mapping[str, Any]) -> bool:
    return bool(_store_field(data, "ship_from_store", True))


def _read_limit(data: Mapping[str, Any]) -> int | str:
    value = _store_field(data, "daily_order_limit", None)
    return NO_LIMIT if value is None else int(value)


def _write_limit(data: Mapping[str, Any], value: int | str) -> Overrides:
    return _write_store_field(data, "daily_order_limit", None if value == NO_LIMIT else int(value))


def _read_hours(data: Mapping[str, Any]) -> tuple[float, float]:
    hours = _store_field(data, "hours", {"open": 9, "close": 21})
    if isinstance(hours, Mapping):
        return (float(hours.get("open", 9)), float(hours.get("close", 21)))
    return (0.0, 24.0)  # "always"


def _write_hours(data: Mapping[str, Any], value: tuple[float, float]) -> Overrides:
    open_hour, close_hour = float(value[0]), float(value[1])
    out: Overrides = {
        "network.store_defaults.hours.open": open_hour,
        "network.store_defaults.hours.close": close_hour,
    }
    for i, store in enumerate(_explicit_stores(data)):
        hours = store.get("hours") if isinstance(store, Mapping) else None
        if isinstance(hours, Mapping):  # a store with its own hours keeps its closed weekdays
            out[f"network.stores.{i}.hours"] = {**hours, "open": open_hour, "close": close_hour}
    return out


def _read_threshold(data: Mapping[str, Any]) -> int:
    return int(_store_field(data, "online_threshold", 0) or 0)


def _read_safety(data: Mapping[str, Any]) -> float:
    return float(_get(data, "inventory.safety_stock_days", 0.0) or 0.0)


def _read_sync(data: Mapping[str, Any]) -> float:
    return float(_get(data, "inventory.pos_sync_delay_minutes", 0) or 0)


def _read_outage_location(data: Mapping[str, Any]) -> str:
    return NO_OUTAGE


def _outage_overrides(data: Mapping[str, Any], location: str, start: int, days: int) -> Overrides:
    if location == NO_OUTAGE:
        return {}
    outages = copy.deepcopy(list(_get(data, "disruptions.outages", []) or []))
    outages.append({"location": location, "start_day": int(start), "days": int(days)})
    return {"disruptions.outages": outages}


def _setter(path: str, cast: Callable[[Any], Any]) -> Callable[[Mapping[str, Any], Any], Overrides]:
    return lambda data, value: {path: cast(value)}


def _store_setter(
    name: str, cast: Callable[[Any], Any]
) -> Callable[[Mapping[str, Any], Any], Overrides]:
    return lambda data, value: _write_store_field(data, name, cast(value))


def _no_write(data: Mapping[str, Any], value: Any) -> Overrides:
    return {}  # the outage start/length levers are written together with the location


LEVERS: tuple[Lever, ...] = (
    Lever(
        "days",
        "Horizon",
        "days",
        "int",
        _read_days,
        _write_days,
        lo=1,
        hi=MAX_PAGE_DAYS,
        step=1,
        help="Simulated days; fewer days run faster. The warm-up is at most half of them. "
        f"Up to {MAX_PAGE_DAYS} here (a scenario file may say more): every run of a "
        "comparison holds its orders in memory; longer runs suit `fulfil run --days`.",
        paths=("horizon_days", "warmup_days"),
        group="Horizon",
    ),
    Lever(
        "online",
        "Online demand volume",
        "orders/day",
        "int",
        _read_online,
        _write_online,
        lo=0,
        hi=200_000,
        step=100,
        help="Online orders per day across web, app, marketplace and social, split as in the scenario.",
        paths=tuple(f"demand.channels.{c}.orders_per_day" for c in ONLINE_CHANNELS),
    ),
    Lever(
        "peak",
        "Peak multiplier (largest peak)",
        "x normal demand",
        "float",
        _read_peak,
        _write_peak,
        lo=1.0,
        hi=10.0,
        step=0.1,
        help="Demand multiplier on the scenario's largest peak (e.g. Black Friday); the "
        "other peaks' extra demand is scaled alike, so they keep their order. Dips "
        "(multipliers below 1) stay as they are.",
        paths=("demand.peaks",),
    ),
    Lever(
        "bopis",
        "BOPIS share",
        "% of online orders",
        "float",
        _for_stores(_read_bopis),
        _write_bopis,
        lo=0.0,
        hi=100.0,
        step=1.0,
        help="Share of online orders whose customers ask to pick up in store. Changed, it "
        "gives every online channel (web, app, marketplace, social) this same pickup share, "
        "in place of the scenario's own share per channel (shown here as their average, "
        "weighted by orders); ship and same-day share the rest in each channel's "
        "proportions. A customer with no pickup store near enough, or whose store cannot "
        "fill the order, gets home delivery instead.",
        paths=tuple(f"demand.channels.{c}.methods" for c in ONLINE_CHANNELS),
    ),
    Lever(
        "returns",
        "Returns rate",
        "% of units",
        "float",
        _read_returns,
        _write_returns,
        lo=0.0,
        hi=80.0,
        step=1.0,
        help="Share of delivered units that customers send back.",
        paths=("catalogue.return_rate",),
    ),
    Lever(
        "sfs",
        "Ship from store",
        "",
        "bool",
        _for_stores(_read_sfs),
        _store_setter("ship_from_store", bool),
        help="Whether stores may ship online orders.",
        paths=("network.store_defaults.ship_from_store",),
        group="Stores",
    ),
    Lever(
        "sfs_limit",
        "Ship-from-store daily limit",
        "orders/store/day",
        "int",
        _for_stores(_read_limit),
        _write_limit,
        lo=0,
        hi=2_000,
        step=5,
        help="Most shipped online orders one store takes per local day (pickup orders are "
        "not capped); 0 = none at all. Only with ship from store on.",
        paths=("network.store_defaults.daily_order_limit",),
        group="Stores",
        empty=NO_LIMIT,
    ),
    Lever(
        "hours",
        "Store opening hours",
        "local time, h",
        "range",
        _for_stores(_read_hours),
        _write_hours,
        lo=0.0,
        hi=24.0,
        step=0.5,
        help="Stores pick and hand over orders only while open; closing after opening.",
        paths=("network.store_defaults.hours.open", "network.store_defaults.hours.close"),
        group="Stores",
    ),
    Lever(
        "threshold",
        "Online threshold",
        "units",
        "int",
        _for_stores(_read_threshold),
        _store_setter("online_threshold", int),
        lo=0,
        hi=100,
        step=1,
        help="A store's stock of a SKU is offered online only at or above this many units.",
        paths=("network.store_defaults.online_threshold",),
        group="Stores",
    ),
    Lever(
        "safety",
        "Safety stock",
        "days of demand",
        "float",
        _read_safety,
        _setter("inventory.safety_stock_days", float),
        lo=0.0,
        hi=30.0,
        step=0.5,
        help="Stock held back from ATS at every location, in days of its demand.",
        paths=("inventory.safety_stock_days",),
        group="Inventory",
    ),
    Lever(
        "sync",
        "POS sync delay",
        "minutes",
        "float",
        _read_sync,
        _setter("inventory.pos_sync_delay_minutes", float),
        lo=0,
        hi=1_440,
        step=5,
        help="How late store walk-in sales reach the OMS; the root cause of most oversells.",
        paths=("inventory.pos_sync_delay_minutes",),
        group="Inventory",
    ),
    Lever(
        "outage",
        "Outage at",
        "location",
        "choice",
        _read_outage_location,
        _no_write,
        help="Take one location out of service for a while (added to the scenario's own outages).",
        paths=("disruptions.outages",),
        group="Disruption",
    ),
    Lever(
        "outage_start",
        "Outage starts on",
        "day",
        "int",
        lambda d: int(_get(d, "warmup_days", 0) or 0),
        _no_write,
        lo=0,
        hi=365,
        step=1,
        help="Simulation day the outage begins (day 0 is the start); at first the day the "
        "warm-up ends, so the KPIs see it.",
        paths=("disruptions.outages",),
        group="Disruption",
    ),
    Lever(
        "outage_days",
        "Outage length",
        "days",
        "int",
        lambda d: 2,
        _no_write,
        lo=1,
        hi=365,
        step=1,
        help="How many days the location stays closed.",
        paths=("disruptions.outages",),
        group="Disruption",
    ),
)

_BY_KEY = {lv.key: lv for lv in LEVERS}


def lever(key: str) -> Lever:
    """The lever with this key.

    Raises:
        KeyError: no lever has this key.
    """
    return _BY_KEY[key]


def lever_defaults(data: Mapping[str, Any]) -> dict[str, Any]:
    """Each lever's current value in a scenario dict, as it is (not clamped into the
    lever's range); None when the lever does not apply to the scenario."""
    out: dict[str, Any] = {}
    for lv in LEVERS:
        value = lv.read(data)
        out[lv.key] = None if value is None else lv.coerce(value)
    return out


def levers_to_overrides(data: Mapping[str, Any], values: Mapping[str, Any]) -> Overrides:
    """Dotted-path overrides for the levers whose value differs from the scenario's.

    Args:
        data: The scenario as a plain dict (``Scenario.resolved()`` or parsed YAML).
        values: Lever key -> chosen value; unknown keys, levers that do not apply to the
            scenario and None values of levers without an `empty` meaning are ignored.

    Returns:
        ``{"inventory.pos_sync_delay_minutes": 30, ...}``; empty when nothing changed.

    Raises:
        ValueError: A value the lever cannot take (e.g. opening hours that close before
            they open); the message names the lever.
    """
    defaults = lever_defaults(data)
    out: Overrides = {}
    for key, value in values.items():
        lv = _BY_KEY.get(key)
        if lv is None or defaults.get(key) is None or (value is None and lv.empty is None):
            continue
        value = lv.coerce(value)
        if value != defaults[key]:
            out.update(lv.write(data, value))
    location = values.get("outage", NO_OUTAGE)
    if location and location != NO_OUTAGE:
        start = lever("outage_start").coerce(values.get("outage_start", defaults["outage_start"]))
        days = lever("outage_days").coerce(values.get("outage_days", defaults["outage_days"]))
        out.update(_outage_overrides(data, str(location), start, days))
    return out


def location_ids(data: Mapping[str, Any]) -> list[str]:
    """Ids of every location in a scenario dict, generated stores included.

    Warehouses come first, then stores, as in the network. An invalid network gives the
    explicitly listed ids only.
    """
    from sim.scenario.schema import NetworkSpec

    network = _get(data, "network", {}) or {}
    try:
        return NetworkSpec.model_validate(network).location_ids()
    except ValueError:  # pydantic's ValidationError is a ValueError
        ids: list[str] = []
        for section in ("warehouses", "stores"):
            items = network.get(section) if isinstance(network, Mapping) else None
            if isinstance(items, list):
                ids += [str(x["id"]) for x in items if isinstance(x, Mapping) and "id" in x]
        return ids
