"""Routing rules as data: policies declared in YAML and loaded by name.

A rule document declares one policy, or several under `policies:`::

    name: regional_first
    description: Stay in region, DCs before stores, fewest packages.
    filters:                       # applied in order, after the router's own filters
      - capability: ship
      - kinds: [warehouse, 3pl, store]
      - max_distance_miles: 1400
      - exclude: [DC-3]
      - open_now: true
    sort:                          # most significant first; ties by network order
      - in_region
      - kind: {order: [[warehouse, 3pl], [store, dark_store]]}
      - distance
    split: min_packages            # single_then_greedy | min_packages | min_cost | no_split
    max_packages: 3

Filters: capability, kinds, max_distance_miles, exclude, open_now, in_region.
Sort keys: distance, cost, in_region, kind (`order` list; nested lists are tiers),
priority (list of location ids), days_of_cover, ats.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from engine.errors import RuleError
from engine.routing.filters import RULE_FILTERS
from engine.routing.policies import RulePolicy, available_policies, register_policy
from engine.routing.ranking import SORT_KEYS
from engine.routing.split import SPLITS

__all__ = [
    "RULES_FILE_KEYS",
    "load_policy_file",
    "load_policy_spec",
    "policies_from_document",
    "policy_file_digest",
    "policy_file_spec",
    "policy_from_rules",
    "policy_spec_from",
]

_TOP_KEYS = {"name", "description", "filters", "sort", "split", "max_packages"}
RULES_FILE_KEYS = frozenset(_TOP_KEYS | {"policies"})
"""Top-level keys a rules file may have: one policy's, or a ``policies:`` list."""
_SCENARIO_KEYS = {"network", "demand", "catalogue", "horizon_days"}
"""Top-level keys of a scenario file that no rules file has."""
_FROM_RULE_FILES: set[str] = set()
"""Names registered by `load_policy_file`; only these may be registered again by a file."""


def _single_item(item: Any, where: str) -> tuple[str, Any]:
    """A list entry is a bare name or a one-key mapping `{name: value}`."""
    if isinstance(item, str):
        return item, None
    if isinstance(item, Mapping) and len(item) == 1:
        ((key, value),) = item.items()
        if isinstance(key, str):
            return key, value
    raise RuleError(f"{where}: expected a name or a one-key mapping, got {item!r}")


def _parse_items(
    items: list, where: str, noun: str, parsers: Mapping[str, Callable[[Any], Any]]
) -> list:
    """Parse a list of filters or sort keys; errors name the entry (`where[i]`) and why."""
    out = []
    for i, item in enumerate(items):
        rule = f"{where}[{i}]"
        key, value = _single_item(item, rule)
        parse = parsers.get(key)
        if parse is None:
            raise RuleError(f"{rule}: unknown {noun} {key!r} (known: {', '.join(parsers)})")
        try:
            out.append(parse(value))
        except (TypeError, ValueError) as exc:
            raise RuleError(f"{rule} ({key}): {exc}") from None
    return out


