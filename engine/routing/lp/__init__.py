"""LP-guided routing: `lookahead` (dual prices), `lp_rounding` (correlated rounding) and
`batch` (MIP re-optimisation of pending orders).

Importing this package registers the three policies with the engine's registry
(`engine.routing.get_policy("lookahead")`). The solvers (pulp, highspy) are imported only
when a model is solved. Each policy falls back to `cost` when its solver fails or times out
and records why in the decision's reason codes (`Decision.notes`).

References:
    Acimovic, J. & Graves, S. (2015). Making better fulfillment decisions on the fly in an
        online retail environment. M&SOM 17(1), 34-51.
    Jasin, S. & Sinha, A. (2015). An LP-based correlated rounding scheme for multi-item
        ecommerce order fulfillment. Operations Research 63(6), 1336-1351.
    Xu, P. J., Allgor, R. & Graves, S. (2009). Benefits of reevaluating real-time order
        fulfillment decisions. M&SOM 11(2), 340-355.
"""

from engine.routing.lp.base import LpPolicy, fallback_plan
from engine.routing.lp.batch import BatchOutcome, BatchPolicy, reoptimise
from engine.routing.lp.lookahead import LookaheadPolicy
from engine.routing.lp.lp_rounding import LpRoundingPolicy, correlated_round
from engine.routing.lp.solver import HighsModel, LinearProgram, LpSolution, SolverError
from engine.routing.lp.transport import TransportModel, unfilled_penalty
from engine.routing.policies import available_policies, register_policy

__all__ = [
    "BatchOutcome",
    "BatchPolicy",
    "HighsModel",
    "LinearProgram",
    "LookaheadPolicy",
    "LpPolicy",
    "LpRoundingPolicy",
    "LpSolution",
    "SolverError",
    "TransportModel",
    "correlated_round",
    "fallback_plan",
    "reoptimise",
    "unfilled_penalty",
]

LP_POLICIES = {
    "lookahead": LookaheadPolicy,
    "lp_rounding": LpRoundingPolicy,
    "batch": BatchPolicy,
}
"""Policy name -> class; the registry calls the class with the policy parameters."""

for _name, _cls in LP_POLICIES.items():
    if _name not in available_policies():
        register_policy(_name, _cls)
