"""Demand, generated up front: online orders, their lines and walk-in (POS) sales.

Everything a customer decides is drawn before the first event, vectorised, from streams
that do not depend on routing: arrival times, channels, customer regions, baskets, delivery
methods, customer-service events, BOPIS behaviour and returns. Two policies run with the
same seed therefore see exactly the same customers (common random numbers).

Arrivals are non-homogeneous Poisson per channel. For every UTC hour h and every customer
time zone g the rate is

    lambda(c, g, h) = orders_per_day[c] * share[g] * hour_profile[c][local hour]
                      * day_profile[local weekday] * peak(c, local date)

with the hour profile summing to 1 and the day profile averaging 1. The count of each hour
is Poisson, arrival times are uniform within the hour, and the region of each order is
drawn among the zone's regions by population.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from sim.model.clock import Clock, utc_offsets
from sim.scenario.schema import Scenario
from sim.scenario.sections import CHANNELS, ONLINE_CHANNELS, Basket

__all__ = [
    "CHANNELS",
    "CS_CANCEL",
    "CS_EDIT",
    "CS_NONE",
    "CONDITIONS",
    "METHODS",
    "OnlineDemand",
    "PosDemand",
    "RegionTable",
    "generate_online",
    "generate_pos",
    "line_orders",
    "peak_factor",
]

METHODS = ("ship", "bopis", "same_day")
CONDITIONS = ("new", "opened", "damaged")
CS_NONE, CS_EDIT, CS_CANCEL = 0, 1, 2
ORDER_CHANNELS = (*ONLINE_CHANNELS, "wholesale")


@dataclass(frozen=True)
class RegionTable:
    """Demand regions as arrays (R,), plus how each can be served.

    Attributes:
        lat, lon: Coordinates. [deg]
        weight: Population share, sums to 1. [-]
        tz: IANA time zone of each region.
        pickup_store: Row of the nearest pickup store within reach, -1 if none.
        same_day_ok: Some shipping location lies within the same-day radius.
    """

    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray
    tz: tuple[str, ...]
    pickup_store: np.ndarray
    same_day_ok: np.ndarray


def line_orders(line_start: np.ndarray) -> np.ndarray:
    """Order index of every line, int64 (M,), when order i owns lines
    ``line_start[i]:line_start[i + 1]``."""
    return np.repeat(np.arange(line_start.size - 1), np.diff(line_start))


@dataclass
class OnlineDemand:
    """Online (and wholesale) orders sorted by creation time; lines grouped by order.

    Order arrays have length N, line arrays length M; order i owns lines
    ``line_start[i]:line_start[i + 1]`` (SKUs ascending, no repeats).
    """

    time_h: np.ndarray  # float64 creation time [h]
    channel: np.ndarray  # int8 index into CHANNELS
    region: np.ndarray  # int32 region row
    method: np.ndarray  # int8 index into METHODS
    requested_method: np.ndarray  # int8, as the customer chose (before `method` fell back)
    pickup_store: np.ndarray  # int32 location row (BOPIS) or -1
    line_start: np.ndarray  # int64 (N + 1,)
    cs_kind: np.ndarray  # int8 CS_NONE | CS_EDIT | CS_CANCEL
    cs_delay_h: np.ndarray  # float64 delay from creation to the CS event [h]
    cs_region: np.ndarray  # int32 new region for an address change
    no_show: np.ndarray  # bool, BOPIS customer never comes
    pickup_delay_h: np.ndarray  # float64 from ready to pickup [h]
    line_sku: np.ndarray  # int32 (M,)
    line_qty: np.ndarray  # int32 (M,) [units]
    ret_qty: np.ndarray  # int32 (M,) units the customer will return [units]
    ret_lag_h: np.ndarray  # float64 (M,) delay from delivery to return [h]
    ret_mail: np.ndarray  # bool (M,) by mail to a DC (else at a store desk)
    ret_condition: np.ndarray  # int8 (M,) index into CONDITIONS
    ret_exchange: np.ndarray  # bool (M,)

    def __len__(self) -> int:
        return int(self.time_h.size)

    @property
    def line_order(self) -> np.ndarray:
        """Order index of every line, int64 (M,)."""
        return line_orders(self.line_start)


@dataclass
class PosDemand:
    """Walk-in sales lines sorted by time (one row per SKU line of a sale)."""

    time_h: np.ndarray  # float64 [h]
    store: np.ndarray  # int64 location row
    sku: np.ndarray  # int64
    qty: np.ndarray  # int64 [units]

    def __len__(self) -> int:
        return int(self.time_h.size)


def _basket(
    rng: np.random.Generator,
    baskets: list[Basket],
    which: np.ndarray,
    popularity_cdf: np.ndarray,
    group: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lines of many baskets: lines 1 + Poisson, quantities 1 + Poisson, both capped.

    Args:
        rng: Basket stream.
        baskets: Basket spec per kind.
        which: Basket kind of each order (N,).
        popularity_cdf: Cumulative SKU popularity, ending at 1: one row (S,) for every
            order, or one row per group (G, S).
        group: Row of `popularity_cdf` each order draws from (N,); with a (G, S) table.

    Returns:
        `(line_start (N+1,), sku (M,), qty (M,))`, SKUs unique and ascending per order.
    """
    n = which.size
    mean_lines = np.array([b.mean_lines for b in baskets])[which]
    max_lines = np.array([b.max_lines for b in baskets])[which]
    mean_qty = np.array([b.mean_qty for b in baskets])[which]
    max_qty = np.array([b.max_qty for b in baskets])[which]
    lines = np.minimum(1 + rng.poisson(mean_lines - 1.0), max_lines)
    owner = np.repeat(np.arange(n), lines)
    u = rng.random(owner.size)
    n_sku = popularity_cdf.shape[-1]
    if popularity_cdf.ndim == 1:
        sku = np.minimum(np.searchsorted(popularity_cdf, u, side="right"), n_sku - 1)
    else:  # one search over the rows laid end to end, row g shifted up by g
        assert group is not None
        g = group[owner].astype(np.int64)
        flat = (popularity_cdf + np.arange(popularity_cdf.shape[0])[:, None]).ravel()
        sku = np.searchsorted(flat, u + g, side="right") - g * n_sku
        # rounding can step past a row's last SKU with demand: stay on it
        last = n_sku - 1 - np.argmax(np.diff(popularity_cdf, prepend=0.0)[:, ::-1] > 0, axis=1)
        sku = np.clip(sku, 0, last[g])
    qty = np.minimum(1 + rng.poisson(mean_qty[owner] - 1.0), max_qty[owner])
    # merge repeated SKUs within an order
    key = owner.astype(np.int64) * n_sku + sku
    uniq, inverse = np.unique(key, return_inverse=True)
    merged_qty = np.bincount(inverse, weights=qty).astype(np.int64)
    u_owner = uniq // n_sku
    merged_qty = np.minimum(merged_qty, max_qty[u_owner])
    counts = np.bincount(u_owner, minlength=n)
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    return start, (uniq % n_sku).astype(np.int32), merged_qty.astype(np.int32)