def policy_from_rules(rules: Mapping[str, Any], source: str = "<rules>") -> RulePolicy:
    """Build a `RulePolicy` from one rule mapping (a parsed YAML document).

    Args:
        rules: Mapping with `name`, optional `description`, `filters`, `sort`, `split`,
            `max_packages`.
        source: File name (or other origin) used in error messages.

    Raises:
        RuleError: Naming the source, the policy and the offending rule, and why.
    """
    if not isinstance(rules, Mapping):
        raise RuleError(f"{source}: a policy must be a mapping, got {type(rules).__name__}")
    name = rules.get("name")
    if not isinstance(name, str) or not name:
        raise RuleError(f"{source}: policy needs a non-empty string 'name', got {name!r}")
    where = f"{source}: policy {name!r}"
    unknown = sorted(set(rules) - _TOP_KEYS)
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {unknown} (known: {sorted(_TOP_KEYS)})")

    def section(key: str) -> list:
        value = rules.get(key) or []
        if not isinstance(value, list):
            raise RuleError(f"{where}: {key} must be a list, got {type(value).__name__}")
        return value

    filters = _parse_items(section("filters"), f"{where} filters", "filter", RULE_FILTERS)
    sort = _parse_items(section("sort"), f"{where} sort", "sort key", SORT_KEYS)
    if not sort:
        sort = [SORT_KEYS["distance"](None)]

    split = rules.get("split", "single_then_greedy")
    max_packages = rules.get("max_packages")
    if isinstance(split, Mapping):
        extra = sorted(set(split) - {"strategy", "max_packages"})
        if extra:
            raise RuleError(f"{where} split: unknown key(s) {extra}")
        max_packages = split.get("max_packages", max_packages)
        split = split.get("strategy", "single_then_greedy")
    if split not in SPLITS:
        raise RuleError(f"{where} split: unknown strategy {split!r} (known: {', '.join(SPLITS)})")
    if max_packages is not None and (
        isinstance(max_packages, bool) or not isinstance(max_packages, int) or max_packages < 1
    ):
        raise RuleError(f"{where} max_packages: must be an integer >= 1, got {max_packages!r}")
    description = rules.get("description", "")
    if not isinstance(description, str):
        raise RuleError(f"{where} description: must be a string")
    return RulePolicy(name, tuple(filters), tuple(sort), split, max_packages, description)


def policies_from_document(doc: Any, source: str = "<rules>") -> list[RulePolicy]:
    """Policies of a parsed rule document: one policy, or a `policies:` list.

    Raises:
        RuleError: For an invalid policy, a duplicate name within the document, or an
            unknown top-level key in a document with neither `policies` nor `name`.
    """
    if isinstance(doc, Mapping) and "policies" in doc:
        extra = sorted(set(doc) - {"policies"})
        if extra:
            raise RuleError(f"{source}: unknown top-level key(s) {extra} next to 'policies'")
        items = doc["policies"]
        if not isinstance(items, list) or not items:
            raise RuleError(f"{source}: 'policies' must be a non-empty list")
    else:
        unknown = sorted(str(k) for k in set(doc) - _TOP_KEYS) if isinstance(doc, Mapping) else []
        if unknown and "name" not in doc:  # e.g. a misspelt `policies:`: name the key
            raise RuleError(
                f"{source}: unknown top-level key(s) {unknown} (known: 'policies', or those "
                f"of one policy: {sorted(_TOP_KEYS)})"
            )
        items = [doc]
    out: list[RulePolicy] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        policy = policy_from_rules(item, f"{source} policies[{i}]" if len(items) > 1 else source)
        if policy.name in seen:
            raise RuleError(f"{source}: policy {policy.name!r} policies[{i}]: duplicate name")
        seen.add(policy.name)
        out.append(policy)
    return out


