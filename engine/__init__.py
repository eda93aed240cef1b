"""Production routing and available-to-sell (ATS) engine.

Pure decision code: it knows nothing of the simulation, the UI or pandas. It holds state
(the inventory `Ledger`, `Order` lifecycles) and makes decisions (`Router`, returns).
"""

from engine.audit import AuditLog, Movement
from engine.errors import EngineError, InvalidTransition, LedgerError, RoutingError, RuleError
from engine.ledger import DEFAULT_CHANNELS, ONLINE_CHANNELS, Ledger
from engine.location import Capability, Location, LocationKind, OpeningHours
from engine.network import (
    DEFAULT_TRANSIT_DAYS,
    DEFAULT_ZONE_BANDS_MILES,
    Network,
    Region,
    UnknownLocationError,
    haversine_miles,
    zone_for_miles,
)
from engine.order import (
    ALLOWED_TRANSITIONS,
    Channel,
    DeliveryMethod,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
)
from engine.rates import RateCard
from engine.returns import Condition, ReturnAction, ReturnDecision, ReturnItem, ReturnsPolicy
from engine.routing import (
    Allocation,
    Decision,
    Exclusion,
    FulfilmentRequest,
    Policy,
    Router,
    RoutingSettings,
    RulePolicy,
    available_policies,
    get_policy,
    load_policy_file,
    policy_from_rules,
    register_policy,
)

__all__ = [
    # errors
    "EngineError",
    "InvalidTransition",
    "LedgerError",
    "RoutingError",
    "RuleError",
    # location
    "Capability",
    "Location",
    "LocationKind",
    "OpeningHours",
    # network
    "DEFAULT_TRANSIT_DAYS",
    "DEFAULT_ZONE_BANDS_MILES",
    "Network",
    "Region",
    "UnknownLocationError",
    "haversine_miles",
    "zone_for_miles",
    # order
    "ALLOWED_TRANSITIONS",
    "Channel",
    "DeliveryMethod",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Refund",
    # rates
    "RateCard",
    # ledger
    "AuditLog",
    "DEFAULT_CHANNELS",
    "Ledger",
    "Movement",
    "ONLINE_CHANNELS",
    # routing
    "Allocation",
    "Decision",
    "Exclusion",
    "FulfilmentRequest",
    "Policy",
    "Router",
    "RoutingSettings",
    "RulePolicy",
    "available_policies",
    "get_policy",
    "load_policy_file",
    "policy_from_rules",
    "register_policy",
    # returns
    "Condition",
    "ReturnAction",
    "ReturnDecision",
    "ReturnItem",
    "ReturnsPolicy",
]