def _local_calendar(
    clock: Clock, offsets: np.ndarray, first: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local hour, local day index (from the start date) and weekday for (G, H) offsets of
    the sim hours from `first` on."""
    hours = np.arange(first, first + offsets.shape[1])[None, :] + offsets
    local_day = np.floor(hours / 24.0).astype(np.int64)
    local_hour = np.floor(hours - 24.0 * local_day).astype(np.int64) % 24
    weekday = (clock.start.weekday() + local_day) % 7
    return local_hour, local_day, weekday


def peak_factor(scn: Scenario, clock: Clock, channel: str, days: int) -> np.ndarray:
    """Peak multiplier per local day index -1..days (index shifted by +1), (days + 2,)."""
    out = np.ones(days + 2)
    for peak in scn.demand.peaks:
        if peak.channels is not None and channel not in peak.channels:
            continue
        first = (peak.start - clock.start).days
        for d in range(first, first + peak.days):
            if -1 <= d <= days:
                out[d + 1] *= peak.multiplier
    return out


def generate_online(
    scn: Scenario,
    clock: Clock,
    days: int,
    regions: RegionTable,
    popularity: np.ndarray,
    return_rate: np.ndarray,
    streams: dict[str, np.random.Generator],
) -> OnlineDemand:
    """Draw every online and wholesale order of the horizon.

    Args:
        scn: The scenario.
        clock: The run's clock.
        days: Days of arrivals. [days]
        regions: Demand regions.
        popularity: SKU demand shares (S,).
        return_rate: Share of sold units returned per SKU (S,).
        streams: Named random streams (see `sim.model.world.STREAMS`).

    Returns:
        The orders, sorted by creation time.
    """
    hours = 24 * days
    tz_names = tuple(sorted(set(regions.tz)))
    tz_of_region = np.array([tz_names.index(t) for t in regions.tz])
    group_weight = np.bincount(tz_of_region, weights=regions.weight, minlength=len(tz_names))
    local_hour, local_day, weekday = _local_calendar(
        clock, utc_offsets(tz_names, clock.origin, hours)
    )
    day_profile = np.asarray(scn.demand.day_profile) / np.mean(scn.demand.day_profile)
    chans = scn.demand.channels
    times, chan_codes, groups = [], [], []
    for name in ORDER_CHANNELS:
        spec = getattr(chans, name)
        rng = streams[f"arrivals.{name}"]
        if spec.orders_per_day <= 0:
            continue
        profile = getattr(spec, "hour_profile", None) or scn.demand.hour_profile
        profile = np.asarray(profile) / np.sum(profile)
        peak = peak_factor(scn, clock, name, days)
        lam = (
            spec.orders_per_day
            * group_weight[:, None]
            * profile[local_hour]
            * day_profile[weekday]
            * peak[np.clip(local_day + 1, 0, days + 1)]
        )
        counts = rng.poisson(lam)  # (G, H)
        g_idx, h_idx = np.nonzero(counts)
        reps = counts[g_idx, h_idx]
        t = np.repeat(h_idx.astype(np.float64), reps) + rng.random(int(reps.sum()))
        times.append(t)
        groups.append(np.repeat(g_idx, reps))
        chan_codes.append(np.full(t.size, CHANNELS.index(name), dtype=np.int8))
    time_h = np.concatenate(times) if times else np.zeros(0)
    group = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
    channel = np.concatenate(chan_codes) if chan_codes else np.zeros(0, dtype=np.int8)
    order = np.argsort(time_h, kind="stable")
    time_h, group, channel = time_h[order], group[order], channel[order]
    n = time_h.size

    # customers: a region within the time zone, by population
    rng = streams["customers"]
    region = np.zeros(n, dtype=np.int32)
    u = rng.random(n)
    for g in range(len(tz_names)):
        members = np.flatnonzero(tz_of_region == g)
        sel = group == g
        cdf = np.cumsum(regions.weight[members])
        cdf /= cdf[-1]
        pick = np.minimum(np.searchsorted(cdf, u[sel], side="right"), members.size - 1)
        region[sel] = members[pick]

    # baskets
    cdf = np.cumsum(popularity) / np.sum(popularity)
    specs = [getattr(chans, c).basket for c in CHANNELS]  # indexed by channel code
    line_start, line_sku, line_qty = _basket(streams["baskets"], specs, channel, cdf)

    # delivery methods
    rng = streams["methods"]
    method = np.zeros(n, dtype=np.int8)
    u = rng.random(n)
    for code, name in enumerate(CHANNELS):
        if name not in ONLINE_CHANNELS:
            continue
        m = getattr(chans, name).methods
        edges = np.cumsum([m.ship, m.bopis, m.same_day])
        sel = channel == code
        method[sel] = np.minimum(np.searchsorted(edges, u[sel] * edges[-1], side="right"), 2)
    requested = method.copy()  # no pickup store or same-day location nearby: ship instead
    pickup = regions.pickup_store[region].astype(np.int32)
    bopis = method == METHODS.index("bopis")
    method[bopis & (pickup < 0)] = METHODS.index("ship")
    same_day = method == METHODS.index("same_day")
    method[same_day & ~regions.same_day_ok[region]] = METHODS.index("ship")
    pickup = np.where(method == METHODS.index("bopis"), pickup, -1).astype(np.int32)

    # customer service before release
    rng = streams["service"]
    cs = scn.customer_service
    u = rng.random(n)
    cs_kind = np.where(
        u < cs.cancel_share, CS_CANCEL, np.where(u < cs.cancel_share + cs.edit_share, CS_EDIT, 0)
    ).astype(np.int8)
    cs_delay = rng.exponential(cs.delay_minutes.mean / 60.0, n)
    cs_cdf = np.cumsum(regions.weight) / np.sum(regions.weight)
    cs_region = np.minimum(
        np.searchsorted(cs_cdf, rng.random(n), side="right"), regions.weight.size - 1
    ).astype(np.int32)

    # BOPIS customers
    rng = streams["bopis"]
    ops = scn.operations
    no_show = rng.random(n) < ops.no_show_rate
    pickup_delay = rng.exponential(ops.pickup_delay_hours.mean, n)

    # returns, per line
    rng = streams["returns"]
    ret = scn.returns
    m = line_sku.size
    ret_qty = rng.binomial(line_qty, np.clip(return_rate[line_sku], 0.0, 1.0)).astype(np.int32)
    ret_lag = rng.exponential(ret.lag_days.mean * 24.0, m)
    ret_mail = rng.random(m) < ret.mail_share
    cond = np.cumsum([ret.condition.new, ret.condition.opened, ret.condition.damaged])
    ret_condition = np.minimum(
        np.searchsorted(cond, rng.random(m) * cond[-1], side="right"), 2
    ).astype(np.int8)
    ret_exchange = rng.random(m) < ret.exchange_share
    return OnlineDemand(
        time_h=time_h,
        channel=channel,
        region=region,
        method=method,
        requested_method=requested,
        pickup_store=pickup,
        line_start=line_start,
        cs_kind=cs_kind,
        cs_delay_h=cs_delay,
        cs_region=cs_region,
        no_show=no_show,
        pickup_delay_h=pickup_delay,
        line_sku=line_sku,
        line_qty=line_qty,
        ret_qty=ret_qty,
        ret_lag_h=ret_lag,
        ret_mail=ret_mail,
        ret_condition=ret_condition,
        ret_exchange=ret_exchange,
    )


#: Hours before the start and after the horizon that `generate_pos` reads the stores'
#: scheduled hours for (a local day reaches at most 14 h past a UTC day). [h]
POS_PAD_HOURS = 24


def generate_pos(
    scn: Scenario,
    clock: Clock,
    days: int,
    store_rows: np.ndarray,
    store_tz: tuple[str, ...],
    open_fraction: np.ndarray,
    popularity: np.ndarray,
    rng: np.random.Generator,
    *,
    scheduled: np.ndarray,
) -> PosDemand:
    """Draw the walk-in sales of every store over the horizon.

    A store's day of sales (``sales_per_store_per_day`` times the day profile and peaks) is
    spread over its scheduled open hours of that local day in proportion to the hour
    profile; the hours of a local day before the start or after the horizon keep their
    share (the sales then fall outside the run), and sales stop while the store is down.
    Walk-in customers buy what the store carries: each line is drawn by `popularity` over
    the store's own row, so SKUs with no weight there are never asked for. Lines of a sale
    that repeat a SKU are merged (capped at ``max_qty``), so a narrow range gives a little
    fewer lines and units than a wide one.

    Args:
        scn: The scenario.
        clock: The run's clock.
        days: Days of sales. [days]
        store_rows: Location rows of the selling stores (K,).
        store_tz: Time zone of each store.
        open_fraction: Share of each hour the store is open and not down, (K, H).
        popularity: SKU demand weights per store (K, S): a store's walk-in lines are
            drawn in proportion to its row.
        rng: POS stream.
        scheduled: Share of each hour the store's opening hours cover, outages aside, over
            the sim hours -24 to H + 24, (K, H + 48).
    """
    hours = 24 * days
    spec = scn.demand.channels.pos
    if store_rows.size == 0 or spec.sales_per_store_per_day <= 0:
        empty = np.zeros(0, dtype=np.int64)
        return PosDemand(np.zeros(0), empty, empty, empty)
    local_hour, local_day, weekday = _local_calendar(
        clock, utc_offsets(store_tz, clock.origin, hours)
    )
    profile = np.asarray(scn.demand.hour_profile) / np.sum(scn.demand.hour_profile)
    day_profile = np.asarray(scn.demand.day_profile) / np.mean(scn.demand.day_profile)
    peak = peak_factor(scn, clock, "pos", days)
    weight = profile[local_hour] * open_fraction
    # normalise by each store's whole local day as scheduled (a day cut by the start or the
    # horizon keeps its hours outside the run; an outage takes its hours' sales away)
    pad = POS_PAD_HOURS
    ext_hour, ext_day, _ = _local_calendar(
        clock, utc_offsets(store_tz, clock.origin - timedelta(hours=pad), hours + 2 * pad), -pad
    )
    k = store_rows.size
    width = days + 4  # local days -2 .. days + 1

    def day_key(day: np.ndarray) -> np.ndarray:
        return np.arange(k)[:, None] * width + (day + 2)

    z = np.bincount(
        day_key(ext_day).ravel(), weights=(profile[ext_hour] * scheduled).ravel(),
        minlength=k * width,
    )  # fmt: skip
    norm = z[day_key(local_day)]
    share = np.divide(weight, norm, out=np.zeros_like(weight), where=norm > 0)
    lam = (
        spec.sales_per_store_per_day
        * share
        * day_profile[weekday]
        * peak[np.clip(local_day + 1, 0, days + 1)]
    )
    counts = rng.poisson(lam)
    s_idx, h_idx = np.nonzero(counts)
    reps = counts[s_idx, h_idx]
    t = np.repeat(h_idx.astype(np.float64), reps) + rng.random(int(reps.sum()))
    store = np.repeat(store_rows[s_idx], reps)
    weights = np.asarray(popularity, dtype=np.float64)
    total = weights.sum(axis=1, keepdims=True)
    if weights.shape[0] != k or not np.all(total > 0):
        raise ValueError("generate_pos: give every selling store a row with some popularity")
    cdf = np.cumsum(weights, axis=1) / total
    cdf[:, -1] = 1.0
    store_k = np.repeat(s_idx, reps)
    start, sku, qty = _basket(rng, [spec.basket], np.zeros(t.size, dtype=np.int64), cdf, store_k)
    per_sale = np.diff(start)
    t_line = np.repeat(t, per_sale)
    store_line = np.repeat(store, per_sale)
    order = np.argsort(t_line, kind="stable")
    return PosDemand(
        time_h=t_line[order],
        store=store_line[order].astype(np.int64),
        sku=sku[order].astype(np.int64),
        qty=qty[order].astype(np.int64),
    )


def horizon_dates(clock: Clock, days: int) -> list[str]:
    """ISO dates of the simulated days (for tables)."""
    return [(clock.start + timedelta(days=d)).isoformat() for d in range(days)]