def load_policy_file(path: str | Path, register: bool = True) -> list[RulePolicy]:
    """Load a YAML rule file and (by default) register each policy by its name.

    Re-loading a file replaces earlier registrations of the same names. A name registered
    in code (the built-ins such as `closest`, `ranked` and the LP policies `lookahead`,
    `lp_rounding` and `batch`, or any `register_policy` call) is never replaced.

    Args:
        path: YAML file with one policy or a `policies:` list.
        register: Register the policies so `get_policy(name)` and `Router(policy=name)` work.

    Returns:
        The policies, in file order.

    Raises:
        RuleError: Unreadable file, invalid YAML, an invalid rule, or (with `register`) a
            name already registered in code (the message names the file, the policy and
            the rule, and the reason). Nothing is registered from a file that fails.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise RuleError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        doc = yaml.safe_load(text)
    except RecursionError:
        raise RuleError(f"{path}: invalid YAML: nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # e.g. a date that does not exist
        raise RuleError(f"{path}: invalid YAML: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise RuleError(f"{path}: invalid YAML{at}: {getattr(exc, 'problem', exc)}") from None
    if doc is None:
        raise RuleError(f"{path}: rule file is empty")
    if isinstance(doc, Mapping) and doc.keys() & _SCENARIO_KEYS:
        raise RuleError(f"{path}: is a scenario file, not a policy rules file")
    policies = policies_from_document(doc, str(path))
    if register:
        # Whatever registered a name other than a rule file (this module, the LP package,
        # user code) is built in: a YAML file must not silently swap it out.
        builtin = set(available_policies()) - _FROM_RULE_FILES
        for i, policy in enumerate(policies):
            if policy.name in builtin:
                raise RuleError(
                    f"{path}: policy {policy.name!r} policies[{i}]: name clashes with a "
                    "built-in policy; choose another name"
                )
        for policy in policies:
            register_policy(policy.name, _factory(policy), replace=True)
            _FROM_RULE_FILES.add(policy.name)
    return policies


def policy_file_spec(text: str) -> tuple[str, str | None] | None:
    """``(file, name)`` of a rules-file policy ``FILE`` or ``FILE:NAME`` (``FILE`` ending in
    ``.yaml`` or ``.yml``; ``name`` None without ``:NAME``), or None for a policy name."""
    low = text.lower()
    for ext in (".yaml:", ".yml:"):
        i = low.rfind(ext)
        if i >= 0:
            cut = i + len(ext) - 1
            return text[:cut], text[cut + 1 :].strip()
    if low.endswith((".yaml", ".yml")):
        return text, None
    return None


def policy_spec_from(
    text: str, folder: str | Path, *, relative_to: str | Path | None = None
) -> str:
    """`text` with the relative ``FILE`` of a rules-file spec (``FILE[:NAME]``) read from
    `folder` and made absolute, so the spec names the same file from any current folder
    (``~/FILE`` is read from the home folder); a policy name, a Python ``module:NAME`` and
    an absolute ``FILE`` come back as they are.

    With `relative_to`, ``FILE`` (an absolute one too) is written relative to that folder
    instead, e.g. to name it from a file kept there."""
    spec = policy_file_spec(text)
    if spec is None or (relative_to is None and Path(spec[0]).is_absolute()):
        return text
    path = (Path(folder) / Path(spec[0]).expanduser()).resolve()
    file = str(path) if relative_to is None else os.path.relpath(path, Path(relative_to).resolve())
    return file if spec[1] is None else f"{file}:{spec[1]}"


def policy_file_digest(text: str) -> str | None:
    """SHA-256 (hex) of the rules file of a ``FILE[:NAME]`` spec, or None when `text` names
    no readable file: what a run made with the spec depends on besides the name."""
    spec = policy_file_spec(text)
    if spec is None or not Path(spec[0]).is_file():
        return None
    return hashlib.sha256(Path(spec[0]).read_bytes()).hexdigest()


def load_policy_spec(text: str, register: bool = False) -> RulePolicy:
    """The policy a ``FILE`` or ``FILE:NAME`` spec names (see `policy_file_spec`).

    ``FILE`` alone must hold one policy; ``FILE:NAME`` picks one of several by its name.

    Raises:
        RuleError: Not a rules-file spec, the errors of `load_policy_file`, a file of
            several policies without ``:NAME``, or a name the file does not hold.
    """
    spec = policy_file_spec(text)
    if spec is None:
        raise RuleError(f"{text!r} is not a rules file (FILE.yaml or FILE.yaml:NAME)")
    path, name = spec
    policies = load_policy_file(path, register=register)
    names = [p.name for p in policies]
    if name is None:
        if len(policies) > 1:
            raise RuleError(
                f"{path}: holds {len(policies)} policies ({', '.join(names)}); "
                f"name one, e.g. {path}:{names[0]}"
            )
        return policies[0]
    for policy in policies:
        if policy.name == name:
            return policy
    raise RuleError(f"{path}: no policy {name!r} in the file (it holds: {', '.join(names)})")


def _factory(policy: RulePolicy):
    def factory() -> RulePolicy:
        return policy

    return factory
