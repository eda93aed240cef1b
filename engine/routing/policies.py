"""Routing policies: ordered filters -> ranking -> split, and a registry of them by name.

Every built-in policy is a `RulePolicy`, i.e. the same thing a YAML rule file declares
(see `engine.routing.rules`). Register your own with `register_policy(name, factory)`;
anything with a `name` and `choose(ctx) -> Plan` is a `Policy`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.errors import RoutingError
from engine.location import STORE_KINDS
from engine.routing.context import (
    Plan,
    Policy,
    RoutingContext,
    check_package_limit,
    package_limit,
)
from engine.routing.filters import DC_KINDS
from engine.routing.ranking import (
    CostKey,
    DaysOfCoverKey,
    DistanceKey,
    InRegionKey,
    KindKey,
    PriorityKey,
    Ranking,
    SortKey,
)
from engine.routing.split import SPLITS

__all__ = [
    "BUILTIN_POLICIES",
    "RulePolicy",
    "available_policies",
    "get_policy",
    "policy_factory",
    "register_policy",
]


@dataclass(frozen=True)
class RulePolicy:
    """A policy declared as data: ordered filters, sort keys and a split strategy.

    Attributes:
        name: Registry name.
        filters: Extra eligibility filters, applied in order after the router's own.
        sort: Sort keys, most significant first; ties fall back to network order.
        split: One of `SPLITS`: "single_then_greedy", "min_packages", "min_cost", "no_split".
        max_packages: Package limit, >= 1, at most `RoutingSettings.max_packages` (the
            smaller applies); None uses the setting. [packages]
        description: Free text for people.
    """

    name: str
    filters: tuple[Callable[[RoutingContext], None], ...] = ()
    sort: tuple[SortKey, ...] = (DistanceKey(),)
    split: str = "single_then_greedy"
    max_packages: int | None = None
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise RoutingError(
                f"policy {self.name!r}: unknown split {self.split!r} (known: {', '.join(SPLITS)})"
            )
        check_package_limit(self.name, self.max_packages)
        object.__setattr__(self, "_split_fn", SPLITS[self.split])

    def choose(self, ctx: RoutingContext) -> Plan:
        """Apply filters, rank the candidates and split the order."""
        for f in self.filters:
            f(ctx)
        ranking = Ranking.of(ctx, ctx.candidates(), self.sort)
        limit = package_limit(ctx, self.max_packages)
        return Plan(ranking, self._split_fn(ctx, ranking, limit))  # type: ignore[attr-defined]


_REGISTRY: dict[str, Callable[..., Policy]] = {}


def register_policy(name: str, factory: Callable[..., Policy], replace: bool = False) -> None:
    """Register a policy factory under a name.

    Args:
        name: Registry name.
        factory: Called with the keyword parameters given to `get_policy`.
        replace: Allow replacing an existing registration.

    Raises:
        RoutingError: If the name is taken and `replace` is False.
    """
    if not isinstance(name, str) or not name:
        raise RoutingError(f"policy name must be a non-empty string, got {name!r}")
    if name in _REGISTRY and not replace:
        raise RoutingError(f"policy {name!r} is already registered")
    _REGISTRY[name] = factory


def get_policy(name: str, **params: Any) -> Policy:
    """Build the registered policy `name` with keyword parameters.

    Raises:
        RoutingError: If no policy has that name, or the parameters do not fit it.
    """
    factory = _REGISTRY.get(name)
    if factory is None:
        raise RoutingError(
            f"unknown routing policy {name!r} (available: {', '.join(available_policies())})"
        )
    try:
        return factory(**params)
    except TypeError as exc:
        takes = _parameter_names(factory)
        unknown = sorted(set(params) - set(takes)) if takes is not None else []
        if unknown:
            listed = ", ".join(takes) if takes else "no parameters"
            raise RoutingError(
                f"policy {name!r}: unknown parameter(s) {unknown} (it takes: {listed})"
            ) from None
        raise RoutingError(f"policy {name!r}: bad parameters {sorted(params)}: {exc}") from None


def policy_factory(name: str) -> Callable[..., Policy] | None:
    """The factory registered under `name` now, or None (identifies what `name` means:
    a re-registered name gives another factory)."""
    return _REGISTRY.get(name)


def _parameter_names(factory: Callable[..., Policy]) -> list[str] | None:
    """Keyword parameters a policy factory takes; None when it takes any (``**kwargs``)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def available_policies() -> list[str]:
    """Registered policy names, sorted."""
    return sorted(_REGISTRY)


def _fixed(policy: RulePolicy) -> Callable[..., Policy]:
    def factory(max_packages: int | None = None) -> Policy:
        if max_packages is None:
            return policy
        return RulePolicy(
            policy.name, policy.filters, policy.sort, policy.split, max_packages, policy.description
        )

    return factory


def _ranked(priority: Sequence[str] = (), max_packages: int | None = None) -> Policy:
    if isinstance(priority, str):
        raise RoutingError("policy 'ranked': priority must be a list of location ids")
    return RulePolicy(
        "ranked",
        sort=(PriorityKey(tuple(priority)), DistanceKey()),
        max_packages=max_packages,
        description="A configured priority list of locations, then distance.",
    )


_STORES_THEN_DCS = KindKey((STORE_KINDS, DC_KINDS))
_DCS_THEN_STORES = KindKey((DC_KINDS, STORE_KINDS))

BUILTIN_POLICIES: dict[str, RulePolicy] = {
    p.name: p
    for p in (
        RulePolicy("closest", description="Nearest location filling the whole order, else greedy."),
        RulePolicy(
            "min_split",
            sort=(InRegionKey(), DistanceKey()),
            split="min_packages",
            description="Fewest packages, then in the destination's region, then distance.",
        ),
        RulePolicy(
            "cost",
            sort=(CostKey(), DistanceKey()),
            split="min_cost",
            description="Minimum landed cost (shipping + handling); package fee = split penalty.",
        ),
        RulePolicy(
            "balance",
            sort=(DaysOfCoverKey(), DistanceKey()),
            description="Most days of cover for the ordered SKUs first, then distance.",
        ),
        RulePolicy(
            "store_first",
            sort=(_STORES_THEN_DCS, DistanceKey()),
            description="Stores and dark stores before DCs, then distance.",
        ),
        RulePolicy(
            "dc_first",
            sort=(_DCS_THEN_STORES, DistanceKey()),
            description="Warehouses, 3PLs and wholesale DCs before stores, then distance.",
        ),
    )
}
"""Built-in parameterless policies by name (`ranked` takes a `priority` list)."""

for _name, _policy in BUILTIN_POLICIES.items():
    register_policy(_name, _fixed(_policy))
register_policy("ranked", _ranked)

BOPIS_POLICY = RulePolicy(
    "bopis", sort=(DistanceKey(),), split="no_split", description="Pickup store, else nearest."
)
"""Used by the router for BOPIS orders: one store, nearest to the chosen pickup store."""
