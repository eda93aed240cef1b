"""Cached per-network arrays the router reads for every order.

Distances and the nearest demand region per destination, the static eligibility of each
delivery method and channel, and the one-store masks of pickups without substitution. The
arrays are read-only: routing contexts copy what they change.
"""

from __future__ import annotations

import numpy as np

from engine.location import STORE_KINDS, Capability, LocationKind
from engine.network import Network
from engine.order import DeliveryMethod
from engine.routing.decision import Exclusion
from engine.routing.filters import kind_mask

__all__ = ["Lookups"]

_CACHE_BYTES = 16_000_000  # bound on cached distance arrays


class Lookups:
    """Per-network lookups of a `Router`, cached.

    Args:
        network: Locations and regions.

    Attributes:
        max_entries: Bound on the entries of each per-destination cache (about 16 MB of
            distance arrays; at least 256); the oldest entry goes first.
    """

    def __init__(self, network: Network) -> None:
        self.network = network
        self.max_entries = max(256, _CACHE_BYTES // (8 * max(1, len(network.locations))))
        self._dist_cache: dict[tuple[float, float], np.ndarray] = {}
        self._region_cache: dict[tuple[float, float], int] = {}
        self._templates: dict[tuple[str, bool], tuple[np.ndarray, np.ndarray]] = {}
        self._pickup_only: dict[int, np.ndarray] = {}

    def distances(self, lat: float, lon: float) -> np.ndarray:
        """Haversine miles from a point to every location, float64 (L,), read-only. [mi]"""
        key = (lat, lon)
        d = self._dist_cache.get(key)
        if d is None:
            d = self.network.distances_from(lat, lon)
            d.flags.writeable = False
            if len(self._dist_cache) >= self.max_entries:
                del self._dist_cache[next(iter(self._dist_cache))]
            self._dist_cache[key] = d
        return d

    def region_at(self, lat: float, lon: float) -> int:
        """Code of the demand region nearest to a destination (cached); -1 without regions."""
        key = (lat, lon)
        code = self._region_cache.get(key)
        if code is None:
            net = self.network
            code = net.region_code(net.nearest_region(*key).id) if net.regions else -1
            if len(self._region_cache) >= self.max_entries:
                del self._region_cache[next(iter(self._region_cache))]
            self._region_cache[key] = code
        return code

    def template(self, method: str, wholesale: bool) -> tuple[np.ndarray, np.ndarray]:
        """Static `(codes, eligible)` for a delivery method and channel (read-only).

        `codes` is an int8 `Exclusion` per location (L,), `eligible` is `codes == OK`.
        """
        cached = self._templates.get((method, wholesale))
        if cached is None:
            net = self.network
            codes = np.zeros(len(net.locations), dtype=np.int8)
            if wholesale:
                codes[~net.can[Capability.WHOLESALE]] = Exclusion.NO_CAPABILITY
                not_dc = ~kind_mask(net, (LocationKind.WHOLESALE_DC,))
                codes[(codes == 0) & not_dc] = Exclusion.NOT_WHOLESALE
            else:
                cap = Capability.PICKUP if method == DeliveryMethod.BOPIS else Capability.SHIP
                codes[~net.can[cap]] = Exclusion.NO_CAPABILITY
                if method == DeliveryMethod.BOPIS:
                    # Customers collect at stores only, even with substitution allowed.
                    not_store = ~kind_mask(net, STORE_KINDS)
                    codes[(codes == 0) & not_store] = Exclusion.NOT_PICKUP_STORE
            eligible = codes == 0
            codes.flags.writeable = eligible.flags.writeable = False
            cached = self._templates[(method, wholesale)] = (codes, eligible)
        return cached

    def only(self, row: int) -> np.ndarray:
        """bool (L,), True at `row` only (read-only): a pickup store without substitution."""
        mask = self._pickup_only.get(row)
        if mask is None:
            mask = np.zeros(len(self.network.locations), dtype=bool)
            mask[row] = True
            mask.flags.writeable = False
            self._pickup_only[row] = mask
        return mask
