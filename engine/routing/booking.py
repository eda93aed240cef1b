"""What the router writes to the ledger: the network's store flags and online thresholds
when it is built, and the reservation of each committed decision.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from engine.errors import RoutingError
from engine.ledger import Ledger
from engine.network import Network
from engine.order import Order
from engine.routing.decision import Decision
from engine.stock import utc_ts

__all__ = ["attach_ledger", "reserve"]


def attach_ledger(ledger: Ledger, network: Network) -> np.ndarray | None:
    """Check that the ledger has a row for every network location and give those rows
    the network's store flags and thresholds (see `_configure`).

    Returns:
        The ledger row of each network location, int64 (L,), or None when they are the
        ledger's rows in network order (no reindexing needed).

    Raises:
        RoutingError: A network location missing from the ledger, or a ledger whose store
            flags or thresholds differ from the network's.
    """
    locs = network.locations
    missing = [x.id for x in locs if x.id not in ledger.loc_index]
    if missing:
        raise RoutingError(f"router: ledger has no row for location(s) {missing[:5]}")
    rows = np.array([ledger.loc_index[x.id] for x in locs], dtype=np.int64)
    same = rows.size == ledger.shape[0] and bool((rows == np.arange(rows.size)).all())
    _configure(ledger, network, rows)
    return None if same else rows


def _configure(ledger: Ledger, network: Network, rows: np.ndarray) -> None:
    """Give the ledger rows of the network's locations their store flags and thresholds.

    A ledger still at its defaults (no stores, no thresholds) takes the network's; one set
    otherwise (by `Ledger.configure_locations` or another router's network) must agree.

    Raises:
        RoutingError: The ledger's rows hold other store flags or thresholds.
    """
    thr, store = network.online_threshold, network.is_store
    old_thr, old_store = ledger.online_threshold[rows], ledger.is_store[rows]
    if (old_thr == thr).all() and (old_store == store).all():
        return
    if ledger.online_threshold.any() or ledger.is_store.any():
        bad = [x.id for x, a, b, c, d in zip(network.locations, old_thr, thr, old_store, store,
                                             strict=True) if a != b or c != d]  # fmt: skip
        raise RoutingError(
            f"router: the ledger's store flags or online thresholds differ from the network's "
            f"locations at {bad[:5]}; set them on the Locations (the router passes them on)"
        )
    new_thr = np.array(ledger.online_threshold, dtype=np.int64)
    new_store = np.array(ledger.is_store)
    new_thr[rows], new_store[rows] = thr, store
    ledger.configure_locations(online_threshold=new_thr, is_store=new_store)


def reserve(ledger: Ledger, order: Order, decision: Decision, at: datetime) -> bool:
    """`Ledger.reserve` of a decision's allocations; False if the decision was closed.

    Allocations made by `Router.route` name known locations and SKUs with positive int
    quantities, so the ledger's per-cell input validation is skipped for them (its ATS
    check, all-or-nothing and idempotence are not); anything else goes through
    `Ledger.reserve` with full validation.

    Raises:
        LedgerError: As `Ledger.reserve` (e.g. a quantity over ATS; nothing changes).
    """
    lidx, sidx = ledger.loc_index, ledger.sku_index
    wanted: dict[tuple[int, int], int] = {}
    did = decision.decision_id
    for a in decision.allocations:
        i, s, q = lidx.get(a.location), sidx.get(a.sku), a.quantity
        if i is None or s is None or type(q) is not int or q <= 0 or not did:
            cells = [(a.location, a.sku, a.quantity) for a in decision.allocations]
            return ledger.reserve(did, cells, order.channel.value, at)
        key = (i, s)
        wanted[key] = wanted.get(key, 0) + q
    return ledger._reserve_cells(did, wanted, ledger._chan(order.channel.value), utc_ts(at))
