"""The SimPy world: arrivals, locations, carriers, BOPIS, returns, replenishment, customer
service, disruptions and the OMS adapter that drives the engine. See `sim.model.world`.
"""

from sim.model.stock import ConservationError
from sim.model.world import World

__all__ = ["ConservationError", "World"]
