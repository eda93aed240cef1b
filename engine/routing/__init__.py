"""Order routing: eligibility filters -> ranking -> split, as policies behind one protocol.

`Router` routes an `Order` with a `Policy` (built-ins registered by name: closest, ranked,
min_split, cost, balance, store_first, dc_first; or rules-as-data from YAML) and returns a
`Decision` with allocations, costs, an estimated delivery and lazily built reason codes.
"""

from engine.routing.context import Plan, Policy, RoutingContext
from engine.routing.decision import Allocation, Decision, Exclusion, FulfilmentRequest
from engine.routing.policies import (
    BUILTIN_POLICIES,
    RulePolicy,
    available_policies,
    get_policy,
    policy_factory,
    register_policy,
)
from engine.routing.router import Router
from engine.routing.rules import (
    load_policy_file,
    load_policy_spec,
    policies_from_document,
    policy_file_spec,
    policy_from_rules,
)
from engine.routing.settings import RoutingSettings

__all__ = [
    "BUILTIN_POLICIES",
    "Allocation",
    "Decision",
    "Exclusion",
    "FulfilmentRequest",
    "Plan",
    "Policy",
    "Router",
    "RoutingContext",
    "RoutingSettings",
    "RulePolicy",
    "available_policies",
    "get_policy",
    "load_policy_file",
    "load_policy_spec",
    "policies_from_document",
    "policy_factory",
    "policy_file_spec",
    "policy_from_rules",
    "register_policy",
]

# The LP-guided policies (lookahead, lp_rounding, batch) register themselves on import;
# their solvers (pulp, highspy) are imported only when a model is solved.
import engine.routing.lp as _lp  # noqa: E402, F401
