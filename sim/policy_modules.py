"""Policy specs from the command line: Python policies as ``module.path:NAME``, and
`policy_problem`, the one check of any spec (a name, a rules file or a module).

Importing the module registers the policy (``engine.routing.register_policy("NAME", ...)``
at its top level); ``NAME`` is then a registered policy. The current folder is searched
first, as ``python -m`` would, so a ``my_policies.py`` beside the scenario works as
``--policy my_policies:NAME``. Worker processes import the module again by the same spec.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from engine.errors import RoutingError, RuleError
from engine.routing.policies import RulePolicy, available_policies
from engine.routing.rules import load_policy_spec, policy_file_spec

__all__ = ["import_policy", "module_spec", "policy_problem", "registered_by", "rules_policy"]

_REGISTERED: dict[str, frozenset[str]] = {}
"""Module -> the policy names registered while it was first imported in this process
(those of the modules it imports in turn included: the app offers them all by the spec
only, which is safe, as the spec's import registers them again in a worker)."""


def module_spec(text: str) -> tuple[str, str] | None:
    """``(module, name)`` of a ``module.path:NAME`` spec, else None (a name or a file)."""
    if policy_file_spec(text) is not None or ":" not in text:
        return None
    module, _, name = text.rpartition(":")
    if name and all(part.isidentifier() for part in module.split(".")):
        return module, name
    return None


def import_policy(text: str) -> str:
    """Import the module of a ``module.path:NAME`` spec; returns the registered ``NAME``.

    Raises:
        RoutingError: Not such a spec, the module cannot be imported, or it registers no
            policy ``NAME``.
    """
    spec = module_spec(text)
    if spec is None:
        raise RoutingError(f"policy {text!r}: expected module.path:NAME")
    module, name = spec
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    before = set(available_policies())
    try:
        importlib.import_module(module)
    except Exception as exc:  # the module's own error, in one line
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise RoutingError(f"policy {text!r}: cannot import {module!r}: {reason}") from None
    _REGISTERED.setdefault(module, frozenset(set(available_policies()) - before))
    if name not in available_policies():
        known = ", ".join(available_policies())
        raise RoutingError(
            f"policy {text!r}: importing {module!r} registered no policy {name!r} "
            f"(registered: {known})"
        )
    return name


def registered_by(text: str) -> frozenset[str]:
    """The policy names that importing the module of the ``module:NAME`` spec `text`
    registered in this process (empty before `import_policy`, or for another spec)."""
    spec = module_spec(text)
    return _REGISTERED.get(spec[0], frozenset()) if spec else frozenset()


def rules_policy(text: str) -> RulePolicy:
    """The policy of a rules-file spec ``FILE[:NAME]`` (`policy_problem`'s check of one).

    Raises:
        RuleError: the file is missing or not a file, or the errors of `load_policy_spec`.
    """
    rules = policy_file_spec(text)
    if rules is not None and not Path(rules[0]).is_file():
        what = "is not a file" if Path(rules[0]).exists() else "not found"
        raise RuleError(f"policy file {rules[0]!r} {what}")
    return load_policy_spec(text)


def policy_problem(text: str) -> str | None:
    """Why the policy spec `text` cannot be used, in one line, or None when it can: a
    rules file ``FILE[:NAME]`` must exist and name one valid policy, a ``module:NAME``
    must import and register ``NAME``, any other text must be a registered name."""
    if policy_file_spec(text) is not None:
        try:
            rules_policy(text)
        except RuleError as exc:
            return str(exc)
        return None
    if module_spec(text):
        try:
            import_policy(text)
        except RoutingError as exc:
            return str(exc)
        return None
    if text not in available_policies():
        return f"unknown policy {text!r} (available: {', '.join(available_policies())})"
    return None
